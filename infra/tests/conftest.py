"""Fixtures the infra tests share with the service tests: the session's one built knowledge index."""

from __future__ import annotations

from tests.conftest import built_index

__all__ = ["built_index"]
