"""Full-text product search: the ``FullTextIndex`` protocol and the settings-driven builder."""

from __future__ import annotations

from core.config import Settings
from rag.fulltext.base import FullTextIndex
from rag.fulltext.sqlite import SqliteFullTextIndex

__all__ = ["FullTextIndex", "SqliteFullTextIndex", "build_fulltext"]


def build_fulltext(settings: Settings) -> FullTextIndex:
    """The engine ``settings.search.backend`` names (only the embedded SQLite FTS5 so far)."""
    backend = settings.search.backend
    if backend == "sqlite":
        return SqliteFullTextIndex(settings.resolve(settings.search.sqlite_path))
    raise ValueError(f"unknown search backend {backend!r}")
