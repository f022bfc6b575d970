"""One contract for every ``GraphStore``: the embedded Kuzu graph and a real Neo4j server.

The shared queries in ``graphs.queries`` are run here too, on both engines, because the
Cypher dialects differ in corners (list indexing, label functions) that only running shows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from graphs import GraphStore, KuzuGraphStore
from graphs.base import EdgeBatch
from graphs.schema import GraphSchemaError, NodeLabel, RelType
from tests.conftest import require_service


@pytest.fixture(
    params=[
        pytest.param("embedded", marks=pytest.mark.unit),
        pytest.param("neo4j", marks=pytest.mark.integration),
    ]
)
def graph(request: pytest.FixtureRequest) -> Iterator[GraphStore]:
    store: GraphStore
    if request.param == "embedded":
        store = KuzuGraphStore(None)
    else:
        url = require_service("IK_TEST_NEO4J_URL", "Neo4j")
        from graphs.neo4j import Neo4jGraphStore

        store = Neo4jGraphStore(
            url,
            user=os.environ.get("IK_TEST_NEO4J_USER", "neo4j"),
            password=os.environ.get("IK_TEST_NEO4J_PASSWORD", ""),
            database="neo4j",
        )
    store.migrate()
    store.clear()
    try:
        yield store
    finally:
        store.clear()
        store.close()


def _products(*ids: str) -> list[dict[str, object]]:
    return [{"id": pid, "name": f"Product {pid}", "kind": "top", "formality": 2} for pid in ids]


def test_migrate_is_idempotent(graph: GraphStore) -> None:
    graph.migrate()
    graph.migrate()
    assert graph.ping()


def test_merge_nodes_upserts_by_id_and_nulls_missing_properties(graph: GraphStore) -> None:
    assert graph.merge_nodes(NodeLabel.PRODUCT, _products("p1", "p2")) == 2
    graph.merge_nodes(NodeLabel.PRODUCT, [{"id": "p1", "name": "Renamed"}])
    rows = graph.query(
        "MATCH (p:Product) RETURN p.id AS id, p.name AS name, p.formality AS formality ORDER BY id"
    )
    assert rows == [
        {"id": "p1", "name": "Renamed", "formality": None},
        {"id": "p2", "name": "Product p2", "formality": 2},
    ]
    assert graph.count(NodeLabel.PRODUCT) == 2


def test_unknown_properties_and_bad_ids_are_refused(graph: GraphStore) -> None:
    with pytest.raises(GraphSchemaError, match="no properties"):
        graph.merge_nodes(NodeLabel.PRODUCT, [{"id": "p1", "price": 3.0}])
    with pytest.raises(GraphSchemaError, match="non-empty string id"):
        graph.merge_nodes(NodeLabel.COLOUR, [{"id": ""}])
    with pytest.raises(GraphSchemaError, match="does not join"):
        graph.merge_edges(RelType.GOES_WITH, NodeLabel.PRODUCT, NodeLabel.PRODUCT, [{"src": "a", "dst": "b"}])
    assert graph.count(NodeLabel.PRODUCT) == 0


def test_merge_edges_upserts_properties_and_skips_missing_ends(graph: GraphStore) -> None:
    graph.merge_nodes(NodeLabel.CATEGORY, [{"id": "Shirts"}, {"id": "Jeans"}, {"id": "Heels"}])
    merged = graph.merge_edges(
        RelType.GOES_WITH,
        NodeLabel.CATEGORY,
        NodeLabel.CATEGORY,
        [
            {"src": "Shirts", "dst": "Jeans", "weight": 1.5, "support": 10, "source": "polyvore"},
            {"src": "Shirts", "dst": "Nowhere", "weight": 9.0, "support": 1, "source": "polyvore"},
        ],
    )
    assert merged == 1
    graph.merge_edges(
        RelType.GOES_WITH,
        NodeLabel.CATEGORY,
        NodeLabel.CATEGORY,
        [{"src": "Shirts", "dst": "Jeans", "weight": 2.5, "support": 12, "source": "polyvore"}],
    )
    rows = graph.query(
        "MATCH (a:Category {id: $a})-[g:GOES_WITH]->(b:Category) "
        "RETURN b.id AS id, g.weight AS w, g.support AS n",
        {"a": "Shirts"},
    )
    assert rows == [{"id": "Jeans", "w": 2.5, "n": 12}]
    assert graph.count_edges(RelType.GOES_WITH) == 1


def test_a_relationship_with_two_end_pairs_keeps_them_apart(graph: GraphStore) -> None:
    graph.merge_nodes(NodeLabel.STYLE, [{"id": "Formal", "formality": 4}])
    graph.merge_nodes(NodeLabel.CATEGORY, [{"id": "Heels", "kind": "shoes", "slot": "shoes"}])
    graph.merge_nodes(NodeLabel.OCCASION, [{"id": "wedding", "formality": 4}])
    graph.merge_edges(
        RelType.SUITS_OCCASION,
        NodeLabel.STYLE,
        NodeLabel.OCCASION,
        [{"src": "Formal", "dst": "wedding", "weight": 1.0}],
    )
    graph.merge_edges(
        RelType.SUITS_OCCASION,
        NodeLabel.CATEGORY,
        NodeLabel.OCCASION,
        [{"src": "Heels", "dst": "wedding", "weight": 0.5}],
    )
    by_style = graph.query(
        "MATCH (s:Style)-[e:SUITS_OCCASION]->(o:Occasion {id: $o}) RETURN s.id AS id, e.weight AS w",
        {"o": "wedding"},
    )
    by_category = graph.query(
        "MATCH (c:Category)-[e:SUITS_OCCASION]->(o:Occasion {id: $o}) RETURN c.id AS id, e.weight AS w",
        {"o": "wedding"},
    )
    assert by_style == [{"id": "Formal", "w": 1.0}]
    assert by_category == [{"id": "Heels", "w": 0.5}]
    assert graph.count_edges(RelType.SUITS_OCCASION) == 2


def test_delete_edges_counts_what_existed(graph: GraphStore) -> None:
    graph.merge_nodes(NodeLabel.USER, [{"id": "u1"}])
    graph.merge_nodes(NodeLabel.PRODUCT, _products("p1", "p2"))
    graph.merge_edges(
        RelType.LIKED,
        NodeLabel.USER,
        NodeLabel.PRODUCT,
        [{"src": "u1", "dst": "p1", "at": "2026-11-28T04:00:00Z"}, {"src": "u1", "dst": "p2", "at": None}],
    )
    assert (
        graph.delete_edges(RelType.LIKED, NodeLabel.USER, NodeLabel.PRODUCT, [("u1", "p1"), ("u1", "p9")])
        == 1
    )
    rows = graph.query("MATCH (:User {id: $u})-[:LIKED]->(p:Product) RETURN p.id AS id", {"u": "u1"})
    assert rows == [{"id": "p2"}]


def test_aggregates_optional_match_and_collect(graph: GraphStore) -> None:
    graph.merge_nodes(NodeLabel.PRODUCT, _products("p1", "p2", "p3"))
    graph.merge_nodes(NodeLabel.COLOUR, [{"id": "navy", "family": "blue", "neutral": True}, {"id": "red"}])
    graph.merge_edges(
        RelType.HAS_COLOUR,
        NodeLabel.PRODUCT,
        NodeLabel.COLOUR,
        [{"src": "p1", "dst": "navy"}, {"src": "p2", "dst": "navy"}, {"src": "p3", "dst": "red"}],
    )
    rows = graph.query(
        "MATCH (c:Colour) OPTIONAL MATCH (p:Product)-[:HAS_COLOUR]->(c) "
        "WITH c, count(p) AS n, collect(p.id) AS ids RETURN c.id AS colour, c.neutral AS neutral, n, ids "
        "ORDER BY n DESC, colour"
    )
    assert [(row["colour"], row["neutral"], row["n"], sorted(row["ids"])) for row in rows] == [
        ("navy", True, 2, ["p1", "p2"]),
        ("red", None, 1, ["p3"]),
    ]


def test_unwind_parameters_and_in_lists(graph: GraphStore) -> None:
    graph.merge_nodes(NodeLabel.PRODUCT, _products("p1", "p2", "p3"))
    rows = graph.query(
        "UNWIND $ids AS pid MATCH (p:Product {id: pid}) WHERE p.id IN $keep RETURN p.id AS id ORDER BY id",
        {"ids": ["p1", "p2", "p3", "p4"], "keep": ["p3", "p1"]},
    )
    assert rows == [{"id": "p1"}, {"id": "p3"}]


def test_clear_removes_everything_but_keeps_the_schema(graph: GraphStore) -> None:
    graph.merge_nodes(NodeLabel.PRODUCT, _products("p1"))
    graph.merge_nodes(NodeLabel.USER, [{"id": "u1"}])
    graph.merge_edges(RelType.OWNS, NodeLabel.USER, NodeLabel.PRODUCT, [{"src": "u1", "dst": "p1"}])
    graph.clear()
    assert graph.count(NodeLabel.PRODUCT) == 0
    assert graph.count_edges(RelType.OWNS) == 0
    assert graph.merge_nodes(NodeLabel.PRODUCT, _products("p2")) == 1


def test_load_replaces_the_graph_in_one_go(graph: GraphStore) -> None:
    graph.merge_nodes(NodeLabel.PRODUCT, _products("old"))
    graph.load(
        {
            NodeLabel.PRODUCT: _products("p1", "p2"),
            NodeLabel.STYLE: [{"id": "Formal", "formality": 4}],
            NodeLabel.CATEGORY: [{"id": "Heels", "kind": "shoes", "slot": "shoes"}],
            NodeLabel.OCCASION: [{"id": "wedding", "formality": 4}],
            NodeLabel.COLOUR: [
                {"id": "Black", "family": "black", "neutral": True},
                {"id": "Red", "neutral": False},
            ],
        },
        [
            EdgeBatch(
                RelType.HAS_STYLE, NodeLabel.PRODUCT, NodeLabel.STYLE, [{"src": "p1", "dst": "Formal"}]
            ),
            EdgeBatch(
                RelType.SUITS_OCCASION,
                NodeLabel.STYLE,
                NodeLabel.OCCASION,
                [{"src": "Formal", "dst": "wedding", "weight": 1.0, "source": "rule"}],
            ),
            EdgeBatch(
                RelType.SUITS_OCCASION,
                NodeLabel.CATEGORY,
                NodeLabel.OCCASION,
                [{"src": "Heels", "dst": "wedding", "weight": 0.75, "source": "rule"}],
            ),
            EdgeBatch(
                RelType.COLOUR_HARMONY,
                NodeLabel.COLOUR,
                NodeLabel.COLOUR,
                [{"src": "Black", "dst": "Red", "weight": 0.8, "source": "rule", "rule": "neutral"}],
            ),
        ],
    )
    assert graph.count(NodeLabel.PRODUCT) == 2
    rows = graph.query(
        "MATCH (p:Product)-[:HAS_STYLE]->(:Style)-[s:SUITS_OCCASION]->(o:Occasion) "
        "RETURN p.id AS id, p.formality AS f, o.id AS occasion, s.weight AS w"
    )
    assert rows == [{"id": "p1", "f": 2, "occasion": "wedding", "w": 1.0}]
    colours = graph.query(
        "MATCH (a:Colour)-[h:COLOUR_HARMONY]->(b:Colour) "
        "RETURN a.neutral AS a, b.neutral AS b, h.rule AS rule"
    )
    assert colours == [{"a": True, "b": False, "rule": "neutral"}]
    assert graph.count_edges(RelType.SUITS_OCCASION) == 2


def test_load_refuses_dangling_relationships_and_duplicate_ids(graph: GraphStore) -> None:
    with pytest.raises(GraphSchemaError, match="not loaded"):
        graph.load(
            {NodeLabel.USER: [{"id": "u1"}]},
            [EdgeBatch(RelType.LIKED, NodeLabel.USER, NodeLabel.PRODUCT, [{"src": "u1", "dst": "p404"}])],
        )
    with pytest.raises(GraphSchemaError, match="duplicate"):
        graph.load({NodeLabel.USER: [{"id": "u1"}, {"id": "u1"}]}, [])
