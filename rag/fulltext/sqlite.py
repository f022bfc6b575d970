"""SQLite FTS5 full-text index: the embedded engine, one file, no server.

One table holds each product's filterable columns and its whole ``ProductDoc`` as JSON (so
``get`` needs no other store); an FTS5 table holds its words with the Porter stemmer, so
"dresses" finds "Dress". Columns are weighted in BM25: the product name first, then article
type and colour, then the other attributes. Chinese product text (the shipped catalog has
none, connectors may) is indexed as Han character bigrams in a column of its own, and
Chinese queries reach the English columns translated through the lexicon (``rag.lexicon``).

User text never reaches FTS5's query syntax: it is cut into words and Han bigrams, each
quoted, and OR-ed, so ``"*():^-`` in a query are just characters that match nothing.

Each thread gets its own connection (FastAPI runs sync endpoints in a threadpool); the file
is in WAL mode so readers never wait for the writer, and writes go one at a time under a
lock. FTS5 finds and scores the products that mention the words; filtering, preferences, the
page and the facet counts are array operations over a column copy (``rag.fulltext.columns``).
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from rag.documents import FACET_FIELDS, EngineResult, ProductDoc, ScoredId, SearchFilters, size_key
from rag.fulltext.base import check_page
from rag.fulltext.columns import Columns
from rag.lexicon import fts_terms, han_bigrams

logger = logging.getLogger(__name__)

#: BM25 weights of the FTS columns: name, article type, colour, other attributes, Han bigrams.
WEIGHTS = (4.0, 3.0, 2.5, 1.0, 3.0)
#: Score added per soft-preference field a product matches (a BM25 score is typically 2-15).
PREFER_WEIGHT = 1.5
#: More query words than this are dropped: a search box is not a document.
MAX_MATCH_TERMS = 32
#: SQLite's default limit on host parameters is 32766; stay well under it per statement.
_CHUNK = 500
_SEP = "\x1f"
_WORD = re.compile(r"[a-z0-9]+|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS products (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    {", ".join(f"{field} TEXT" for field in FACET_FIELDS)},
    year INTEGER,
    price REAL NOT NULL,
    in_stock INTEGER NOT NULL,
    sizes TEXT NOT NULL
);
-- The JSON lives apart so that filter scans over products read small rows.
CREATE TABLE IF NOT EXISTS docs (rowid INTEGER PRIMARY KEY, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS products_browse ON products (in_stock DESC, year DESC, id);
CREATE INDEX IF NOT EXISTS products_article_type ON products (article_type);
CREATE INDEX IF NOT EXISTS products_colour ON products (colour);
CREATE INDEX IF NOT EXISTS products_sub_category ON products (sub_category);
CREATE VIRTUAL TABLE IF NOT EXISTS products_fts USING fts5(
    name, article_type, colour, attrs, han, tokenize = 'porter unicode61 remove_diacritics 2'
);
"""

_COLUMNS = ("id", *FACET_FIELDS, "year", "price", "in_stock", "sizes")
# Column names are constants; values are parameters.
_UPSERT = (
    f"INSERT INTO products ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)}) "  # noqa: S608
    f"ON CONFLICT(id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in _COLUMNS[1:])} "
    "RETURNING rowid"
)


def _sizes(labels: Sequence[str]) -> str:
    return _SEP + _SEP.join(size_key(label) for label in labels) + _SEP if labels else ""


def _row(doc: ProductDoc) -> tuple[Any, ...]:
    return (
        doc.id,
        *(getattr(doc, field) for field in FACET_FIELDS),
        doc.year,
        doc.price,
        int(doc.in_stock),
        _sizes(doc.sizes_available),
    )


def _fts_row(doc: ProductDoc) -> tuple[str, ...]:
    name = " ".join(p for p in (doc.name, doc.brand) if p)
    attrs = " ".join(p for p in (doc.gender, doc.master_category, doc.season, doc.usage, doc.brand) if p)
    type_words = " ".join(p for p in (doc.article_type, doc.sub_category) if p)
    return (name, type_words, doc.colour or "", attrs, " ".join(han_bigrams(name)))


def match_expression(terms: Sequence[str]) -> str:
    """An FTS5 query OR-ing quoted words and Han bigrams; no user character is syntax."""
    parts: list[str] = []
    for term in terms:
        words = _WORD.findall(str(term).casefold())
        pieces: list[str] = []
        for word in words:
            pieces.extend(han_bigrams(word) if not word.isascii() else [word])
        if pieces:
            # A multi-word term ("full sleeve") is a phrase; quotes cannot occur in the pieces.
            parts.append('"' + " ".join(pieces) + '"')
    return " OR ".join(dict.fromkeys(parts[:MAX_MATCH_TERMS]))


