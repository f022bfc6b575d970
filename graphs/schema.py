"""The fashion knowledge graph's schema: node labels, relationship types and their properties.

Both adapters read this one description. The embedded store (Kuzu) needs typed tables
declared up front; Neo4j is schemaless but gets uniqueness constraints on ``id`` from the
same list, so a property or relationship that is not declared here is refused by both
instead of silently existing on one backend only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

PropType = Literal["STRING", "INT64", "DOUBLE", "BOOLEAN"]


class NodeLabel(StrEnum):
    PRODUCT = "Product"
    CATEGORY = "Category"
    COLOUR = "Colour"
    STYLE = "Style"
    OCCASION = "Occasion"
    SEASON = "Season"
    BODY_SHAPE = "BodyShape"
    USER = "User"


class RelType(StrEnum):
    IN_CATEGORY = "IN_CATEGORY"
    HAS_COLOUR = "HAS_COLOUR"
    HAS_STYLE = "HAS_STYLE"
    SUITS_SEASON = "SUITS_SEASON"
    SUITS_OCCASION = "SUITS_OCCASION"
    GOES_WITH = "GOES_WITH"
    COLOUR_HARMONY = "COLOUR_HARMONY"
    SUITS_BODY_SHAPE = "SUITS_BODY_SHAPE"
    OWNS = "OWNS"
    LIKED = "LIKED"
    BOUGHT = "BOUGHT"


@dataclass(frozen=True)
class NodeSpec:
    label: NodeLabel
    #: Properties besides the ``id`` key (always a STRING).
    properties: Mapping[str, PropType]


@dataclass(frozen=True)
class RelSpec:
    type: RelType
    #: The (source, target) label pairs this relationship may join.
    ends: Sequence[tuple[NodeLabel, NodeLabel]]
    properties: Mapping[str, PropType]


NODES: dict[NodeLabel, NodeSpec] = {
    spec.label: spec
    for spec in (
        NodeSpec(
            NodeLabel.PRODUCT,
            {
                "name": "STRING",
                "gender": "STRING",
                "article_type": "STRING",
                "kind": "STRING",
                "slot": "STRING",
                "colour": "STRING",
                "usage": "STRING",
                "season": "STRING",
                "formality": "INT64",
            },
        ),
        NodeSpec(NodeLabel.CATEGORY, {"kind": "STRING", "slot": "STRING"}),
        NodeSpec(NodeLabel.COLOUR, {"family": "STRING", "neutral": "BOOLEAN"}),
        NodeSpec(NodeLabel.STYLE, {"formality": "INT64"}),
        NodeSpec(NodeLabel.OCCASION, {"formality": "INT64"}),
        NodeSpec(NodeLabel.SEASON, {}),
        NodeSpec(NodeLabel.BODY_SHAPE, {}),
        NodeSpec(NodeLabel.USER, {}),
    )
}

_WEIGHTED: dict[str, PropType] = {"weight": "DOUBLE", "source": "STRING"}
_EVENT: dict[str, PropType] = {"at": "STRING"}

RELS: dict[RelType, RelSpec] = {
    spec.type: spec
    for spec in (
        RelSpec(RelType.IN_CATEGORY, [(NodeLabel.PRODUCT, NodeLabel.CATEGORY)], {}),
        RelSpec(RelType.HAS_COLOUR, [(NodeLabel.PRODUCT, NodeLabel.COLOUR)], {}),
        RelSpec(RelType.HAS_STYLE, [(NodeLabel.PRODUCT, NodeLabel.STYLE)], {}),
        RelSpec(RelType.SUITS_SEASON, [(NodeLabel.PRODUCT, NodeLabel.SEASON)], {}),
        RelSpec(
            RelType.SUITS_OCCASION,
            [(NodeLabel.STYLE, NodeLabel.OCCASION), (NodeLabel.CATEGORY, NodeLabel.OCCASION)],
            _WEIGHTED,
        ),
        RelSpec(
            RelType.GOES_WITH, [(NodeLabel.CATEGORY, NodeLabel.CATEGORY)], {**_WEIGHTED, "support": "INT64"}
        ),
        RelSpec(
            RelType.COLOUR_HARMONY, [(NodeLabel.COLOUR, NodeLabel.COLOUR)], {**_WEIGHTED, "rule": "STRING"}
        ),
        RelSpec(RelType.SUITS_BODY_SHAPE, [(NodeLabel.CATEGORY, NodeLabel.BODY_SHAPE)], _WEIGHTED),
        RelSpec(RelType.OWNS, [(NodeLabel.USER, NodeLabel.PRODUCT)], _EVENT),
        RelSpec(RelType.LIKED, [(NodeLabel.USER, NodeLabel.PRODUCT)], _EVENT),
        RelSpec(RelType.BOUGHT, [(NodeLabel.USER, NodeLabel.PRODUCT)], _EVENT),
    )
}


class GraphSchemaError(ValueError):
    """A write names a label, relationship, end pair or property the schema does not declare."""


def check_node_rows(label: NodeLabel, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows with every declared property present (``None`` where missing); unknown keys are refused."""
    spec = NODES[NodeLabel(label)]
    allowed = {"id", *spec.properties}
    checked: list[dict[str, Any]] = []
    for row in rows:
        extra = set(row) - allowed
        if extra:
            raise GraphSchemaError(f"{spec.label} has no properties {sorted(extra)}")
        node_id = row.get("id")
        if not isinstance(node_id, str) or not node_id:
            raise GraphSchemaError(f"every {spec.label} needs a non-empty string id, got {node_id!r}")
        checked.append({"id": node_id, **{name: row.get(name) for name in spec.properties}})
    return checked


