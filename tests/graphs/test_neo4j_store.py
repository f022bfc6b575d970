"""Neo4j-only behaviour of ``Neo4jGraphStore``: what the shared contract cannot express.

Outages must surface as ``GraphUnavailable`` (recommendation degrades on it) and quickly,
the schema must be real constraints, and Neo4j's own value types must never reach callers.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator

import pytest
from neo4j.exceptions import ConstraintError

from graphs.base import GraphUnavailable
from graphs.neo4j import Neo4jGraphStore
from graphs.schema import NODES, NodeLabel, RelType
from tests.conftest import require_service


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.unit
def test_a_closed_port_is_graph_unavailable_and_ping_is_false() -> None:
    store = Neo4jGraphStore(f"bolt://127.0.0.1:{_closed_port()}", password="not-used-here", timeout_s=1.0)
    try:
        started = time.monotonic()
        assert store.ping() is False
        with pytest.raises(GraphUnavailable, match="unavailable"):
            store.count(NodeLabel.PRODUCT)
        # Bounded by timeout_s (the driver retries once after about a second), not its 30s default.
        assert time.monotonic() - started < 10
    finally:
        store.close()


@pytest.mark.unit
def test_a_server_that_is_down_costs_a_call_one_retry_not_a_back_off_series() -> None:
    store = Neo4jGraphStore(f"bolt://127.0.0.1:{_closed_port()}", password="not-used-here")
    try:
        started = time.monotonic()
        with pytest.raises(GraphUnavailable):
            store.query("RETURN 1 AS ok")
        assert time.monotonic() - started < 3.0
    finally:
        store.close()


@pytest.fixture
def settings_env() -> tuple[str, str, str]:
    url = require_service("IK_TEST_NEO4J_URL", "Neo4j")
    return url, os.environ.get("IK_TEST_NEO4J_USER", "neo4j"), os.environ.get("IK_TEST_NEO4J_PASSWORD", "")


@pytest.fixture
def store(settings_env: tuple[str, str, str]) -> Iterator[Neo4jGraphStore]:
    url, user, password = settings_env
    graph = Neo4jGraphStore(url, user=user, password=password)
    graph.migrate()
    graph.clear()
    try:
        yield graph
    finally:
        graph.clear()
        graph.close()


@pytest.mark.integration
def test_a_wrong_password_is_graph_unavailable(settings_env: tuple[str, str, str]) -> None:
    url, _, _ = settings_env
    # Another user than the suite's: Neo4j locks a user out for a while after failed logins.
    graph = Neo4jGraphStore(url, user="ik-nobody", password="certainly-not-the-password")
    try:
        assert graph.ping() is False
        with pytest.raises(GraphUnavailable, match="AuthError"):
            graph.count(NodeLabel.PRODUCT)
    finally:
        graph.close()


@pytest.mark.integration
def test_migrate_creates_a_unique_id_constraint_per_label(store: Neo4jGraphStore) -> None:
    rows = store.query(
        "SHOW CONSTRAINTS YIELD type, labelsOrTypes, properties "
        "WHERE type = 'UNIQUENESS' AND properties = ['id'] RETURN labelsOrTypes[0] AS label"
    )
    assert {row["label"] for row in rows} >= {label.value for label in NODES}
    store.merge_nodes(NodeLabel.PRODUCT, [{"id": "p1"}])
    with pytest.raises(ConstraintError):
        store.query("CREATE (:Product {id: 'p1'})")


@pytest.mark.integration
def test_neo4j_types_come_back_as_plain_python(store: Neo4jGraphStore) -> None:
    store.merge_nodes(NodeLabel.COLOUR, [{"id": "navy", "family": "blue", "neutral": True}])
    [row] = store.query(
        "MATCH (c:Colour {id: 'navy'}) RETURN c AS node, date('2026-11-28') AS day, "
        "datetime('2026-11-28T04:00:00Z') AS at, duration('PT90M') AS span, 7 AS n, 0.5 AS x, [1, 2] AS xs"
    )
    assert row == {
        "node": {"id": "navy", "family": "blue", "neutral": True},
        "day": "2026-11-28",
        "at": "2026-11-28T04:00:00+00:00",
        "span": "PT1H30M",
        "n": 7,
        "x": 0.5,
        "xs": [1, 2],
    }
    assert type(row["n"]) is int
    assert type(row["day"]) is str


@pytest.mark.integration
def test_clear_deletes_more_than_one_batch(store: Neo4jGraphStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("graphs.neo4j._CLEAR_BATCH", 3)
    store.merge_nodes(NodeLabel.USER, [{"id": f"u{i}"} for i in range(10)])
    store.clear()
    assert store.count(NodeLabel.USER) == 0


@pytest.mark.integration
def test_integers_for_double_properties_come_back_as_floats(store: Neo4jGraphStore) -> None:
    """Kuzu's DOUBLE columns store ``1`` as ``1.0``; Neo4j must not return ``1`` for the same query."""
    store.merge_nodes(NodeLabel.STYLE, [{"id": "Formal", "formality": 4}])
    store.merge_nodes(NodeLabel.OCCASION, [{"id": "wedding", "formality": 4}])
    store.merge_edges(
        RelType.SUITS_OCCASION,
        NodeLabel.STYLE,
        NodeLabel.OCCASION,
        [{"src": "Formal", "dst": "wedding", "weight": 1}],
    )
    [row] = store.query(
        "MATCH (s:Style)-[e:SUITS_OCCASION]->(:Occasion) RETURN e.weight AS w, s.formality AS f"
    )
    assert (row["w"], type(row["w"]), row["f"], type(row["f"])) == (1.0, float, 4, int)
