"""The fashion knowledge graph: schema, store adapters (embedded Kuzu, Neo4j), builders and Cypher queries."""

from __future__ import annotations

from core.config import Settings
from graphs.base import GraphStore, GraphUnavailable
from graphs.embedded import KuzuGraphStore
from graphs.schema import NodeLabel, RelType

__all__ = ["GraphStore", "GraphUnavailable", "KuzuGraphStore", "NodeLabel", "RelType", "build_graph_store"]


def build_graph_store(settings: Settings) -> GraphStore:
    """The graph the settings select, with its schema in place."""
    config = settings.graph
    store: GraphStore
    if config.backend == "neo4j":
        from graphs.neo4j import Neo4jGraphStore

        # GraphSettings refuses the neo4j backend without both
        assert config.neo4j_url is not None
        assert config.neo4j_password is not None
        store = Neo4jGraphStore(
            config.neo4j_url,
            user=config.neo4j_user,
            password=config.neo4j_password.get_secret_value(),
            database=config.neo4j_database,
        )
    else:
        store = KuzuGraphStore(settings.resolve(config.path))
    store.migrate()
    return store
