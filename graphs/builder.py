"""Building the knowledge graph from the catalogue, the rules and Polyvore co-occurrence.

The graph is derived data: the catalogue (SQL), the rules (``graphs.rules``), the
co-occurrence table (``graphs.polyvore``) and people's likes and purchases (SQL) are the
sources, so a rebuild from them is always safe. ``build`` makes the rows; the store's
``load`` replaces the graph in one go (seconds for the whole catalogue on Kuzu), and
``sync_products``/``merge_edges`` keep it current between rebuilds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from graphs.base import EdgeBatch, GraphStore
from graphs.polyvore import GoesWith
from graphs.rules import (
    BODY_SHAPE_CATEGORIES,
    CATEGORY_OCCASIONS,
    COLOURS,
    OCCASION_FORMALITY,
    RULE,
    STYLE_FORMALITY,
    colour_harmony,
    style_formality,
    style_suits,
    wearable_seasons,
)
from graphs.schema import NodeLabel, RelType
from graphs.vocabulary import ARTICLE_KIND, ItemKind, Occasion, Season, article_kind, kind_slot

POLYVORE = "polyvore"
BODY_SHAPES = ("hourglass", "pear", "apple", "rectangle", "inverted_triangle")
#: Rule weights below this are not worth an edge.
MIN_SUITS = 0.25


class ProductLike(Protocol):
    """What the graph needs of a product (``rag.documents.ProductDoc`` has it)."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def gender(self) -> str | None: ...
    @property
    def article_type(self) -> str | None: ...
    @property
    def colour(self) -> str | None: ...
    @property
    def usage(self) -> str | None: ...
    @property
    def season(self) -> str | None: ...


@dataclass(frozen=True)
class UserEdge:
    """A person's like, purchase or ownership of a product, from the SQL record of it."""

    rel: RelType
    user_id: str
    product_id: str
    at: str | None = None


@dataclass
class GraphRows:
    nodes: dict[NodeLabel, list[dict[str, Any]]] = field(default_factory=dict)
    edges: list[EdgeBatch] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out = {str(label): len(rows) for label, rows in self.nodes.items()}
        for batch in self.edges:
            out[str(batch.rel)] = out.get(str(batch.rel), 0) + len(batch.rows)
        return out


def _usage(value: str | None) -> str:
    return value if value in STYLE_FORMALITY else "Casual"


def product_node(product: ProductLike) -> dict[str, Any] | None:
    """The node of a product that can be part of an outfit; ``None`` for everything else."""
    kind = article_kind(product.article_type)
    slot = kind_slot(kind)
    if slot is None:
        return None
    return {
        "id": product.id,
        "name": product.name,
        "gender": product.gender,
        "article_type": product.article_type,
        "kind": kind.value,
        "slot": slot.value,
        "colour": product.colour if product.colour in COLOURS else None,
        "usage": _usage(product.usage),
        "season": product.season,
        "formality": style_formality(_usage(product.usage)),
    }


def product_edges(nodes: Sequence[Mapping[str, Any]]) -> list[EdgeBatch]:
    """Each product's category, colour, style and wearable seasons."""
    category: list[dict[str, Any]] = []
    colour: list[dict[str, Any]] = []
    style: list[dict[str, Any]] = []
    season: list[dict[str, Any]] = []
    for node in nodes:
        pid = node["id"]
        category.append({"src": pid, "dst": node["article_type"]})
        if node["colour"]:
            colour.append({"src": pid, "dst": node["colour"]})
        style.append({"src": pid, "dst": node["usage"]})
        season.extend(
            {"src": pid, "dst": s.value}
            for s in sorted(wearable_seasons(node["article_type"], node["season"]))
        )
    return [
        EdgeBatch(RelType.IN_CATEGORY, NodeLabel.PRODUCT, NodeLabel.CATEGORY, category),
        EdgeBatch(RelType.HAS_COLOUR, NodeLabel.PRODUCT, NodeLabel.COLOUR, colour),
        EdgeBatch(RelType.HAS_STYLE, NodeLabel.PRODUCT, NodeLabel.STYLE, style),
        EdgeBatch(RelType.SUITS_SEASON, NodeLabel.PRODUCT, NodeLabel.SEASON, season),
    ]


