"""One contract for every ``Cache`` adapter: the in-process cache and the real Redis.

TTLs are checked with a fake clock on the memory cache and with short real TTLs
(and sleeps) on Redis; the ``advance`` fixture hides which.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import redis

from core.config import CacheTTLs
from storage.cache import Cache, MemoryCache, Namespaces, RedisCache, get_json, set_json
from storage.cache.base import or_when_down
from storage.errors import CacheTypeError, StoreUnavailable
from tests.conftest import require_service
from tests.storage._support import FakeClock, unique


@dataclass
class Harness:
    """A cache under test, how to let time pass for it, and how to open a sibling with another prefix."""

    cache: Cache
    advance: Callable[[float], None]
    sibling: Callable[[str], Cache]


@pytest.fixture(
    params=[
        pytest.param("memory", marks=pytest.mark.unit),
        pytest.param("redis", marks=pytest.mark.integration),
    ]
)
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    if request.param == "memory":
        clock = FakeClock()
        yield Harness(
            cache=MemoryCache(max_entries=1_000, clock=clock),
            advance=clock.advance,
            sibling=lambda _prefix: MemoryCache(max_entries=1_000, clock=clock),
        )
        return

    url = require_service("IK_TEST_REDIS_URL", "Redis")
    run_prefix = unique("ik-test:")
    opened: list[RedisCache] = []

    def open_cache(prefix: str) -> RedisCache:
        cache = RedisCache.from_url(url, key_prefix=f"{run_prefix}:{prefix}")
        opened.append(cache)
        return cache

    yield Harness(cache=open_cache("main:"), advance=time.sleep, sibling=open_cache)
    # Remove only this test's keys: the server may be shared with other test runs.
    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=f"{run_prefix}*", count=500))
    if keys:
        client.delete(*keys)
    client.close()
    for cache in opened:
        cache.close()


@pytest.fixture
def cache(harness: Harness) -> Cache:
    return harness.cache


# --- values --------------------------------------------------------------------------------------


def test_get_of_a_missing_key_is_none(cache: Cache) -> None:
    assert cache.get("missing") is None


def test_set_then_get_roundtrips_bytes(cache: Cache) -> None:
    cache.set("k", b"\x00\xffbinary")
    assert cache.get("k") == b"\x00\xffbinary"
    cache.set("k", b"replaced")
    assert cache.get("k") == b"replaced"


def test_empty_value_is_a_value(cache: Cache) -> None:
    cache.set("k", b"")
    assert cache.get("k") == b""


def test_delete_reports_whether_the_key_existed(cache: Cache) -> None:
    cache.set("k", b"v")
    assert cache.delete("k") is True
    assert cache.get("k") is None
    assert cache.delete("k") is False


def test_unicode_keys_and_values(cache: Cache) -> None:
    key = "用户:会话:🙂 ünïcødé"
    cache.set(key, "今日穿搭: 白衬衫 + 牛仔裤".encode())
    assert cache.get(key) == "今日穿搭: 白衬衫 + 牛仔裤".encode()
    assert cache.get("用户:会话:🙂") is None


def test_values_must_be_bytes(cache: Cache) -> None:
    with pytest.raises(TypeError):
        cache.set("k", "text")  # type: ignore[arg-type]


def test_empty_keys_are_refused(cache: Cache) -> None:
    with pytest.raises(ValueError, match="non-empty"):
        cache.set("", b"v")
    with pytest.raises(ValueError, match="non-empty"):
        cache.get("")


@pytest.mark.parametrize("ttl", [0, -1, math.nan, math.inf])
def test_bad_ttls_are_refused(cache: Cache, ttl: float) -> None:
    with pytest.raises(ValueError, match="ttl_s"):
        cache.set("k", b"v", ttl)
    with pytest.raises(ValueError, match="ttl_s"):
        cache.incr("n", ttl_s=ttl)


# --- TTLs ----------------------------------------------------------------------------------------


def test_a_value_expires_after_its_ttl(harness: Harness) -> None:
    harness.cache.set("k", b"v", ttl_s=0.3)
    harness.cache.set("forever", b"v")
    assert harness.cache.get("k") == b"v"
    harness.advance(0.45)
    assert harness.cache.get("k") is None
    assert harness.cache.delete("k") is False
    assert harness.cache.get("forever") == b"v"


def test_set_without_ttl_clears_a_previous_ttl(harness: Harness) -> None:
    harness.cache.set("k", b"v", ttl_s=0.3)
    harness.cache.set("k", b"kept")
    harness.advance(0.45)
    assert harness.cache.get("k") == b"kept"


def test_expire_sets_a_ttl_on_an_existing_key_only(harness: Harness) -> None:
    harness.cache.set("k", b"v")
    assert harness.cache.expire("k", 0.3) is True
    assert harness.cache.expire("missing", 0.3) is False
    harness.advance(0.45)
    assert harness.cache.get("k") is None


# --- counters ------------------------------------------------------------------------------------


def test_incr_creates_at_zero_and_adds(cache: Cache) -> None:
    assert cache.incr("n") == 1
    assert cache.incr("n", 5) == 6
    assert cache.incr("n", -10) == -4
    assert cache.get("n") == b"-4"


def test_incr_continues_a_counter_written_with_set(cache: Cache) -> None:
    cache.set("n", b"41")
    assert cache.incr("n") == 42


def test_incr_of_a_non_integer_is_a_value_error(cache: Cache) -> None:
    cache.set("k", b"not a number")
    with pytest.raises(ValueError, match="integer"):
        cache.incr("k")


def test_incr_ttl_starts_the_window_and_does_not_slide_it(harness: Harness) -> None:
    """A fixed-window rate limit: later hits must not extend the window."""
    cache = harness.cache
    assert cache.incr("hits", ttl_s=0.8) == 1
    harness.advance(0.4)
    assert cache.incr("hits", ttl_s=0.8) == 2
    harness.advance(0.6)  # 1.0 s after the first hit, 0.6 s after the second
    assert cache.get("hits") is None
    assert cache.incr("hits", ttl_s=0.8) == 1


def test_incr_is_atomic_under_threads(cache: Cache) -> None:
    threads, per_thread = 8, 200
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def hammer() -> None:
        try:
            barrier.wait()
            for _ in range(per_thread):
                cache.incr("counter")
        except BaseException as exc:  # surface failures from the worker threads
            errors.append(exc)

    workers = [threading.Thread(target=hammer) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert not errors
    assert cache.get("counter") == str(threads * per_thread).encode()


# --- leaderboards --------------------------------------------------------------------------------


def test_leaderboard_returns_highest_first(cache: Cache) -> None:
    assert cache.zincrby("board", "shirt", 3) == 3.0
    cache.zincrby("board", "jeans", 10)
    cache.zincrby("board", "scarf")
    assert cache.zincrby("board", "shirt", 4.5) == 7.5
    assert cache.ztop("board", 2) == [("jeans", 10.0), ("shirt", 7.5)]
    assert cache.ztop("board", 10) == [("jeans", 10.0), ("shirt", 7.5), ("scarf", 1.0)]


def test_leaderboard_ties_are_ordered_by_member_descending(cache: Cache) -> None:
    for member in ("b", "c", "a"):
        cache.zincrby("board", member, 1)
    assert cache.ztop("board", 3) == [("c", 1.0), ("b", 1.0), ("a", 1.0)]


def test_leaderboard_edge_cases(cache: Cache) -> None:
    assert cache.ztop("empty", 5) == []
    cache.zincrby("board", "x", 1)
    assert cache.ztop("board", 0) == []
    assert cache.zincrby("board", "x", -3) == -2.0


def test_leaderboard_unicode_members(cache: Cache) -> None:
    cache.zincrby("热门", "连衣裙 👗", 2)
    cache.zincrby("热门", "风衣", 1)
    assert cache.ztop("热门", 5) == [("连衣裙 👗", 2.0), ("风衣", 1.0)]


def test_leaderboards_can_expire_and_be_deleted(harness: Harness) -> None:
    harness.cache.zincrby("daily", "x", 1)
    assert harness.cache.expire("daily", 0.3) is True
    harness.advance(0.45)
    assert harness.cache.ztop("daily", 5) == []
    harness.cache.zincrby("board", "x", 1)
    assert harness.cache.delete("board") is True
    assert harness.cache.ztop("board", 5) == []


def test_mixing_value_and_leaderboard_operations_is_a_type_error(cache: Cache) -> None:
    cache.set("value", b"1")
    cache.zincrby("board", "x", 1)
    with pytest.raises(CacheTypeError):
        cache.zincrby("value", "x", 1)
    with pytest.raises(CacheTypeError):
        cache.get("board")
    with pytest.raises(CacheTypeError):
        cache.incr("board")
    with pytest.raises(TypeError):  # CacheTypeError is a TypeError for plain handlers
        cache.ztop("value", 1)


# --- JSON, prefixes, health ----------------------------------------------------------------------


def test_json_roundtrip(cache: Cache) -> None:
    document = {"user": "小明", "items": [1, 2.5, None, True], "nested": {"emoji": "🧥"}}
    set_json(cache, "doc", document)
    assert get_json(cache, "doc") == document
    assert cache.get("doc") == '{"user":"小明","items":[1,2.5,null,true],"nested":{"emoji":"🧥"}}'.encode()
    assert get_json(cache, "missing") is None


def test_json_refuses_nan(cache: Cache) -> None:
    with pytest.raises(ValueError, match="JSON"):
        set_json(cache, "doc", {"score": math.nan})


def test_key_prefixes_isolate_caches(harness: Harness) -> None:
    first, second = harness.sibling("one:"), harness.sibling("two:")
    first.set("shared-name", b"first")
    first.incr("n")
    first.zincrby("board", "x", 1)
    assert second.get("shared-name") is None
    assert second.incr("n") == 1
    assert second.ztop("board", 5) == []
    assert second.delete("shared-name") is False
    assert first.get("shared-name") == b"first"


def test_ping(cache: Cache) -> None:
    assert cache.ping() is True


def test_adapters_satisfy_the_protocol(cache: Cache) -> None:
    assert isinstance(cache, Cache)


# --- namespaces ----------------------------------------------------------------------------------


def test_namespaces_take_their_ttls_from_settings(harness: Harness) -> None:
    ttls = CacheTTLs(recommendations=2, sessions=3, hot_products=1, api_responses=1)
    spaces = Namespaces.create(harness.cache, ttls)
    assert [spaces.recommendations.ttl_s, spaces.sessions.ttl_s, spaces.leaderboards.ttl_s] == [2, 3, None]
    spaces.api_responses.set_json("GET /catalog", {"items": []})
    spaces.sessions.set("abc", b"session")
    spaces.leaderboards.zincrby("live", "shirt", 1)
    assert spaces.api_responses.get_json("GET /catalog") == {"items": []}
    assert harness.cache.get("api_responses:GET /catalog") == b'{"items":[]}'
    harness.advance(1.2)
    assert spaces.api_responses.get("GET /catalog") is None
    assert spaces.sessions.get("abc") == b"session"
    assert spaces.leaderboards.ztop("live", 1) == [("shirt", 1.0)]


@pytest.mark.unit
def test_default_namespace_ttls_are_the_designs() -> None:
    spaces = Namespaces.create(MemoryCache(), CacheTTLs())
    assert spaces.recommendations.ttl_s == 30 * 60
    assert spaces.sessions.ttl_s == 24 * 3600
    assert spaces.hot_products.ttl_s == 10 * 60
    assert spaces.api_responses.ttl_s == 5 * 60
    assert spaces.leaderboards.ttl_s is None
    assert spaces.sessions.key("abc") == "sessions:abc"


@pytest.mark.unit
def test_namespaces_read_as_a_miss_and_drop_writes_while_the_cache_is_down(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Namespaces hold copies: an unreachable Redis costs the cache, not the caller's request."""
    down = RedisCache.from_url("redis://127.0.0.1:1/0", timeout_s=0.5)
    spaces = Namespaces.create(down, CacheTTLs())
    spaces.recommendations.set_json("outfits", {"items": [1]})
    spaces.sessions.set("abc", b"x")
    assert spaces.recommendations.get_json("outfits") is None
    assert spaces.sessions.get("abc") is None
    assert spaces.sessions.delete("abc") is False
    assert spaces.hot_products.incr("views") == 0
    assert spaces.leaderboards.zincrby("live", "shirt", 1) == 0.0
    assert spaces.leaderboards.ztop("live", 3) == []
    assert "cache unavailable" in caplog.text
    # A value no cache could hold is still the caller's error, outage or not.
    with pytest.raises(ValueError):
        spaces.recommendations.set_json("bad", math.nan)
    down.close()


