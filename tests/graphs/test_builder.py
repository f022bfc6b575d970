"""Building the knowledge graph and running recommendation's Cypher queries on it (embedded)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from graphs import queries
from graphs.builder import UserEdge, build, rebuild, sync_products, sync_user_edges
from graphs.embedded import KuzuGraphStore
from graphs.polyvore import GoesWith
from graphs.schema import NodeLabel, RelType


@dataclass(frozen=True)
class Item:
    id: str
    name: str
    gender: str | None
    article_type: str | None
    colour: str | None
    usage: str | None
    season: str | None


ITEMS = [
    Item("p1", "Navy Shirt", "Men", "Shirts", "Navy Blue", "Formal", "Fall"),
    Item("p2", "Grey Trousers", "Men", "Trousers", "Grey", "Formal", "Fall"),
    Item("p3", "Black Derby", "Men", "Formal Shoes", "Black", "Formal", "Winter"),
    Item("p4", "Blue Jeans", "Men", "Jeans", "Blue", "Casual", "Summer"),
    Item("p5", "Rose Lotion", "Women", "Body Lotion", "Pink", "Casual", "Summer"),
]
PAIRS = [
    GoesWith("Shirts", "Trousers", 0.9, 12),
    GoesWith("Shirts", "Jeans", 0.6, 8),
    GoesWith("Shirts", "Nope", 1, 1),
]


@pytest.fixture
def graph() -> Iterator[KuzuGraphStore]:
    store = KuzuGraphStore(None)
    store.migrate()
    yield store
    store.close()


def test_only_pieces_worn_in_outfits_become_products() -> None:
    rows = build(ITEMS, PAIRS)
    assert [node["id"] for node in rows.nodes[NodeLabel.PRODUCT]] == ["p1", "p2", "p3", "p4"]
    counts = rows.counts()
    assert counts["GOES_WITH"] == 4  # both directions of the two known pairs; unknown categories dropped
    assert counts["IN_CATEGORY"] == 4
    assert counts["COLOUR_HARMONY"] > 100


def test_rebuild_and_rule_tables(graph: KuzuGraphStore) -> None:
    counts = rebuild(graph, ITEMS, PAIRS, [UserEdge(RelType.BOUGHT, "u1", "p1", "2026-11-01T00:00:00")])
    assert graph.count(NodeLabel.PRODUCT) == counts["Product"] == 4
    rules = queries.rule_tables(graph)
    assert rules.goes_with[("Trousers", "Shirts")] == pytest.approx(0.9)
    assert rules.harmony[("Navy Blue", "White")][1] == "neutral"
    assert rules.style_occasion[("Formal", "wedding")] == 1.0
    assert rules.category_occasion[("Formal Shoes", "work")] == 1.0


def test_user_queries_follow_likes_and_purchases(graph: KuzuGraphStore) -> None:
    rebuild(graph, ITEMS, PAIRS, [UserEdge(RelType.BOUGHT, "u1", "p1", "2026-11-01T00:00:00")])
    assert queries.complement_categories(graph, "u1") == {}  # a BOUGHT edge alone (a gift) is not owned
    assert queries.add_user_edge(graph, UserEdge(RelType.OWNS, "u1", "p1", "2026-11-01T00:00:00"))
    assert queries.add_user_edge(graph, UserEdge(RelType.LIKED, "u1", "p4", "2026-11-02T00:00:00"))
    assert not queries.add_user_edge(graph, UserEdge(RelType.LIKED, "u1", "p404", None))
    complements = queries.complement_categories(graph, "u1")
    assert complements == pytest.approx({"Trousers": 0.9, "Jeans": 0.6})
    liked = "MATCH (:User {id: $u})-[:LIKED]->(p:Product) RETURN p.id AS id"
    assert graph.query(liked, {"u": "u1"}) == [{"id": "p4"}]
    assert queries.remove_user_edge(graph, RelType.LIKED, "u1", "p4")
    assert graph.query(liked, {"u": "u1"}) == []
    assert graph.count_edges(RelType.BOUGHT) == graph.count_edges(RelType.OWNS) == 1


def test_sync_products_moves_changed_attributes(graph: KuzuGraphStore) -> None:
    rebuild(graph, ITEMS, PAIRS)
    recoloured = Item("p1", "Navy Shirt", "Men", "Shirts", "White", "Formal", "Fall")
    assert sync_products(graph, [recoloured, ITEMS[4]]) == 1
    colours = graph.query("MATCH (:Product {id: 'p1'})-[:HAS_COLOUR]->(c:Colour) RETURN c.id AS id")
    assert colours == [{"id": "White"}]
    harmonious = graph.query(
        "MATCH (:Product {id: 'p1'})-[:HAS_COLOUR]->(:Colour)-[:COLOUR_HARMONY]->(c:Colour) RETURN c.id AS id"
    )
    assert {row["id"] for row in harmonious} >= {"Black", "Red"}


def test_sync_user_edges_brings_a_graph_that_missed_writes_in_line(graph: KuzuGraphStore) -> None:
    at = "2026-11-01T00:00:00"
    rebuild(
        graph,
        ITEMS,
        PAIRS,
        [UserEdge(RelType.LIKED, "u1", "p1", at), UserEdge(RelType.LIKED, "u1", "p2", at)],
    )
    # While the graph was away: p2 was unliked, p4 liked, p3 bought (by a person it never saw).
    truth = [
        UserEdge(RelType.LIKED, "u1", "p1", at),
        UserEdge(RelType.LIKED, "u1", "p4", at),
        UserEdge(RelType.BOUGHT, "u2", "p3", at),
        UserEdge(RelType.OWNS, "u2", "p3", at),
    ]
    done = sync_user_edges(graph, truth)
    assert done["deleted"] == 1
    liked = "MATCH (u:User)-[:LIKED]->(p:Product) RETURN u.id AS u, p.id AS p"
    assert sorted((row["u"], row["p"]) for row in graph.query(liked)) == [("u1", "p1"), ("u1", "p4")]
    assert queries.complement_categories(graph, "u2") == {}  # Formal Shoes have no GOES_WITH here
    assert graph.count_edges(RelType.BOUGHT) == graph.count_edges(RelType.OWNS) == 1
    # Syncing again changes nothing: it is safe to repeat after every outage.
    assert "deleted" not in sync_user_edges(graph, truth)
    assert graph.count_edges(RelType.LIKED) == 2