def rule_rows(goes_with: Sequence[GoesWith]) -> GraphRows:
    """The catalogue-independent part: vocabularies and every rule relationship."""
    rows = GraphRows()
    categories = sorted(ARTICLE_KIND)
    rows.nodes[NodeLabel.CATEGORY] = [
        {"id": name, "kind": article_kind(name).value, "slot": _slot_name(article_kind(name))}
        for name in categories
    ]
    rows.nodes[NodeLabel.COLOUR] = [
        {"id": name, "family": info.family, "neutral": info.neutral} for name, info in COLOURS.items()
    ]
    rows.nodes[NodeLabel.STYLE] = [
        {"id": name, "formality": level} for name, level in STYLE_FORMALITY.items()
    ]
    rows.nodes[NodeLabel.OCCASION] = [{"id": o.value, "formality": OCCASION_FORMALITY[o]} for o in Occasion]
    rows.nodes[NodeLabel.SEASON] = [{"id": s.value} for s in Season]
    rows.nodes[NodeLabel.BODY_SHAPE] = [{"id": shape} for shape in BODY_SHAPES]

    harmony = []
    for a in COLOURS:
        for b in COLOURS:
            if a != b and (found := colour_harmony(a, b)) is not None:
                harmony.append({"src": a, "dst": b, "weight": found[0], "source": RULE, "rule": found[1]})
    style_occasion = [
        {"src": usage, "dst": o.value, "weight": weight, "source": RULE}
        for usage in STYLE_FORMALITY
        for o in Occasion
        if (weight := style_suits(usage, o)) >= MIN_SUITS
    ]
    category_occasion = [
        {"src": name, "dst": o.value, "weight": weight, "source": RULE}
        for name, weights in CATEGORY_OCCASIONS.items()
        for o, weight in weights.items()
    ]
    body = [
        {"src": name, "dst": shape, "weight": weight, "source": RULE}
        for shape, weights in BODY_SHAPE_CATEGORIES.items()
        for name, weight in weights.items()
    ]
    known = set(categories)
    goes = []
    for pair in goes_with:
        if pair.a in known and pair.b in known and pair.a != pair.b:
            for src, dst in ((pair.a, pair.b), (pair.b, pair.a)):
                goes.append(
                    {
                        "src": src,
                        "dst": dst,
                        "weight": pair.weight,
                        "support": pair.support,
                        "source": POLYVORE,
                    }
                )
    rows.edges = [
        EdgeBatch(RelType.COLOUR_HARMONY, NodeLabel.COLOUR, NodeLabel.COLOUR, harmony),
        EdgeBatch(RelType.SUITS_OCCASION, NodeLabel.STYLE, NodeLabel.OCCASION, style_occasion),
        EdgeBatch(RelType.SUITS_OCCASION, NodeLabel.CATEGORY, NodeLabel.OCCASION, category_occasion),
        EdgeBatch(RelType.SUITS_BODY_SHAPE, NodeLabel.CATEGORY, NodeLabel.BODY_SHAPE, body),
        EdgeBatch(RelType.GOES_WITH, NodeLabel.CATEGORY, NodeLabel.CATEGORY, _dedupe(goes)),
    ]
    return rows


def _slot_name(kind: ItemKind) -> str | None:
    slot = kind_slot(kind)
    return slot.value if slot is not None else None