@pytest.mark.unit
def test_or_when_down_passes_other_errors_through() -> None:
    def broken() -> None:
        raise CacheTypeError("a counter is not a leaderboard")

    with pytest.raises(CacheTypeError):
        or_when_down(broken, None, "test")
    assert or_when_down(lambda: 7, 0, "test") == 7


# --- adapter-specific behaviour --------------------------------------------------------------------


@pytest.mark.unit
def test_memory_cache_evicts_the_least_recently_used_entry() -> None:
    cache = MemoryCache(max_entries=3)
    for key in ("a", "b", "c"):
        cache.set(key, key.encode())
    assert cache.get("a") == b"a"  # "a" is now the most recently used
    cache.set("d", b"d")
    assert len(cache) == 3
    assert cache.get("b") is None
    assert [cache.get(k) for k in ("a", "c", "d")] == [b"a", b"c", b"d"]
    cache.incr("e")
    cache.zincrby("f", "x")
    assert len(cache) == 3


@pytest.mark.unit
def test_memory_cache_refuses_a_zero_bound() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        MemoryCache(max_entries=0)


@pytest.mark.unit
def test_redis_cache_reports_an_unreachable_server() -> None:
    cache = RedisCache.from_url("redis://127.0.0.1:1/0", timeout_s=0.5)
    assert cache.ping() is False
    with pytest.raises(StoreUnavailable):
        cache.get("k")
    cache.close()
