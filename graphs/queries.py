"""The Cypher queries recommendation runs, in the dialect subset Kuzu and Neo4j share.

Rules are small (a few thousand edges), so they are read once into ``RuleTables`` and
consulted in memory on every request. The per-person traversal (which categories complement
what someone owns) runs per request: a short path from one ``User`` node.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from graphs.base import GraphStore
from graphs.builder import UserEdge
from graphs.schema import NodeLabel, RelType

GOES_WITH = "MATCH (a:Category)-[g:GOES_WITH]->(b:Category) RETURN a.id AS a, b.id AS b, g.weight AS w"
HARMONY = (
    "MATCH (a:Colour)-[h:COLOUR_HARMONY]->(b:Colour) "
    "RETURN a.id AS a, b.id AS b, h.weight AS w, h.rule AS rule"
)
STYLE_OCCASION = "MATCH (s:Style)-[e:SUITS_OCCASION]->(o:Occasion) RETURN s.id AS a, o.id AS b, e.weight AS w"
CATEGORY_OCCASION = (
    "MATCH (c:Category)-[e:SUITS_OCCASION]->(o:Occasion) RETURN c.id AS a, o.id AS b, e.weight AS w"
)
BODY_SHAPE = (
    "MATCH (c:Category)-[e:SUITS_BODY_SHAPE]->(s:BodyShape) RETURN c.id AS a, s.id AS b, e.weight AS w"
)

#: Categories that go with what a person owns (a purchase adds OWNS next to BOUGHT; a wardrobe
#: entry adds OWNS alone), summed over their pieces.
COMPLEMENTS = (
    "MATCH (u:User {id: $user})-[:OWNS]->(:Product)-[:IN_CATEGORY]->(:Category)-[g:GOES_WITH]->(c:Category) "
    "RETURN c.id AS category, g.weight AS w"
)


@dataclass
class RuleTables:
    goes_with: dict[tuple[str, str], float] = field(default_factory=dict)
    harmony: dict[tuple[str, str], tuple[float, str]] = field(default_factory=dict)
    style_occasion: dict[tuple[str, str], float] = field(default_factory=dict)
    category_occasion: dict[tuple[str, str], float] = field(default_factory=dict)
    body_shape: dict[tuple[str, str], float] = field(default_factory=dict)


def _pairs(store: GraphStore, cypher: str) -> dict[tuple[str, str], float]:
    return {(row["a"], row["b"]): float(row["w"]) for row in store.query(cypher)}


def rule_tables(store: GraphStore) -> RuleTables:
    return RuleTables(
        goes_with=_pairs(store, GOES_WITH),
        harmony={(row["a"], row["b"]): (float(row["w"]), str(row["rule"])) for row in store.query(HARMONY)},
        style_occasion=_pairs(store, STYLE_OCCASION),
        category_occasion=_pairs(store, CATEGORY_OCCASION),
        body_shape=_pairs(store, BODY_SHAPE),
    )


def complement_categories(store: GraphStore, user_id: str) -> dict[str, float]:
    """Category -> summed GOES_WITH weight from the person's owned pieces."""
    totals: dict[str, float] = defaultdict(float)
    for row in store.query(COMPLEMENTS, {"user": user_id}):
        totals[row["category"]] += float(row["w"])
    return dict(totals)


def add_user_edge(store: GraphStore, edge: UserEdge) -> bool:
    """Record a like, purchase or ownership; ``False`` when the product is not in the graph."""
    store.merge_nodes(NodeLabel.USER, [{"id": edge.user_id}])
    rows = [{"src": edge.user_id, "dst": edge.product_id, "at": edge.at}]
    return store.merge_edges(edge.rel, NodeLabel.USER, NodeLabel.PRODUCT, rows) > 0


def remove_user_edge(store: GraphStore, rel: RelType, user_id: str, product_id: str) -> bool:
    return store.delete_edges(rel, NodeLabel.USER, NodeLabel.PRODUCT, [(user_id, product_id)]) > 0
