"""In-process cache: the development default, and the behaviour Redis is held to.

One lock guards everything: operations are dictionary updates far cheaper than the
contention a finer scheme would save, and a single lock makes ``incr`` and
``zincrby`` trivially atomic. The LRU bound keeps a long-running process from
growing without limit, which Redis gets from ``maxmemory``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from storage.cache.base import check_key, check_ttl
from storage.errors import CacheTypeError


@dataclass
class _Entry:
    value: bytes | dict[str, float]
    expires_at: float | None


class MemoryCache:
    """Thread-safe TTL cache with least-recently-used eviction beyond ``max_entries``.

    ``clock`` returns seconds and only needs to be monotonic; tests inject a fake one
    so TTL behaviour is checked without sleeping. Expired entries are dropped when
    touched or when they reach the LRU end, so they cost memory only until then.
    """

    def __init__(self, max_entries: int = 100_000, *, clock: Callable[[], float] = time.monotonic) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """Entries held, expired ones included until they are swept."""
        with self._lock:
            return len(self._entries)

    # -- helpers, called with the lock held ------------------------------------------

    def _live(self, key: str) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires_at is not None and entry.expires_at <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry

    def _deadline(self, ttl_s: float | None) -> float | None:
        return None if ttl_s is None else self._clock() + ttl_s

    def _insert(self, key: str, entry: _Entry) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    # -- the Cache protocol -------------------------------------------------------------

    def get(self, key: str) -> bytes | None:
        check_key(key)
        with self._lock:
            entry = self._live(key)
            if entry is None:
                return None
            if not isinstance(entry.value, bytes):
                raise CacheTypeError(f"key {key!r} holds a leaderboard, not a value")
            return entry.value

    def set(self, key: str, value: bytes, ttl_s: float | None = None) -> None:
        check_key(key)
        ttl = check_ttl(ttl_s)
        if not isinstance(value, bytes | bytearray | memoryview):
            raise TypeError(f"cache values are bytes, got {type(value).__name__}")
        with self._lock:
            self._insert(key, _Entry(bytes(value), self._deadline(ttl)))

    def delete(self, key: str) -> bool:
        check_key(key)
        with self._lock:
            existed = self._live(key) is not None
            self._entries.pop(key, None)
            return existed

    def incr(self, key: str, amount: int = 1, ttl_s: float | None = None) -> int:
        check_key(key)
        ttl = check_ttl(ttl_s)
        with self._lock:
            entry = self._live(key)
            if entry is None:
                entry = _Entry(b"0", None)
            if not isinstance(entry.value, bytes):
                raise CacheTypeError(f"key {key!r} holds a leaderboard, not a counter")
            try:
                current = int(entry.value)
            except ValueError:
                raise ValueError(f"key {key!r} does not hold an integer") from None
            result = current + amount
            expires_at = entry.expires_at if entry.expires_at is not None else self._deadline(ttl)
            self._insert(key, _Entry(str(result).encode(), expires_at))
            return result

    def expire(self, key: str, ttl_s: float) -> bool:
        check_key(key)
        ttl = check_ttl(ttl_s)
        if ttl is None:
            raise ValueError("expire needs a TTL; use set() to make a value permanent")
        with self._lock:
            entry = self._live(key)
            if entry is None:
                return False
            entry.expires_at = self._deadline(ttl)
            return True

    def zincrby(self, board: str, member: str, amount: float = 1.0) -> float:
        check_key(board)
        with self._lock:
            entry = self._live(board)
            if entry is None:
                entry = _Entry({}, None)
                self._insert(board, entry)
            if not isinstance(entry.value, dict):
                raise CacheTypeError(f"key {board!r} holds a value, not a leaderboard")
            score = entry.value.get(member, 0.0) + float(amount)
            entry.value[member] = score
            return score

    def ztop(self, board: str, n: int) -> list[tuple[str, float]]:
        check_key(board)
        if n <= 0:
            return []
        with self._lock:
            entry = self._live(board)
            if entry is None:
                return []
            if not isinstance(entry.value, dict):
                raise CacheTypeError(f"key {board!r} holds a value, not a leaderboard")
            ranked = sorted(entry.value.items(), key=lambda item: (item[1], item[0]), reverse=True)
            return ranked[:n]

    def ping(self) -> bool:
        return True

    def close(self) -> None:
        with self._lock:
            self._entries.clear()
