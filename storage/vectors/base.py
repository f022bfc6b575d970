"""The vector-store contract: product and style embeddings for similarity search.

Ids are strings (the catalog's ids), and each vector carries a JSON payload that
search returns and filters on, so a recommendation needs no second lookup for the
fields it filters by.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, get_args, runtime_checkable

Metric = Literal["COSINE", "L2", "IP"]
METRICS: frozenset[str] = frozenset(get_args(Metric))

#: Milvus's rules for collection names.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")
MAX_DIM = 32_768
MAX_TOP_K = 16_384
#: Milvus's default limit on one JSON value.
MAX_PAYLOAD_BYTES = 65_536


@dataclass(frozen=True)
class VectorHit:
    """One search result.

    ``score`` is the metric's raw value: a similarity for ``COSINE`` and ``IP``
    (higher is closer) and a distance for ``L2`` (lower is closer). Hits always come
    back closest first, whichever the metric.
    """

    id: str
    score: float
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VectorRecord:
    """A stored vector with its payload, as ``get`` returns it."""

    id: str
    vector: list[float]
    payload: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class VectorStore(Protocol):
    """Named collections of fixed-dimension vectors with string ids and JSON payloads."""

    def ensure_collection(self, name: str, dim: int, metric: Metric = "COSINE") -> None:
        """Create the collection if missing; raises ``CollectionConflict`` if it exists with another shape."""
        ...

    def upsert(
        self,
        name: str,
        ids: Sequence[str],
        vectors: Sequence[Sequence[float]],
        payloads: Sequence[dict[str, Any]] | None = None,
    ) -> None:
        """Insert or replace vectors by id; ``payloads`` defaults to empty ones."""
        ...

    def search(
        self, name: str, vector: Sequence[float], top_k: int = 10, filter: str | None = None
    ) -> list[VectorHit]:
        """The ``top_k`` nearest vectors, closest first.

        ``filter`` is a Milvus boolean expression over the payload, e.g.
        ``payload["category"] == "tops" and payload["price"] < 300``.
        """
        ...

    def get(self, name: str, ids: Sequence[str]) -> list[VectorRecord]:
        """The stored records for ``ids``, in the order asked; missing ids are left out."""
        ...

    def delete(self, name: str, ids: Sequence[str]) -> None:
        """Remove vectors by id; missing ids are ignored."""
        ...

    def count(self, name: str) -> int: ...

    def drop(self, name: str) -> None:
        """Delete the collection and everything in it; a missing collection is not an error."""
        ...

    def ping(self) -> bool:
        """Whether the store answers; for health checks, never raises."""
        ...

    def close(self) -> None: ...


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(
            f"collection names are a letter or '_' then letters, digits or '_' (255 at most): {name!r}"
        )
    return name


def check_metric(metric: str) -> str:
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {sorted(METRICS)}, got {metric!r}")
    return metric


def check_dim(dim: int) -> int:
    if isinstance(dim, bool) or not isinstance(dim, int) or not 1 <= dim <= MAX_DIM:
        raise ValueError(f"dim must be an integer between 1 and {MAX_DIM}, got {dim!r}")
    return dim


def check_ids(ids: Sequence[str], max_bytes: int) -> list[str]:
    """Non-empty, bounded, and unique: a batch naming one id twice has no defined winner."""
    if isinstance(ids, str):
        raise TypeError("ids must be a sequence of strings, not one string")
    checked = list(ids)
    for id_ in checked:
        if not isinstance(id_, str) or not id_:
            raise ValueError(f"vector ids must be non-empty strings, got {id_!r}")
        if len(id_.encode("utf-8", "surrogatepass")) > max_bytes:
            raise ValueError(f"vector ids are at most {max_bytes} UTF-8 bytes: {id_[:40]!r}...")
    if len(set(checked)) != len(checked):
        raise ValueError("the same id appears twice in one batch")
    return checked


def check_payload(payload: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise TypeError(f"payloads must be dicts, got {type(payload).__name__}")
    try:
        size = len(json.dumps(payload, ensure_ascii=False, allow_nan=False).encode())
    except (TypeError, ValueError) as exc:
        raise ValueError(f"payloads must be JSON-serialisable: {exc}") from exc
    if size > MAX_PAYLOAD_BYTES:
        raise ValueError(f"a payload is {size} bytes of JSON; the limit is {MAX_PAYLOAD_BYTES}")
    return payload


def as_floats(vector: Sequence[float]) -> list[float]:
    values = [float(x) for x in vector]
    if not all(math.isfinite(x) for x in values):
        raise ValueError("vectors must not contain NaN or infinity")
    return values
