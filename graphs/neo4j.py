"""The server graph: Neo4j over Bolt, through the official driver.

Behaves like the embedded store (``graphs.embedded``) row for row, so that the same
contract tests and the same Cypher in ``graphs.queries`` run on both: the writes are the
same ``UNWIND $rows`` statements in batches of the same size, one transaction per batch, and
the results are plain Python values (Neo4j's own temporal and graph types never leave this
module). Neo4j has no typed tables, so ``migrate`` only adds a uniqueness constraint on
``id`` per label: it makes ``MERGE`` on ``id`` both safe under concurrent writers and
index-backed, which is what the primary key gives Kuzu.

Every call that cannot reach the server (refused, timed out, wrong password, database
unavailable) raises ``GraphUnavailable``, which callers treat as "recommend without the
graph"; Cypher errors stay ``neo4j`` exceptions, because they are bugs, not outages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import neo4j
from neo4j import GraphDatabase, NotificationDisabledClassification, RoutingControl
from neo4j.exceptions import (
    AuthError,
    DatabaseUnavailable,
    Forbidden,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)
from neo4j.graph import Node, Path, Relationship
from neo4j.spatial import Point
from neo4j.time import Date, DateTime, Duration, Time

from graphs.base import EdgeBatch, GraphUnavailable, Row
from graphs.schema import (
    NODES,
    RELS,
    NodeLabel,
    PropType,
    RelType,
    check_edge_rows,
    check_load,
    check_node_rows,
)

#: Rows per write transaction, as in the embedded store; keeps each transaction's memory small.
_BATCH = 5000
#: Nodes deleted per transaction by ``clear``: one huge DETACH DELETE can exceed the server's
#: transaction memory limit on a full graph.
_CLEAR_BATCH = 10000

_UNAVAILABLE = (
    ServiceUnavailable,
    SessionExpired,
    AuthError,
    Forbidden,
    DatabaseUnavailable,
    TransientError,
    OSError,
)


def _typed(rows: list[dict[str, Any]], props: Mapping[str, PropType]) -> list[dict[str, Any]]:
    """Integers given for DOUBLE properties as floats.

    Kuzu's typed columns turn ``weight: 1`` into ``1.0``; Neo4j would keep the integer, and
    the same query would then return ``1`` on one backend and ``1.0`` on the other.
    """
    doubles = [name for name, kind in props.items() if kind == "DOUBLE"]
    if not doubles:
        return rows
    for row in rows:
        for name in doubles:
            value = row.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                row[name] = float(value)
    return rows


def _plain(value: Any) -> Any:
    """Neo4j's result types as the plain values the embedded store returns.

    Temporal values become ISO-8601 strings (the schema stores timestamps as strings, so a
    query comparing or returning them sees the same thing on both backends); nodes and
    relationships become their property maps.
    """
    if isinstance(value, Date | DateTime | Time):
        # Through Python's types for the familiar spelling (``+00:00``, no trailing nanoseconds).
        return value.to_native().isoformat()
    if isinstance(value, Duration):
        return value.iso_format()
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, Node | Relationship):
        return {key: _plain(value[key]) for key in value}
    if isinstance(value, Path):
        return [_plain(node) for node in value.nodes]
    if isinstance(value, Point):
        return list(value)
    return value


def _rows(result: neo4j.Result) -> list[Row]:
    keys = result.keys()
    return [{key: _plain(value) for key, value in zip(keys, record, strict=True)} for record in result]


class Neo4jGraphStore:
    backend = "neo4j"

    def __init__(
        self,
        url: str,
        *,
        user: str = "neo4j",
        password: str,
        database: str = "neo4j",
        timeout_s: float = 5.0,
        retry_s: float = 1.0,
    ) -> None:
        """Creates the driver only; nothing connects until the first call.

        ``timeout_s`` bounds connecting; ``retry_s`` how long the driver goes on retrying a
        failed transaction (its default of 30s would hold a request that long when the server
        is down). Retries are for a blip such as a leader change; a server that stays down is
        for the caller to work around (the recommender degrades and re-syncs later), and each
        retry round costs a request a growing back-off (1, 2, 4 s: 7.5 s within a 5 s budget).
        """
        self.url = url
        self.database = database
        self._driver = GraphDatabase.driver(
            url,
            auth=(user, password),
            connection_timeout=timeout_s,
            # An unknown label, type or property (a graph with no BOUGHT edges yet) is normal
            # here; the driver would log a warning for each such query.
            notifications_disabled_classifications=[NotificationDisabledClassification.UNRECOGNIZED],
            connection_acquisition_timeout=timeout_s,
            max_transaction_retry_time=retry_s,
        )

    @contextmanager
    def _reachable(self) -> Iterator[None]:
        try:
            yield
        except _UNAVAILABLE as exc:
            raise GraphUnavailable(
                f"Neo4j at {self.url} (database {self.database!r}) is unavailable: "
                f"{type(exc).__name__}: {exc}"
            ) from exc

    def _run(
        self,
        cypher: str,
        params: Mapping[str, Any] | None = None,
        transform: Callable[[neo4j.Result], Any] = _rows,
    ) -> Any:
        # WRITE routing for every statement, reads included: the embedded store runs any
        # statement through ``query``, and a READ transaction would refuse a write here only.
        with self._reachable():
            return self._driver.execute_query(
                cypher,
                dict(params or {}),
                routing_=RoutingControl.WRITE,
                database_=self.database,
                result_transformer_=transform,
            )

    def migrate(self) -> None:
        for label in NODES:
            name = f"{label.value.lower()}_id_unique"
            self._run(f"CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{label.value}) REQUIRE n.id IS UNIQUE")

    def load(
        self, nodes: Mapping[NodeLabel, Sequence[Mapping[str, Any]]], edges: Sequence[EdgeBatch]
    ) -> None:
        """``CREATE`` instead of ``MERGE``: ``check_load`` has already ruled out duplicate ids
        and dangling ends, and the graph is cleared first, so there is nothing to match.

        Like the embedded store's ``COPY``, this is not one transaction: a failure part-way
        leaves a partial graph, which the next ``load`` clears.
        """
        checked_nodes, checked_edges = check_load(nodes, [(e.rel, e.src, e.dst, e.rows) for e in edges])
        self.clear()
        for label, rows in checked_nodes.items():
            rows = _typed(rows, NODES[label].properties)
            # ``SET n = r`` stores the non-null entries only, which is how Neo4j spells null.
            cypher = f"UNWIND $rows AS r CREATE (n:{label.value}) SET n = r"
            for start in range(0, len(rows), _BATCH):
                self._run(cypher, {"rows": rows[start : start + _BATCH]}, _consume)
        for rel, src, dst, rows in checked_edges:
            props = RELS[rel].properties
            rows = _typed(rows, props)
            assignments = ", ".join(f"e.{name} = r.{name}" for name in props)
            cypher = (
                f"UNWIND $rows AS r MATCH (a:{src.value} {{id: r.src}}) MATCH (b:{dst.value} {{id: r.dst}}) "
                f"CREATE (a)-[e:{rel.value}]->(b)" + (f" SET {assignments}" if props else "")
            )
            for start in range(0, len(rows), _BATCH):
                self._run(cypher, {"rows": rows[start : start + _BATCH]}, _consume)

    def merge_nodes(self, label: NodeLabel, rows: Sequence[Mapping[str, Any]]) -> int:
        label = NodeLabel(label)
        props = NODES[label].properties
        checked = _typed(check_node_rows(label, rows), props)
        assignments = ", ".join(f"n.{name} = r.{name}" for name in props)
        cypher = f"UNWIND $rows AS r MERGE (n:{label.value} {{id: r.id}})" + (
            f" SET {assignments}" if props else ""
        )
        for start in range(0, len(checked), _BATCH):
            self._run(cypher, {"rows": checked[start : start + _BATCH]}, _consume)
        return len(checked)

    def merge_edges(
        self, rel: RelType, src: NodeLabel, dst: NodeLabel, rows: Sequence[Mapping[str, Any]]
    ) -> int:
        checked = check_edge_rows(rel, src, dst, rows)
        rel, src, dst = RelType(rel), NodeLabel(src), NodeLabel(dst)
        props = RELS[rel].properties
        checked = _typed(checked, props)
        assignments = ", ".join(f"e.{name} = r.{name}" for name in props)
        cypher = (
            f"UNWIND $rows AS r MATCH (a:{src.value} {{id: r.src}}), (b:{dst.value} {{id: r.dst}}) "
            f"MERGE (a)-[e:{rel.value}]->(b)"
            + (f" SET {assignments}" if props else "")
            + " RETURN count(e) AS n"
        )
        merged = 0
        for start in range(0, len(checked), _BATCH):
            merged += int(self._run(cypher, {"rows": checked[start : start + _BATCH]})[0]["n"])
        return merged

    def delete_edges(
        self, rel: RelType, src: NodeLabel, dst: NodeLabel, pairs: Sequence[tuple[str, str]]
    ) -> int:
        rows = check_edge_rows(rel, src, dst, [{"src": a, "dst": b} for a, b in pairs])
        rel, src, dst = RelType(rel), NodeLabel(src), NodeLabel(dst)
        result = self._run(
            f"UNWIND $rows AS r MATCH (a:{src.value} {{id: r.src}})-[e:{rel.value}]->"
            f"(b:{dst.value} {{id: r.dst}}) DELETE e RETURN count(*) AS n",
            {"rows": [{"src": row["src"], "dst": row["dst"]} for row in rows]},
        )
        return int(result[0]["n"]) if result else 0

    def query(self, cypher: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        rows: list[Row] = self._run(cypher, params)
        return rows

    def count(self, label: NodeLabel) -> int:
        return int(self._run(f"MATCH (n:{NodeLabel(label).value}) RETURN count(n) AS n")[0]["n"])

    def count_edges(self, rel: RelType) -> int:
        return int(self._run(f"MATCH ()-[e:{RelType(rel).value}]->() RETURN count(e) AS n")[0]["n"])

    def clear(self) -> None:
        for label in NODES:
            cypher = (
                f"MATCH (n:{label.value}) WITH n LIMIT {_CLEAR_BATCH} DETACH DELETE n RETURN count(*) AS n"
            )
            while int(self._run(cypher)[0]["n"]):
                pass

    def ping(self) -> bool:
        try:
            # A plain auto-commit run: no retries, so a down server answers False at once.
            with self._driver.session(database=self.database) as session:
                session.run("RETURN 1 AS ok").consume()
        except Exception:  # a health check reports, it does not raise
            return False
        return True

    def close(self) -> None:
        self._driver.close()


def _consume(result: neo4j.Result) -> None:
    result.consume()
