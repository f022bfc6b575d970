"""The Cypher queries recommendation runs, in the dialect subset Kuzu and Neo4j share.

Rules are small (a few thousand edges), so they are read once into ``RuleTables`` and
consulted in memory on every request. Per-person traversals (what someone liked, owns
or bought, and which categories complement those) run per request: they are short paths
from one ``User`` node. Relationship types are returned as literals through ``UNION ALL``
because the engines name the type function differently (``label`` / ``type``).
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
NEUTRALS = "MATCH (c:Colour) WHERE c.neutral = true RETURN c.id AS id"

#: What a person has reacted to, newest first.
USER_ITEMS = " UNION ALL ".join(
    f"MATCH (u:User {{id: $user}})-[r:{rel}]->(p:Product) "
    f"RETURN '{rel}' AS rel, p.id AS id, p.article_type AS article_type, p.colour AS colour, r.at AS at"
    for rel in (RelType.LIKED, RelType.BOUGHT, RelType.OWNS)
)

#: Categories that go with what a person owns (a purchase adds OWNS next to BOUGHT; a wardrobe
#: entry adds OWNS alone), summed over their pieces.
COMPLEMENTS = (
    "MATCH (u:User {id: $user})-[:OWNS]->(:Product)-[:IN_CATEGORY]->(:Category)-[g:GOES_WITH]->(c:Category) "
    "RETURN c.id AS category, g.weight AS w"
)

#: For one product: the categories that go with its category and the colours that go with its colour.
ANCHOR_CATEGORIES = (
    "MATCH (p:Product {id: $id})-[:IN_CATEGORY]->(:Category)-[g:GOES_WITH]->(c:Category) "
    "RETURN c.id AS category, c.slot AS slot, g.weight AS w"
)
ANCHOR_COLOURS = (
    "MATCH (p:Product {id: $id})-[:HAS_COLOUR]->(:Colour)-[h:COLOUR_HARMONY]->(c:Colour) "
    "RETURN c.id AS colour, h.weight AS w, h.rule AS rule"
)


@dataclass
class RuleTables:
    goes_with: dict[tuple[str, str], float] = field(default_factory=dict)
    harmony: dict[tuple[str, str], tuple[float, str]] = field(default_factory=dict)
    style_occasion: dict[tuple[str, str], float] = field(default_factory=dict)
    category_occasion: dict[tuple[str, str], float] = field(default_factory=dict)
    body_shape: dict[tuple[str, str], float] = field(default_factory=dict)
    neutrals: frozenset[str] = frozenset()

    def goes_with_weights(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = defaultdict(dict)
        for (a, b), w in self.goes_with.items():
            out[a][b] = w
        return dict(out)


def _pairs(store: GraphStore, cypher: str) -> dict[tuple[str, str], float]:
    return {(row["a"], row["b"]): float(row["w"]) for row in store.query(cypher)}


def rule_tables(store: GraphStore) -> RuleTables:
    return RuleTables(
        goes_with=_pairs(store, GOES_WITH),
        harmony={(row["a"], row["b"]): (float(row["w"]), str(row["rule"])) for row in store.query(HARMONY)},
        style_occasion=_pairs(store, STYLE_OCCASION),
        category_occasion=_pairs(store, CATEGORY_OCCASION),
        body_shape=_pairs(store, BODY_SHAPE),
        neutrals=frozenset(row["id"] for row in store.query(NEUTRALS)),
    )


@dataclass(frozen=True)
class UserItem:
    rel: str
    product_id: str
    article_type: str | None
    colour: str | None
    at: str | None


def user_items(store: GraphStore, user_id: str) -> list[UserItem]:
    rows = store.query(USER_ITEMS, {"user": user_id})
    items = [UserItem(row["rel"], row["id"], row["article_type"], row["colour"], row["at"]) for row in rows]
    return sorted(items, key=lambda item: item.at or "", reverse=True)


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
