"""Builds the language model `SPOTTER_LLM` selects, so the app never branches on the backend."""

from __future__ import annotations

from spotter.llm.base import LanguageModel
from spotter.llm.offline import OfflineModel
from spotter.settings import Settings

__all__ = ["build_language_model"]


def build_language_model(settings: Settings) -> LanguageModel:
    """The configured backend: `offline` (default, no network) or `anthropic`."""
    if settings.llm == "anthropic":
        # Imported here: the SDK takes seconds of CPU to import, which offline runs never need.
        from spotter.llm.anthropic_model import AnthropicModel

        return AnthropicModel.from_settings(settings)
    return OfflineModel(token_delay_seconds=settings.offline_token_delay_seconds)
