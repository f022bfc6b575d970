"""The full-text index contract, so SQLite FTS5 (embedded) and Elasticsearch (production) swap freely.

The index stores whole ``ProductDoc``s: search answers ids, and ``get`` turns them back into
documents without a second store. Callers hand it either raw text (the engine tokenises it,
translating Chinese through the lexicon) or terms already read by ``rag.query``.
``prefer`` carries soft attribute values (season, usage) that rank matching products first
without filtering; an Elasticsearch adapter maps them to ``should`` clauses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from rag.documents import EngineResult, ProductDoc, SearchFilters

#: Deepest page a caller may ask for (offset + limit); deeper paging is a scraper, not a person.
MAX_WINDOW = 10_100


@runtime_checkable
class FullTextIndex(Protocol):
    """Keyword search over product documents with filters and facet counts."""

    def ensure(self) -> None:
        """Create the index if missing (idempotent)."""
        ...

    def upsert(self, docs: Sequence[ProductDoc]) -> None:
        """Insert or replace documents by id."""
        ...

    def delete(self, ids: Sequence[str]) -> None:
        """Remove documents; unknown ids are ignored."""
        ...

    def get(self, ids: Sequence[str]) -> list[ProductDoc]:
        """Documents in the order asked; unknown ids are left out."""
        ...

    def count(self) -> int: ...

    def search(
        self,
        text: str | Sequence[str],
        filters: SearchFilters | None = None,
        *,
        limit: int = 10,
        offset: int = 0,
        facets: bool = False,
        prefer: SearchFilters | None = None,
    ) -> EngineResult:
        """Ranked ids matching ``text`` (any of its words) and ``filters``.

        Empty text browses: every product passing ``filters``, in stock first, newest first,
        then by id. ``facets`` counts each ``FACET_FIELDS`` value over all matches.
        """
        ...

    def clear(self) -> None:
        """Remove every document (keeps the index itself)."""
        ...

    def ping(self) -> bool:
        """Whether the index answers; never raises."""
        ...

    def close(self) -> None: ...


def check_page(limit: int, offset: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ValueError(f"limit must be a non-negative integer, got {limit!r}")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValueError(f"offset must be a non-negative integer, got {offset!r}")
    if limit + offset > MAX_WINDOW:
        raise ValueError(f"offset + limit must be at most {MAX_WINDOW}, got {offset + limit}")
