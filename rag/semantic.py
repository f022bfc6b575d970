"""Semantic product search: MiniLM vectors of each product, searched exactly in memory.

Three places hold a product's vector, each for a reason:

* an **embedding cache** on disk (SQLite, keyed by a hash of model and text), so indexing the
  catalog again after a restart or a re-seed encodes nothing (encoding is ~80 texts/s on 2
  cores: minutes for the whole catalog);
* the **vector store** (Milvus, collection ``products_minilm``), the durable copy other
  services can search, whose payload holds only attributes that never change with stock;
* an exact **in-memory matrix** held here, which answers queries. A brute-force dot product
  over 44k × 384 floats takes a few milliseconds on 2 cores, under Milvus Lite's warm
  ~12 ms, exact rather than approximate, and filterable by arrays kept beside it.

Price, stock and sizes live only in those arrays: ``update_availability`` changes them
without encoding or writing a vector, so a stock webhook never touches the model.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from threadpoolctl import ThreadpoolController

from rag.documents import FACET_FIELDS, EngineResult, ProductDoc, ScoredId, SearchFilters, size_key
from storage.vectors.base import MAX_TOP_K, VectorStore

logger = logging.getLogger(__name__)

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
COLLECTION = "products_minilm"
DIM = 384
#: Documents per encode / vector-store round trip during indexing.
BATCH = 256
#: Recent query vectors kept, since a chat repeats and pages the same query.
QUERY_CACHE = 512
#: A filter passing fewer than 1/SELECTIVE of the products is scored on its own rows only.
SELECTIVE = 4

Matrix = np.ndarray[Any, np.dtype[np.float32]]
Progress = Callable[[int, int], None]


@lru_cache(maxsize=1)
def _blas() -> ThreadpoolController:
    return ThreadpoolController()


class Encoder(Protocol):
    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> Matrix: ...


def embedding_text(doc: ProductDoc) -> str:
    """The name, then the attribute words it does not already say; no price or stock."""
    words = doc.name.casefold()
    extra = [
        value
        for value in (doc.article_type, doc.colour, doc.gender, doc.usage, doc.season, doc.sub_category)
        if value and value.casefold() not in words
    ]
    return " ".join([doc.name, *dict.fromkeys(extra)]).strip()


def text_key(text: str, model: str = MODEL_NAME) -> str:
    return hashlib.sha256(f"{model}\0{text}".encode()).hexdigest()


class EmbeddingCache:
    """Vectors by content hash in one SQLite file; safe from several threads."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "minilm-l6-v2.sqlite3"
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")

    def get_many(self, keys: Sequence[str]) -> dict[str, Matrix]:
        found: dict[str, Matrix] = {}
        unique = list(dict.fromkeys(keys))
        with self._lock:
            for start in range(0, len(unique), 500):
                chunk = unique[start : start + 500]
                marks = ", ".join("?" for _ in chunk)
                for key, blob in self._db.execute(
                    f"SELECT key, vector FROM vectors WHERE key IN ({marks})",  # noqa: S608
                    chunk,
                ):
                    vector = np.frombuffer(blob, dtype=np.float32)
                    if vector.shape == (DIM,):
                        found[key] = vector
        return found

    def put_many(self, items: dict[str, Matrix]) -> None:
        if not items:
            return
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)",
                [(key, np.asarray(v, dtype=np.float32).tobytes()) for key, v in items.items()],
            )
            self._db.execute("COMMIT")

    def __len__(self) -> int:
        with self._lock:
            (n,) = self._db.execute("SELECT count(*) FROM vectors").fetchone()
        return int(n)

    def close(self) -> None:
        with self._lock:
            self._db.close()


@dataclass
class IndexStats:
    documents: int = 0
    encoded: int = 0
    from_cache: int = 0
    from_store: int = 0
    written_to_store: int = 0
    seconds: float = 0.0


def _payload(doc: ProductDoc, key: str) -> dict[str, Any]:
    """Attributes that change only with the product itself (never price or stock)."""
    payload: dict[str, Any] = {field: getattr(doc, field) for field in FACET_FIELDS}
    payload["year"] = doc.year
    payload["text_hash"] = key
    return payload


