"""Errors shared by every store, so callers handle failures without knowing the adapter.

Each adapter translates its client library's exceptions into these, which lets the
API map them to status codes in one place (``StoreUnavailable`` -> 503, not-found
errors -> 404, invalid input -> 422) and keeps ``redis``/``minio``/``pymilvus`` types
from leaking into business code. Input errors also subclass ``ValueError`` and
not-found errors ``LookupError`` so plain ``except ValueError`` keeps working.
"""

from __future__ import annotations


class StorageError(Exception):
    """Base class of every error raised by a store."""


class StoreUnavailable(StorageError):
    """The backing server cannot be reached or timed out; the operation may succeed later."""


# --- cache ---------------------------------------------------------------------------


class CacheTypeError(StorageError, TypeError):
    """An operation met a key holding the other kind of value (a counter vs a leaderboard)."""


# --- objects -------------------------------------------------------------------------


class InvalidObjectKey(StorageError, ValueError):
    """A key that could escape the store's folder or that S3 and a filesystem disagree on."""


class ObjectNotFound(StorageError, LookupError):
    """No object is stored under the key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no object stored under key {key!r}")
        self.key = key


# --- events --------------------------------------------------------------------------


class UnknownTopic(StorageError, ValueError):
    """A topic outside the design's fixed set (and their dead-letter topics)."""


# --- vectors -------------------------------------------------------------------------


class CollectionNotFound(StorageError, LookupError):
    """The vector collection was never created (or was dropped)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"vector collection {name!r} does not exist; call ensure_collection first")
        self.name = name


class DimensionMismatch(StorageError, ValueError):
    """A vector's length differs from its collection's dimension."""


class CollectionConflict(StorageError, ValueError):
    """``ensure_collection`` found an existing collection with another dimension or metric."""
