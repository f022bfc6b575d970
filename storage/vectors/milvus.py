"""Milvus adapter: one class for Milvus Lite (a local ``.db``) and a Milvus server.

``MilvusClient`` speaks to both, so development and production run the same code.
Each collection has three fields: ``id`` (VARCHAR primary key), ``vector`` and
``payload`` (JSON). A JSON field rather than dynamic fields keeps payloads exact (a
payload key may be ``id`` or ``vector``) and filters explicit (``payload["k"]``).

Collections use Strong consistency, so a search right after an upsert sees it: the
catalog is written rarely and read often, and a missing fresh product is a bug
report. The client is created on first use, because Milvus Lite takes seconds to
start and a process that never touches vectors (most API tests) should not pay that.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pymilvus import DataType, MilvusClient
from pymilvus.client.types import LoadState
from pymilvus.exceptions import MilvusException

from storage.errors import (
    CollectionConflict,
    CollectionNotFound,
    DimensionMismatch,
    StorageError,
    StoreUnavailable,
)
from storage.vectors.base import (
    MAX_TOP_K,
    Metric,
    VectorHit,
    VectorRecord,
    as_floats,
    check_dim,
    check_ids,
    check_metric,
    check_name,
    check_payload,
)

_SERVER_SCHEMES = ("http://", "https://", "tcp://", "grpc://")
#: Milvus error codes: collection missing, and server unreachable.
_NOT_FOUND = 100
_UNAVAILABLE = 2
#: Rows per upsert call, well under Milvus's 64 MiB gRPC message limit at typical dims.
_BATCH = 1_000


def is_server_uri(uri: str) -> bool:
    return uri.startswith(_SERVER_SCHEMES)


@contextmanager
def _translated(collection: str | None = None) -> Iterator[None]:
    try:
        yield
    except MilvusException as exc:
        code = getattr(exc, "code", None)
        message = getattr(exc, "message", str(exc))
        if code == _NOT_FOUND and collection is not None:
            raise CollectionNotFound(collection) from exc
        if code == _UNAVAILABLE:
            raise StoreUnavailable(f"Milvus is unavailable: {message}") from exc
        raise StorageError(f"Milvus error {code}: {message}") from exc


class MilvusVectorStore:
    """The ``VectorStore`` protocol over pymilvus's ``MilvusClient``.

    ``uri`` is a Milvus Lite ``.db`` path (its folder is created) or a server URI
    such as ``http://milvus:19530``. Milvus Lite serves one process per ``.db``.
    """

    def __init__(
        self, uri: str, *, token: str | None = None, max_id_bytes: int = 512, timeout_s: float = 30.0
    ) -> None:
        self._uri = uri
        self._token = token
        self._max_id_bytes = max_id_bytes
        self._timeout_s = timeout_s
        self._client: MilvusClient | None = None
        self._lock = threading.Lock()
        #: Dimension per collection, so vectors are checked before a round trip; Milvus Lite
        #: answers a wrong dimension with a numpy traceback instead of a clear error.
        self._dims: dict[str, int] = {}

    @property
    def uri(self) -> str:
        return self._uri

    @property
    def client(self) -> MilvusClient:
        """The connected client; the first call connects (and starts Milvus Lite)."""
        with self._lock:
            if self._client is None:
                if not is_server_uri(self._uri):
                    Path(self._uri).parent.mkdir(parents=True, exist_ok=True)
                with _translated():
                    self._client = MilvusClient(
                        uri=self._uri, token=self._token or "", timeout=self._timeout_s
                    )
            return self._client

    # -- helpers ------------------------------------------------------------------------

    def _shape(self, name: str) -> tuple[int, str]:
        """The collection's (dim, metric); raises ``CollectionNotFound`` or ``CollectionConflict``."""
        with _translated(name):
            description = self.client.describe_collection(name)
            fields = {f["name"]: f for f in description["fields"]}
            if (
                set(fields) != {"id", "vector", "payload"}
                or fields["vector"]["type"] != DataType.FLOAT_VECTOR
                or fields["payload"]["type"] != DataType.JSON
            ):
                raise CollectionConflict(f"collection {name!r} exists but was not created by this store")
            dim = int(fields["vector"]["params"]["dim"])
            metric = str(self.client.describe_index(name, "vector")["metric_type"])
        self._dims[name] = dim
        return dim, metric

    def _dim(self, name: str) -> int:
        check_name(name)
        dim = self._dims.get(name)
        return dim if dim is not None else self._shape(name)[0]

    def _check_vector(self, name: str, dim: int, vector: Sequence[float], what: str) -> list[float]:
        values = as_floats(vector)
        if len(values) != dim:
            raise DimensionMismatch(f"collection {name!r} has dimension {dim}, but {what} has {len(values)}")
        return values

    def _create(self, name: str, dim: int, metric: str) -> None:
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=self._max_id_bytes)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        schema.add_field("payload", DataType.JSON)
        index = self.client.prepare_index_params()
        index.add_index(field_name="vector", index_type="AUTOINDEX", metric_type=metric)
        self.client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong")

    # -- the VectorStore protocol -------------------------------------------------------

    def ensure_collection(self, name: str, dim: int, metric: Metric = "COSINE") -> None:
        check_name(name)
        check_dim(dim)
        check_metric(metric)
        with _translated(name):
            if not self.client.has_collection(name):
                try:
                    self._create(name, dim, metric)
                except MilvusException:
                    if not self.client.has_collection(name):  # not another process racing us
                        raise
        existing_dim, existing_metric = self._shape(name)
        if (existing_dim, existing_metric) != (dim, metric):
            raise CollectionConflict(
                f"collection {name!r} exists with dimension {existing_dim} and metric {existing_metric}, "
                f"not {dim} and {metric}"
            )
        with _translated(name):
            # A server unloads collections on restart; searching an unloaded one fails.
            if self.client.get_load_state(name).get("state") != LoadState.Loaded:
                self.client.load_collection(name)

    def upsert(
        self,
        name: str,
        ids: Sequence[str],
        vectors: Sequence[Sequence[float]],
        payloads: Sequence[dict[str, Any]] | None = None,
    ) -> None:
        checked_ids = check_ids(ids, self._max_id_bytes)
        if payloads is None:
            payloads = [{} for _ in checked_ids]
        if not len(checked_ids) == len(vectors) == len(payloads):
            raise ValueError(
                f"ids, vectors and payloads differ in length: {len(checked_ids)}, {len(vectors)}, "
                f"{len(payloads)}"
            )
        dim = self._dim(name)
        if not checked_ids:
            return
        rows = [
            {
                "id": id_,
                "vector": self._check_vector(name, dim, vector, f"the vector for id {id_!r}"),
                "payload": check_payload(payload),
            }
            for id_, vector, payload in zip(checked_ids, vectors, payloads, strict=True)
        ]
        with _translated(name):
            for start in range(0, len(rows), _BATCH):
                self.client.upsert(name, rows[start : start + _BATCH])

    def search(
        self, name: str, vector: Sequence[float], top_k: int = 10, filter: str | None = None
    ) -> list[VectorHit]:
        if isinstance(top_k, bool) or not 1 <= top_k <= MAX_TOP_K:
            raise ValueError(f"top_k must be between 1 and {MAX_TOP_K}, got {top_k!r}")
        query = self._check_vector(name, self._dim(name), vector, "the query vector")
        with _translated(name):
            results = self.client.search(
                name, data=[query], limit=top_k, filter=filter or "", output_fields=["payload"]
            )
        return [
            VectorHit(
                id=str(hit["id"]),
                score=float(hit["distance"]),
                payload=dict(hit.get("entity", {}).get("payload") or {}),
            )
            for hit in results[0]
        ]

    def get(self, name: str, ids: Sequence[str]) -> list[VectorRecord]:
        wanted = check_ids(ids, self._max_id_bytes)
        self._dim(name)
        if not wanted:
            return []
        with _translated(name):
            rows = self.client.get(name, ids=wanted, output_fields=["vector", "payload"])
        found = {
            str(row["id"]): VectorRecord(
                id=str(row["id"]),
                vector=[float(x) for x in row["vector"]],
                payload=dict(row.get("payload") or {}),
            )
            for row in rows
        }
        return [found[id_] for id_ in wanted if id_ in found]

    def delete(self, name: str, ids: Sequence[str]) -> None:
        doomed = check_ids(ids, self._max_id_bytes)
        self._dim(name)
        if doomed:
            with _translated(name):
                self.client.delete(name, ids=doomed)

    def count(self, name: str) -> int:
        """Live rows, by ``count(*)``: collection statistics still count deleted rows until compaction."""
        self._dim(name)
        with _translated(name):
            rows = self.client.query(name, filter="", output_fields=["count(*)"])
        return int(rows[0]["count(*)"])

    def drop(self, name: str) -> None:
        check_name(name)
        self._dims.pop(name, None)
        with _translated(name):
            if self.client.has_collection(name):
                self.client.drop_collection(name)

    def ping(self) -> bool:
        """A cheap round trip; not ``list_collections``, which Milvus Lite 3.2 fails under protobuf 4."""
        try:
            self.client.has_collection("ik_ping")
        except Exception:  # a health check reports failure, whatever its cause
            return False
        return True

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
                if not is_server_uri(self._uri):
                    # Milvus Lite serves each .db from threads in this process until exit;
                    # release it so a closed store frees its port, threads and file handles.
                    from milvus_lite.server_manager import server_manager_instance

                    server_manager_instance.release_server(self._uri)