def _dedupe(edges: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One edge per (src, dst); the table may list a pair in both orders."""
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for edge in edges:
        key = (edge["src"], edge["dst"])
        if key not in best or edge["weight"] > best[key]["weight"]:
            best[key] = edge
    return list(best.values())


def build(
    products: Iterable[ProductLike], goes_with: Sequence[GoesWith], user_edges: Iterable[UserEdge] = ()
) -> GraphRows:
    """All rows of the graph: rules, the outfit-able products and people's edges to them."""
    rows = rule_rows(goes_with)
    nodes = [node for product in products if (node := product_node(product)) is not None]
    rows.nodes[NodeLabel.PRODUCT] = nodes
    rows.edges.extend(product_edges(nodes))
    present = {node["id"] for node in nodes}
    users: set[str] = set()
    by_rel: dict[RelType, dict[tuple[str, str], dict[str, Any]]] = {}
    for edge in user_edges:
        if edge.product_id in present:
            users.add(edge.user_id)
            by_rel.setdefault(edge.rel, {})[(edge.user_id, edge.product_id)] = {
                "src": edge.user_id,
                "dst": edge.product_id,
                "at": edge.at,
            }
    rows.nodes[NodeLabel.USER] = [{"id": user} for user in sorted(users)]
    rows.edges.extend(
        EdgeBatch(rel, NodeLabel.USER, NodeLabel.PRODUCT, list(edges.values()))
        for rel, edges in by_rel.items()
    )
    return rows


def rebuild(
    store: GraphStore,
    products: Iterable[ProductLike],
    goes_with: Sequence[GoesWith],
    user_edges: Iterable[UserEdge] = (),
) -> dict[str, int]:
    """Replace the graph with one built from these sources; returns what was loaded, by label and type."""
    rows = build(products, goes_with, user_edges)
    store.load(rows.nodes, rows.edges)
    return rows.counts()


def sync_products(store: GraphStore, products: Iterable[ProductLike]) -> int:
    """Upsert changed products and their attribute edges (a catalogue update between rebuilds)."""
    nodes = [node for product in products if (node := product_node(product)) is not None]
    if not nodes:
        return 0
    store.merge_nodes(NodeLabel.PRODUCT, nodes)
    ids = [node["id"] for node in nodes]
    for batch in product_edges(nodes):
        # A product whose colour or category changed must lose the old edge, not gain a second one.
        current = store.query(
            f"MATCH (p:Product)-[:{batch.rel}]->(x:{batch.dst}) WHERE p.id IN $ids "
            "RETURN p.id AS src, x.id AS dst",
            {"ids": ids},
        )
        wanted = {(row["src"], row["dst"]) for row in batch.rows}
        stale = [(row["src"], row["dst"]) for row in current if (row["src"], row["dst"]) not in wanted]
        if stale:
            store.delete_edges(batch.rel, batch.src, batch.dst, stale)
        store.merge_edges(batch.rel, batch.src, batch.dst, batch.rows)
    return len(nodes)


def sync_user_edges(store: GraphStore, edges: Iterable[UserEdge]) -> dict[str, int]:
    """Make the person edges match ``edges`` (SQL's current likes and purchases, the truth).

    For a graph that missed writes while it was down: every edge is merged (idempotent), and a
    like the graph still holds but SQL has undone is deleted. Purchases are never undone, so
    ``BOUGHT``/``OWNS`` are only added to. Returns the edges merged and deleted, by type.
    """
    wanted: dict[RelType, list[dict[str, Any]]] = {}
    for edge in edges:
        wanted.setdefault(edge.rel, []).append({"src": edge.user_id, "dst": edge.product_id, "at": edge.at})
    users = sorted({row["src"] for rows in wanted.values() for row in rows})
    if users:
        store.merge_nodes(NodeLabel.USER, [{"id": user} for user in users])
    done: dict[str, int] = {}
    liked = {(row["src"], row["dst"]) for row in wanted.get(RelType.LIKED, [])}
    current = store.query(
        f"MATCH (u:{NodeLabel.USER})-[:{RelType.LIKED}]->(p:{NodeLabel.PRODUCT}) "
        "RETURN u.id AS src, p.id AS dst"
    )
    undone = [(row["src"], row["dst"]) for row in current if (row["src"], row["dst"]) not in liked]
    if undone:
        done["deleted"] = store.delete_edges(RelType.LIKED, NodeLabel.USER, NodeLabel.PRODUCT, undone)
    for rel, rows in wanted.items():
        done[str(rel)] = store.merge_edges(rel, NodeLabel.USER, NodeLabel.PRODUCT, rows)
    return done