class SemanticIndex:
    """MiniLM vectors of the catalog: durable in a ``VectorStore``, searched in memory."""

    def __init__(
        self,
        vectors: VectorStore | None,
        *,
        cache_dir: Path,
        encoder: Encoder | None = None,
        collection: str = COLLECTION,
    ) -> None:
        self._store = vectors
        self._cache = EmbeddingCache(cache_dir)
        self._encoder = encoder
        self._collection = collection
        self._lock = threading.RLock()
        self._store_ready = False
        self._matrix: Matrix = np.zeros((0, DIM), dtype=np.float32)
        self._ids: list[str] = []
        self._rows: dict[str, int] = {}
        self._alive = np.zeros(0, dtype=bool)
        self._codes: dict[str, np.ndarray[Any, np.dtype[np.int32]]] = {
            f: np.zeros(0, dtype=np.int32) for f in FACET_FIELDS
        }
        self._vocab: dict[str, dict[str, int]] = {f: {} for f in FACET_FIELDS}
        self._price = np.zeros(0, dtype=np.float64)
        self._in_stock = np.zeros(0, dtype=bool)
        self._sizes: dict[str, np.ndarray[Any, np.dtype[np.bool_]]] = {}
        self._queries: OrderedDict[str, Matrix] = OrderedDict()

    # -- state ----------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """Whether any product is searchable."""
        return bool(self._alive.any())

    def __len__(self) -> int:
        return int(self._alive.sum())

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            from rag.embeddings import default_encoder

            self._encoder = default_encoder()
        return self._encoder

    def _ensure_store(self) -> None:
        if self._store is not None and not self._store_ready:
            self._store.ensure_collection(self._collection, DIM, "COSINE")
            self._store_ready = True

    def _grow(self, needed: int) -> None:
        capacity = self._matrix.shape[0]
        if needed <= capacity:
            return
        new = max(needed, capacity * 2, 1024)
        matrix = np.zeros((new, DIM), dtype=np.float32)
        matrix[:capacity] = self._matrix
        self._matrix = matrix
        self._alive = np.concatenate([self._alive, np.zeros(new - capacity, dtype=bool)])
        for field in FACET_FIELDS:
            self._codes[field] = np.concatenate([self._codes[field], np.full(new - capacity, -1, np.int32)])
        self._price = np.concatenate([self._price, np.zeros(new - capacity)])
        self._in_stock = np.concatenate([self._in_stock, np.zeros(new - capacity, dtype=bool)])
        for label, column in list(self._sizes.items()):
            self._sizes[label] = np.concatenate([column, np.zeros(new - capacity, dtype=bool)])

    def _code(self, field: str, value: str | None) -> int:
        if value is None:
            return -1
        vocab = self._vocab[field]
        return vocab.setdefault(value, len(vocab))

    def _set_availability(self, row: int, doc: ProductDoc) -> None:
        self._price[row] = doc.price
        self._in_stock[row] = doc.in_stock
        for column in self._sizes.values():
            column[row] = False
        for label in doc.sizes_available:
            key = size_key(label)
            if key not in self._sizes:
                self._sizes[key] = np.zeros(self._matrix.shape[0], dtype=bool)
            self._sizes[key][row] = True

    def _place(self, doc: ProductDoc, vector: Matrix) -> None:
        row = self._rows.get(doc.id)
        if row is None:
            row = len(self._ids)
            self._grow(row + 1)
            self._ids.append(doc.id)
            self._rows[doc.id] = row
        self._matrix[row] = vector
        self._alive[row] = True
        for field in FACET_FIELDS:
            self._codes[field][row] = self._code(field, getattr(doc, field))
        self._set_availability(row, doc)

    # -- writing --------------------------------------------------------------------------

    def index(self, docs: Sequence[ProductDoc], progress: Progress | None = None) -> IndexStats:
        """Make ``docs`` searchable, encoding only texts neither the cache nor the store has."""
        started = time.perf_counter()
        stats = IndexStats(documents=len(docs))
        self._ensure_store()
        unique = list({doc.id: doc for doc in docs}.values())
        for start in range(0, len(unique), BATCH):
            self._index_batch(unique[start : start + BATCH], stats)
            if progress is not None:
                progress(min(start + BATCH, len(unique)), len(unique))
        stats.seconds = round(time.perf_counter() - started, 3)
        logger.info("semantic index updated", extra={"stats": stats.__dict__})
        return stats

    def _index_batch(self, docs: list[ProductDoc], stats: IndexStats) -> None:
        keys = [text_key(embedding_text(doc)) for doc in docs]
        vectors: dict[str, Matrix] = {}
        stored: dict[str, str] = {}
        if self._store is not None:
            for record in self._store.get(self._collection, [doc.id for doc in docs]):
                stored[record.id] = str(record.payload.get("text_hash", ""))
                if stored[record.id]:
                    vectors.setdefault(stored[record.id], np.asarray(record.vector, dtype=np.float32))
        from_store = {k for k in keys if k in vectors}
        cached = self._cache.get_many([k for k in keys if k not in vectors])
        vectors.update(cached)
        missing = [(k, doc) for k, doc in zip(keys, docs, strict=True) if k not in vectors]
        missing_unique = list(dict(missing).items())
        if missing_unique:
            encoded = self.encoder.encode([embedding_text(doc) for _, doc in missing_unique])
            fresh = {k: encoded[i] for i, (k, _) in enumerate(missing_unique)}
            self._cache.put_many(fresh)
            vectors.update(fresh)
        if from_store:
            # Vectors recovered from the store seed the cache too (a new machine, an emptied cache).
            self._cache.put_many({k: vectors[k] for k in from_store if k not in cached})
        stats.encoded += len(missing_unique)
        stats.from_cache += sum(1 for k in keys if k in cached)
        stats.from_store += sum(1 for k in keys if k in from_store)
        stale = [(doc, k) for doc, k in zip(docs, keys, strict=True) if stored.get(doc.id) != k]
        if self._store is not None and stale:
            self._store.upsert(
                self._collection,
                [doc.id for doc, _ in stale],
                [vectors[k].tolist() for _, k in stale],
                [_payload(doc, k) for doc, k in stale],
            )
            stats.written_to_store += len(stale)
        with self._lock:
            for doc, key in zip(docs, keys, strict=True):
                self._place(doc, vectors[key])

    def update_availability(self, docs: Sequence[ProductDoc]) -> int:
        """New price, stock and sizes for known products; no encoding, no vector write."""
        updated = 0
        with self._lock:
            for doc in docs:
                row = self._rows.get(doc.id)
                if row is not None and self._alive[row]:
                    self._set_availability(row, doc)
                    updated += 1
        return updated

    def delete(self, ids: Sequence[str]) -> None:
        with self._lock:
            for id_ in ids:
                row = self._rows.get(id_)
                if row is not None:
                    self._alive[row] = False
        if self._store is not None and ids:
            self._ensure_store()
            self._store.delete(self._collection, list(dict.fromkeys(ids)))

    # -- searching ------------------------------------------------------------------------

    def encode_query(self, text: str) -> Matrix:
        cached = self._queries.get(text)
        if cached is not None:
            self._queries.move_to_end(text)
            return cached
        vector: Matrix = self.encoder.encode([text])[0]
        self._queries[text] = vector
        while len(self._queries) > QUERY_CACHE:
            self._queries.popitem(last=False)
        return vector

    def _mask(self, filters: SearchFilters, n: int) -> np.ndarray[Any, np.dtype[np.bool_]]:
        mask = self._alive[:n].copy()
        for field in FACET_FIELDS:
            values: list[str] = getattr(filters, field)
            if values:
                vocab = self._vocab[field]
                codes = [vocab[v] for v in values if v in vocab]
                mask &= np.isin(self._codes[field][:n], codes) if codes else False
        if filters.price_min is not None:
            mask &= self._price[:n] >= filters.price_min
        if filters.price_max is not None:
            mask &= self._price[:n] <= filters.price_max
        if filters.in_stock is not None:
            mask &= self._in_stock[:n] == filters.in_stock
        if filters.size:
            column = self._sizes.get(size_key(filters.size))
            mask &= column[:n] if column is not None else False
        return mask

    def search(self, text: str, filters: SearchFilters | None = None, top_k: int = 10) -> EngineResult:
        """The ``top_k`` products closest to ``text`` among those passing ``filters`` (cosine)."""
        if not text.strip():
            return EngineResult(hits=[], total=0)
        return self.search_vector(self.encode_query(text), filters, top_k)

    def search_vector(
        self, vector: Matrix, filters: SearchFilters | None = None, top_k: int = 10
    ) -> EngineResult:
        if isinstance(top_k, bool) or not 1 <= top_k <= MAX_TOP_K:
            raise ValueError(f"top_k must be between 1 and {MAX_TOP_K}, got {top_k!r}")
        with self._lock:
            n = len(self._ids)
            if n == 0:
                return EngineResult(hits=[], total=0)
            mask = self._mask(filters or SearchFilters(), n)
            if not mask.any():
                return EngineResult(hits=[], total=0)
            query = np.asarray(vector, dtype=np.float32)
            rows = np.flatnonzero(mask)
            # The scan is memory-bound (68 MB at 44k products): one BLAS thread is as fast as two
            # and does not spin the other core; a selective filter scores only its own rows.
            with _blas().limit(limits=1, user_api="blas"):
                if len(rows) * SELECTIVE < n:
                    scores = self._matrix[rows] @ query
                else:
                    scores = (self._matrix[:n] @ query)[rows]
            k = min(top_k, len(rows))
            top = np.argpartition(-scores, k - 1)[:k] if k < len(rows) else np.arange(len(rows))
            # Highest score first; equal scores in row order, so results are reproducible.
            order = top[np.lexsort((rows[top], -scores[top]))]
            hits = [ScoredId(id=self._ids[rows[i]], score=round(float(scores[i]), 6)) for i in order]
        return EngineResult(hits=hits, total=k)

    def vectors(self, ids: Sequence[str]) -> dict[str, Matrix]:
        """The indexed vectors of these products (copies); products not indexed yet are left out."""
        with self._lock:
            found: dict[str, Matrix] = {}
            for id_ in ids:
                row = self._rows.get(id_)
                if row is not None and self._alive[row]:
                    found[id_] = self._matrix[row].copy()
            return found

    def close(self) -> None:
        self._cache.close()
