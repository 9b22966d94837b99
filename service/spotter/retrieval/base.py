"""What retrieval hands the turn pipeline: ranked hits from the knowledge base and the user's log."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal, Protocol

__all__ = ["RetrievalHit", "RetrievalQuery", "RetrievalResult", "Retriever"]

Source = Literal["knowledge", "workout"]


@dataclass(frozen=True, slots=True)
class RetrievalHit:
    """One retrieved document: `id` is stable, `text` is what the LLM is shown as quoted data."""

    id: str
    title: str
    source: Source
    score: float
    text: str


@dataclass(frozen=True, slots=True)
class RetrievalQuery:
    """A user's question plus what is needed to resolve "last week" in their own calendar."""

    user_id: str
    text: str
    today: date
    timezone: str = "UTC"
    top_k: int = 4


@dataclass(frozen=True, slots=True)
class RetrievalResult:
    """Hits in rank order; `degraded` is true when a store was unreachable and results are partial."""

    hits: tuple[RetrievalHit, ...] = field(default_factory=tuple)
    degraded: bool = False


class Retriever(Protocol):
    """Searches the knowledge base and the asking user's workouts, never another user's."""

    async def retrieve(self, query: RetrievalQuery) -> RetrievalResult:
        """Rank documents for `query`; never raises for an unreachable store (sets `degraded`)."""
        ...