def check_edge_rows(
    rel: RelType, src: NodeLabel, dst: NodeLabel, rows: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Rows ``{src, dst, **properties}`` for a declared end pair; unknown keys are refused."""
    spec = RELS[RelType(rel)]
    if (NodeLabel(src), NodeLabel(dst)) not in spec.ends:
        raise GraphSchemaError(f"{spec.type} does not join {src} to {dst}")
    allowed = {"src", "dst", *spec.properties}
    checked: list[dict[str, Any]] = []
    for row in rows:
        extra = set(row) - allowed
        if extra:
            raise GraphSchemaError(f"{spec.type} has no properties {sorted(extra)}")
        for end in ("src", "dst"):
            if not isinstance(row.get(end), str) or not row[end]:
                raise GraphSchemaError(
                    f"every {spec.type} needs a non-empty string {end}, got {row.get(end)!r}"
                )
        checked.append(
            {"src": row["src"], "dst": row["dst"], **{name: row.get(name) for name in spec.properties}}
        )
    return checked


def check_load(
    nodes: Mapping[NodeLabel, Sequence[Mapping[str, Any]]],
    edges: Sequence[tuple[RelType, NodeLabel, NodeLabel, Sequence[Mapping[str, Any]]]],
) -> tuple[
    dict[NodeLabel, list[dict[str, Any]]], list[tuple[RelType, NodeLabel, NodeLabel, list[dict[str, Any]]]]
]:
    """Check a full rebuild: unique ids per label and relationships whose ends are all present."""
    checked_nodes: dict[NodeLabel, list[dict[str, Any]]] = {}
    ids: dict[NodeLabel, set[str]] = {}
    for label, rows in nodes.items():
        label = NodeLabel(label)
        checked = check_node_rows(label, rows)
        seen = {row["id"] for row in checked}
        if len(seen) != len(checked):
            raise GraphSchemaError(f"duplicate {label} ids in a load")
        checked_nodes[label], ids[label] = checked, seen
    checked_edges = []
    for rel, src, dst, rows in edges:
        checked = check_edge_rows(rel, src, dst, rows)
        for row in checked:
            if row["src"] not in ids.get(NodeLabel(src), ()) or row["dst"] not in ids.get(NodeLabel(dst), ()):
                raise GraphSchemaError(
                    f"{rel} {row['src']!r} -> {row['dst']!r} joins a node that is not loaded"
                )
        checked_edges.append((RelType(rel), NodeLabel(src), NodeLabel(dst), checked))
    return checked_nodes, checked_edges
