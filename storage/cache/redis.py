"""Redis adapter: the production cache, shared by every API pod.

Every key gets ``key_prefix`` so several deployments (or test runs) can share one
Redis without seeing each other's data. Redis errors are translated into
``storage.errors`` so callers never import ``redis``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import redis
import redis.exceptions

from storage.cache.base import check_key, check_ttl, ttl_ms
from storage.errors import CacheTypeError, StoreUnavailable

# INCRBY and "set a TTL if there is none" in one step: a MULTI pipeline cannot branch
# on PTTL, and two round trips would let a crash leave a counter that never expires.
_INCR_WITH_TTL = """
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if ARGV[2] ~= '' and redis.call('PTTL', KEYS[1]) == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return value
"""


class RedisCache:
    """The ``Cache`` protocol over one Redis database."""

    def __init__(self, client: redis.Redis[bytes], key_prefix: str = "ik:") -> None:
        self._client = client
        self._prefix = key_prefix
        self._incr_script = client.register_script(_INCR_WITH_TTL)

    @classmethod
    def from_url(cls, url: str, key_prefix: str = "ik:", *, timeout_s: float = 5.0) -> RedisCache:
        """Connect lazily (the first command connects), with timeouts so a dead Redis fails fast."""
        client = redis.Redis.from_url(
            url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            health_check_interval=30,
        )
        return cls(client, key_prefix)

    def _key(self, key: str) -> str:
        return self._prefix + check_key(key)

    @contextmanager
    def _translated(self, key: str) -> Iterator[None]:
        try:
            yield
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            raise StoreUnavailable(f"Redis is unavailable: {exc}") from exc
        except redis.exceptions.ResponseError as exc:
            message = str(exc)
            if "WRONGTYPE" in message:
                raise CacheTypeError(f"key {key!r} holds another kind of value: {message}") from exc
            if "not an integer" in message:
                raise ValueError(f"key {key!r} does not hold an integer") from exc
            raise

    def get(self, key: str) -> bytes | None:
        with self._translated(key):
            value = self._client.get(self._key(key))
        return None if value is None else bytes(value)

    def set(self, key: str, value: bytes, ttl_s: float | None = None) -> None:
        ttl = check_ttl(ttl_s)
        if not isinstance(value, bytes | bytearray | memoryview):
            raise TypeError(f"cache values are bytes, got {type(value).__name__}")
        with self._translated(key):
            self._client.set(self._key(key), bytes(value), px=None if ttl is None else ttl_ms(ttl))

    def delete(self, key: str) -> bool:
        with self._translated(key):
            return bool(self._client.delete(self._key(key)))

    def incr(self, key: str, amount: int = 1, ttl_s: float | None = None) -> int:
        ttl = check_ttl(ttl_s)
        with self._translated(key):
            result = self._incr_script(
                keys=[self._key(key)], args=[int(amount), "" if ttl is None else ttl_ms(ttl)]
            )
        return int(result)

    def expire(self, key: str, ttl_s: float) -> bool:
        ttl = check_ttl(ttl_s)
        if ttl is None:
            raise ValueError("expire needs a TTL; use set() to make a value permanent")
        with self._translated(key):
            return bool(self._client.pexpire(self._key(key), ttl_ms(ttl)))

    def zincrby(self, board: str, member: str, amount: float = 1.0) -> float:
        with self._translated(board):
            return float(self._client.zincrby(self._key(board), float(amount), member))

    def ztop(self, board: str, n: int) -> list[tuple[str, float]]:
        key = self._key(board)
        if n <= 0:  # ZREVRANGE 0 -1 would return the whole board
            return []
        with self._translated(board):
            rows = self._client.zrevrange(key, 0, n - 1, withscores=True)
        return [(bytes(member).decode(), float(score)) for member, score in rows]

    def ping(self) -> bool:
        try:
            return bool(self._client.ping())
        except redis.exceptions.RedisError:
            return False

    def close(self) -> None:
        self._client.close()