class SqliteFullTextIndex:
    """``FullTextIndex`` over one SQLite file with FTS5."""

    def __init__(self, path: Path | str) -> None:
        self._path = Path(path)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._ensured = False
        #: Bumped on every write, so the column copy is rebuilt only after one.
        self._generation = 0
        self._column_cache: tuple[int, Columns] | None = None
        self._columns_lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self._path

    # -- connections ----------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                str(self._path), isolation_level=None, check_same_thread=False, timeout=30.0
            )
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute("PRAGMA temp_store = MEMORY")
            connection.execute("PRAGMA cache_size = -32000")
            self._local.connection = connection
            with self._connections_lock:
                self._connections.append(connection)
            if not self._ensured:
                self.ensure()
        return connection

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        connection = self._connection()
        with self._write_lock:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            finally:
                self._generation += 1
            connection.execute("COMMIT")

    # -- the FullTextIndex protocol -------------------------------------------------------

    def ensure(self) -> None:
        self._ensured = True
        connection = self._connection()
        with self._write_lock:
            connection.executescript(_SCHEMA)

    def upsert(self, docs: Sequence[ProductDoc]) -> None:
        if not docs:
            return
        with self._writing() as connection:
            for doc in docs:
                (rowid,) = connection.execute(_UPSERT, _row(doc)).fetchone()
                connection.execute(
                    "INSERT OR REPLACE INTO docs (rowid, doc) VALUES (?, ?)", (rowid, doc.model_dump_json())
                )
                connection.execute("DELETE FROM products_fts WHERE rowid = ?", (rowid,))
                connection.execute(
                    "INSERT INTO products_fts (rowid, name, article_type, colour, attrs, han) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (rowid, *_fts_row(doc)),
                )

    def delete(self, ids: Sequence[str]) -> None:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return
        with self._writing() as connection:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                marks = ", ".join("?" for _ in chunk)
                connection.execute(
                    "DELETE FROM products_fts WHERE rowid IN "  # noqa: S608
                    f"(SELECT rowid FROM products WHERE id IN ({marks}))",
                    chunk,
                )
                connection.execute(
                    f"DELETE FROM docs WHERE rowid IN (SELECT rowid FROM products WHERE id IN ({marks}))",  # noqa: S608
                    chunk,
                )
                connection.execute(f"DELETE FROM products WHERE id IN ({marks})", chunk)  # noqa: S608

    def get(self, ids: Sequence[str]) -> list[ProductDoc]:
        wanted = list(ids)
        found: dict[str, ProductDoc] = {}
        connection = self._connection()
        unique = list(dict.fromkeys(wanted))
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            marks = ", ".join("?" for _ in chunk)
            for id_, doc in connection.execute(
                "SELECT p.id, d.doc FROM products p JOIN docs d ON d.rowid = p.rowid "  # noqa: S608
                f"WHERE p.id IN ({marks})",
                chunk,
            ):
                found[id_] = ProductDoc.model_validate_json(doc)
        return [found[id_] for id_ in wanted if id_ in found]

    def count(self) -> int:
        (n,) = self._connection().execute("SELECT count(*) FROM products").fetchone()
        return int(n)

    def search(
        self,
        text: str | Sequence[str],
        filters: SearchFilters | None = None,
        *,
        limit: int = 10,
        offset: int = 0,
        facets: bool = False,
        prefer: SearchFilters | None = None,
    ) -> EngineResult:
        check_page(limit, offset)
        terms = fts_terms(text) if isinstance(text, str) else list(text)
        expression = match_expression(terms)
        if terms and not expression:
            # Only punctuation or symbols: nothing can match them.
            return EngineResult(hits=[], total=0, facets={})
        connection = self._connection()
        columns = self._columns(connection)
        mask = columns.mask(filters or SearchFilters())
        boost = columns.boost(prefer, PREFER_WEIGHT)
        if expression:
            weights = ", ".join(str(w) for w in WEIGHTS)
            try:
                matched = connection.execute(
                    f"SELECT rowid, -bm25(products_fts, {weights}) FROM products_fts "  # noqa: S608
                    "WHERE products_fts MATCH ?",
                    (expression,),
                ).fetchall()
            except sqlite3.OperationalError as exc:
                # The expression is built from quoted words only, so this is an engine fault, not user input.
                logger.error("full-text search failed", extra={"error": str(exc), "match": expression})
                raise
            rowids = np.fromiter((r[0] for r in matched), dtype=np.int64, count=len(matched))
            scores = np.fromiter((r[1] for r in matched), dtype=np.float64, count=len(matched))
            positions = np.minimum(columns.positions(rowids), max(columns.size - 1, 0))
            # A row written after the columns were read is left out until the next search.
            known = columns.rowids[positions] == rowids if columns.size else np.zeros(0, dtype=np.bool_)
            if mask is not None:
                known &= mask[positions]
            positions, scores = positions[known], scores[known]
        else:
            positions = np.flatnonzero(mask) if mask is not None else np.arange(columns.size)
            scores = np.zeros(positions.size, dtype=np.float64)
        if boost is not None:
            scores = scores + boost[positions]
        chosen = columns.page(positions, scores, limit, offset)
        hits = [ScoredId(id=columns.ids[positions[i]], score=round(float(scores[i]), 6)) for i in chosen]
        counts: dict[str, dict[str, int]] = {}
        if facets:
            counts = columns.facets(positions if (expression or mask is not None) else None)
        return EngineResult(hits=hits, total=int(positions.size), facets=counts)

    def _columns(self, connection: sqlite3.Connection) -> Columns:
        """The column copy for the current generation, rebuilt after a write."""
        with self._columns_lock:
            cached = self._column_cache
            if cached is not None and cached[0] == self._generation:
                return cached[1]
            generation = self._generation
        columns = Columns(connection)
        with self._columns_lock:
            self._column_cache = (generation, columns)
        return columns

    def clear(self) -> None:
        with self._writing() as connection:
            connection.execute("DELETE FROM products_fts")
            connection.execute("DELETE FROM docs")
            connection.execute("DELETE FROM products")

    def ping(self) -> bool:
        try:
            self._connection().execute("SELECT 1").fetchone()
        except Exception:  # a health check reports failure, whatever its cause
            return False
        return True

    def close(self) -> None:
        with self._connections_lock:
            for connection in self._connections:
                try:
                    connection.close()
                except sqlite3.Error:
                    logger.warning("closing a full-text connection failed", exc_info=True)
            self._connections.clear()
            self._local = threading.local()
