"""An in-memory column copy of the full-text index's filter fields, for filtering, ranking and facets.

SQLite answers "which products mention these words" quickly through FTS5, but a broad
search ("black": 9,700 matches; a browse of the whole catalogue: 44,000) then spent most of
its time materialising matches, sorting them and grouping them for facet counts (50-220 ms
on 2 cores). Those steps are array operations: a boolean mask per filter, a ``bincount`` per
facet and a partial sort for the page take a few milliseconds over the whole catalogue.

The copy is rebuilt from the ``products`` table after any write (about 50 ms for 44k rows),
lazily, by the first search that needs it; the table stays the source of truth.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

import numpy as np

from rag.documents import FACET_FIELDS, SearchFilters, size_key

_SEP = "\x1f"

IntArray = np.ndarray[Any, np.dtype[np.int64]]
FloatArray = np.ndarray[Any, np.dtype[np.float64]]
BoolArray = np.ndarray[Any, np.dtype[np.bool_]]


@dataclass(frozen=True)
class _Field:
    values: list[str]
    #: value -> code; code -1 means "no value".
    codes_of: dict[str, int]
    codes: IntArray


class Columns:
    """Filter columns of every product, in ``rowid`` order."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        columns = ", ".join(FACET_FIELDS)
        rows = connection.execute(
            f"SELECT rowid, id, {columns}, year, price, in_stock, sizes FROM products ORDER BY rowid"  # noqa: S608
        ).fetchall()
        n = len(rows)
        self.size = n
        self.rowids: IntArray = np.fromiter((r[0] for r in rows), dtype=np.int64, count=n)
        self.ids: list[str] = [r[1] for r in rows]
        self.fields: dict[str, _Field] = {}
        for position, field in enumerate(FACET_FIELDS, start=2):
            values = sorted({r[position] for r in rows if r[position] is not None})
            codes_of = {v: i for i, v in enumerate(values)}
            codes = np.fromiter(
                (codes_of.get(r[position], -1) if r[position] is not None else -1 for r in rows),
                dtype=np.int64,
                count=n,
            )
            self.fields[field] = _Field(values, codes_of, codes)
        base = 2 + len(FACET_FIELDS)
        year = np.fromiter((r[base] if r[base] is not None else -1 for r in rows), dtype=np.int64, count=n)
        self.price: FloatArray = np.fromiter((r[base + 1] for r in rows), dtype=np.float64, count=n)
        self.in_stock: BoolArray = np.fromiter((bool(r[base + 2]) for r in rows), dtype=np.bool_, count=n)
        self._sizes: dict[str, BoolArray] = {}
        for index, row in enumerate(rows):
            for label in str(row[base + 3]).split(_SEP):
                if label:
                    column = self._sizes.get(label)
                    if column is None:
                        column = self._sizes[label] = np.zeros(n, dtype=np.bool_)
                    column[index] = True
        # The browse order (in stock first, newest year, then id), as one rank per product: ties in
        # score are broken by it, exactly like the SQL ``ORDER BY`` it replaces.
        id_rank = np.empty(n, dtype=np.int64)
        id_rank[np.argsort(np.array(self.ids, dtype=object), kind="stable")] = np.arange(n)
        order = np.lexsort((id_rank, -year, ~self.in_stock))
        self.browse_rank: IntArray = np.empty(n, dtype=np.int64)
        self.browse_rank[order] = np.arange(n)

    def positions(self, rowids: IntArray) -> IntArray:
        """Positions of ``rowids`` (which must exist) in the columns."""
        return np.searchsorted(self.rowids, rowids)

    def mask(self, filters: SearchFilters) -> BoolArray | None:
        """Products passing ``filters``; None when nothing filters (everything passes)."""
        mask: BoolArray | None = None

        def narrow(part: BoolArray) -> None:
            nonlocal mask
            mask = part if mask is None else mask & part

        for name in FACET_FIELDS:
            wanted: list[str] = getattr(filters, name)
            if wanted:
                field = self.fields[name]
                codes = [field.codes_of[v] for v in wanted if v in field.codes_of]
                narrow(np.isin(field.codes, codes) if codes else np.zeros(self.size, dtype=np.bool_))
        if filters.price_min is not None:
            narrow(self.price >= filters.price_min)
        if filters.price_max is not None:
            narrow(self.price <= filters.price_max)
        if filters.in_stock is not None:
            narrow(self.in_stock if filters.in_stock else ~self.in_stock)
        if filters.size:
            column = self._sizes.get(size_key(filters.size))
            narrow(column if column is not None else np.zeros(self.size, dtype=np.bool_))
        return mask

    def boost(self, prefer: SearchFilters | None, weight: float) -> FloatArray | None:
        """``weight`` per preferred field a product matches; None without preferences."""
        if prefer is None:
            return None
        total: FloatArray | None = None
        for name in FACET_FIELDS:
            wanted: list[str] = getattr(prefer, name)
            if wanted:
                field = self.fields[name]
                codes = [field.codes_of[v] for v in wanted if v in field.codes_of]
                part = np.isin(field.codes, codes).astype(np.float64) * weight
                total = part if total is None else total + part
        return total

    def page(self, positions: IntArray, scores: FloatArray, limit: int, offset: int) -> IntArray:
        """Indices into ``positions`` of one page: best score first, ties in browse order."""
        window = offset + limit
        candidates = np.arange(positions.size)
        if window == 0 or positions.size == 0:
            return candidates[:0]
        if positions.size > window:
            # Keep every product scoring at least the window's last score (ties included), then sort those.
            threshold = np.partition(-scores, window - 1)[window - 1]
            candidates = np.flatnonzero(-scores <= threshold)
        order = np.lexsort((self.browse_rank[positions[candidates]], -scores[candidates]))
        return candidates[order][offset:window]

    def facets(self, positions: IntArray | None) -> dict[str, dict[str, int]]:
        """Value counts per facet field over ``positions`` (None: every product)."""
        counts: dict[str, dict[str, int]] = {}
        for name, field in self.fields.items():
            codes = field.codes if positions is None else field.codes[positions]
            codes = codes[codes >= 0]
            tally = np.bincount(codes, minlength=len(field.values))
            present = [(field.values[i], int(c)) for i, c in enumerate(tally) if c]
            counts[name] = dict(sorted(present, key=lambda kv: (-kv[1], kv[0])))
        return counts
