"""Full-text product search: the ``FullTextIndex`` protocol and the settings-driven builder."""

from __future__ import annotations

from core.config import Settings
from rag.fulltext.base import FullTextIndex
from rag.fulltext.elastic import ElasticFullTextIndex
from rag.fulltext.sqlite import SqliteFullTextIndex

__all__ = ["ElasticFullTextIndex", "FullTextIndex", "SqliteFullTextIndex", "build_fulltext"]


def build_fulltext(settings: Settings) -> FullTextIndex:
    """The engine ``settings.search.backend`` names: SQLite FTS5, or an Elasticsearch-API server."""
    search = settings.search
    if search.backend == "sqlite":
        return SqliteFullTextIndex(settings.resolve(search.sqlite_path))
    assert search.elasticsearch_url is not None  # guaranteed by SearchSettings validation
    return ElasticFullTextIndex(search.elasticsearch_url, search.elasticsearch_index)
