"""The cache contract, shared by the in-process cache and Redis.

Values are bytes so the cache never guesses an encoding; JSON helpers sit on top.
Counters and leaderboards are part of the contract because rate limits and "hot"
rankings need atomic updates across API pods, which get/set cannot give.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

from core.config import CacheTTLs
from storage.errors import StoreUnavailable

logger = logging.getLogger(__name__)
T = TypeVar("T")


@runtime_checkable
class Cache(Protocol):
    """A key-value cache with TTLs, atomic counters and leaderboards.

    Keys are non-empty strings (any Unicode). A TTL of ``None`` means the entry lives
    until deleted or evicted; otherwise it must be a positive number of seconds.
    A cache may evict entries early (memory pressure), so it holds nothing that
    cannot be rebuilt.
    """

    def get(self, key: str) -> bytes | None:
        """The value, or ``None`` when absent or expired."""
        ...

    def set(self, key: str, value: bytes, ttl_s: float | None = None) -> None:
        """Store ``value``; replaces any previous value *and* its TTL."""
        ...

    def delete(self, key: str) -> bool:
        """Remove the key (value, counter or leaderboard); ``True`` if it existed."""
        ...

    def incr(self, key: str, amount: int = 1, ttl_s: float | None = None) -> int:
        """Atomically add ``amount`` to an integer counter (created at 0) and return the result.

        ``ttl_s`` is applied only while the key has no expiry, i.e. when the counter is
        created: a fixed-window rate limit must not slide its window on every hit.
        Raises ``ValueError`` if the key holds a non-integer value.
        """
        ...

    def expire(self, key: str, ttl_s: float) -> bool:
        """Set the key's TTL; ``False`` if the key does not exist."""
        ...

    def zincrby(self, board: str, member: str, amount: float = 1.0) -> float:
        """Atomically add ``amount`` to ``member``'s score on ``board`` and return the new score."""
        ...

    def ztop(self, board: str, n: int) -> list[tuple[str, float]]:
        """The ``n`` highest scores, highest first; ties by member, descending (as Redis does)."""
        ...

    def ping(self) -> bool:
        """Whether the cache answers; for health checks, never raises."""
        ...

    def close(self) -> None:
        """Release connections; the cache must not be used afterwards."""
        ...


def check_key(key: str) -> str:
    """Refuse the empty key, which Redis accepts but which is always a caller's bug."""
    if not isinstance(key, str) or not key:
        raise ValueError("cache keys must be non-empty strings")
    return key


def check_ttl(ttl_s: float | None) -> float | None:
    """Refuse zero, negative and non-finite TTLs, which Redis rejects or treats as 'delete'."""
    if ttl_s is None:
        return None
    if isinstance(ttl_s, bool) or not math.isfinite(ttl_s) or ttl_s <= 0:
        raise ValueError(f"ttl_s must be a positive number of seconds or None, got {ttl_s!r}")
    return float(ttl_s)


def ttl_ms(ttl_s: float) -> int:
    """Seconds to Redis milliseconds, rounded up so a tiny TTL never becomes 0 (an error)."""
    return max(1, math.ceil(ttl_s * 1000))


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON: non-ASCII text stays readable and small."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def get_json(cache: Cache, key: str) -> Any:
    """The JSON value under ``key``, or ``None`` when absent."""
    raw = cache.get(key)
    return None if raw is None else json.loads(raw)


def set_json(cache: Cache, key: str, value: Any, ttl_s: float | None = None) -> None:
    """Store ``value`` as JSON; NaN and infinities are refused since no JSON reader accepts them."""
    cache.set(key, dumps(value), ttl_s)


def or_when_down(call: Callable[[], T], default: T, what: str) -> T:
    """``call()``, or ``default`` (logged) when the cache server is down.

    For cached copies and derived counters only, whose source of truth is elsewhere: an
    outage then costs speed or freshness, not the request. Data that exists only in the
    cache (idempotency ids, queues) must let ``StoreUnavailable`` propagate instead.
    """
    try:
        return call()
    except StoreUnavailable as exc:
        logger.warning("cache unavailable; %s skipped", what, extra={"error": str(exc)[:300]})
        return default


@dataclass(frozen=True)
class Namespace:
    """A slice of the cache with its own key prefix and default TTL.

    The design gives each kind of cached data its own lifetime; binding the TTL to
    the namespace means a caller cannot forget it (or pick a different one). A namespace
    holds copies and derived counts, so a cache server that is down reads as a miss and
    drops writes (``or_when_down``): callers fall back to the source of truth.
    """

    cache: Cache
    name: str
    #: ``None`` for data that lives until it is deleted (live leaderboards).
    ttl_s: float | None

    def key(self, key: str) -> str:
        return f"{self.name}:{check_key(key)}"

    def get(self, key: str) -> bytes | None:
        full = self.key(key)
        return or_when_down(lambda: self.cache.get(full), None, f"reading {self.name}")

    def set(self, key: str, value: bytes) -> None:
        full = self.key(key)
        or_when_down(lambda: self.cache.set(full, value, self.ttl_s), None, f"caching {self.name}")

    def delete(self, key: str) -> bool:
        full = self.key(key)
        return or_when_down(lambda: self.cache.delete(full), False, f"dropping a {self.name} entry")

    def get_json(self, key: str) -> Any:
        full = self.key(key)
        return or_when_down(lambda: get_json(self.cache, full), None, f"reading {self.name}")

    def set_json(self, key: str, value: Any) -> None:
        data = dumps(value)  # a value no JSON reader accepts is the caller's bug, outage or not
        self.set(key, data)

    def incr(self, key: str, amount: int = 1) -> int:
        full = self.key(key)
        return or_when_down(lambda: self.cache.incr(full, amount, self.ttl_s), 0, f"counting {self.name}")

    def zincrby(self, board: str, member: str, amount: float = 1.0) -> float:
        full = self.key(board)

        def bump() -> float:
            score = self.cache.zincrby(full, member, amount)
            if self.ttl_s is not None:
                self.cache.expire(full, self.ttl_s)
            return score

        return or_when_down(bump, 0.0, f"updating {self.name}")

    def ztop(self, board: str, n: int) -> list[tuple[str, float]]:
        full = self.key(board)
        return or_when_down(lambda: self.cache.ztop(full, n), [], f"reading {self.name}")


@dataclass(frozen=True)
class Namespaces:
    """The design's cache namespaces, with TTLs from ``CacheSettings.ttl``."""

    recommendations: Namespace
    sessions: Namespace
    hot_products: Namespace
    api_responses: Namespace
    #: Live leaderboards: no TTL, they are updated in place forever.
    leaderboards: Namespace

    @classmethod
    def create(cls, cache: Cache, ttl: CacheTTLs) -> Namespaces:
        return cls(
            recommendations=Namespace(cache, "recommendations", ttl.recommendations),
            sessions=Namespace(cache, "sessions", ttl.sessions),
            hot_products=Namespace(cache, "hot_products", ttl.hot_products),
            api_responses=Namespace(cache, "api_responses", ttl.api_responses),
            leaderboards=Namespace(cache, "leaderboards", None),
        )
