"""The graph-store contract shared by the embedded graph (Kuzu) and Neo4j.

Writes go through ``merge_nodes``/``merge_edges`` (idempotent upserts checked against
``graphs.schema``) because bulk loading is where the two engines differ most. Reads are
Cypher: every query in ``graphs.queries`` is written in the subset both engines run
(``MATCH``/``OPTIONAL MATCH``/``WHERE``/``WITH``/``UNWIND``/``RETURN``/``ORDER BY``/``LIMIT``,
``count``/``sum``/``collect``, parameters), and the contract tests run each one on both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from graphs.schema import NodeLabel, RelType
from storage.errors import StoreUnavailable

Row = dict[str, Any]


class GraphUnavailable(StoreUnavailable, RuntimeError):
    """The graph server cannot be reached or refused the request; recommendation degrades without it.

    A ``StoreUnavailable`` too, so a request that cannot do without the graph (a first start with
    no rules read yet) is the API's 503 with ``Retry-After``, not a 500.
    """


@dataclass(frozen=True)
class EdgeBatch:
    """Relationships of one type between one (source, target) label pair, for ``GraphStore.load``."""

    rel: RelType
    src: NodeLabel
    dst: NodeLabel
    rows: Sequence[Mapping[str, Any]]


@runtime_checkable
class GraphStore(Protocol):
    backend: str

    def migrate(self) -> None:
        """Create the declared tables/constraints that are missing; safe to call on every start."""
        ...

    def load(
        self, nodes: Mapping[NodeLabel, Sequence[Mapping[str, Any]]], edges: Sequence[EdgeBatch]
    ) -> None:
        """Replace the whole graph with these nodes and relationships: the fast path for a full rebuild.

        Rows are checked like ``merge_*``; node ids must be unique per label and every
        relationship's ends must be among ``nodes`` (``GraphSchemaError`` otherwise), so a
        rebuild never half-succeeds silently.
        """
        ...

    def merge_nodes(self, label: NodeLabel, rows: Sequence[Mapping[str, Any]]) -> int:
        """Create or update nodes by ``id``; properties not given are set to null. Returns the row count."""
        ...

    def merge_edges(
        self, rel: RelType, src: NodeLabel, dst: NodeLabel, rows: Sequence[Mapping[str, Any]]
    ) -> int:
        """Create or update one ``rel`` per (``src``, ``dst``) id pair; rows with a missing end are skipped.

        Returns the number of relationships that exist for the given rows afterwards.
        """
        ...

    def delete_edges(
        self, rel: RelType, src: NodeLabel, dst: NodeLabel, pairs: Sequence[tuple[str, str]]
    ) -> int:
        """Remove the ``rel`` between each id pair; returns how many existed."""
        ...

    def query(self, cypher: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Run a read query; each row maps the ``RETURN`` aliases to plain Python values."""
        ...

    def count(self, label: NodeLabel) -> int: ...

    def count_edges(self, rel: RelType) -> int: ...

    def clear(self) -> None:
        """Delete every node and relationship (tests, rebuilds); the schema stays."""
        ...

    def ping(self) -> bool:
        """Whether the graph answers; for health checks, never raises."""
        ...

    def close(self) -> None: ...
