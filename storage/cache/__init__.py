"""Cache and sessions: the ``Cache`` protocol, its adapters and the settings-driven builder."""

from __future__ import annotations

from core.config import Settings
from storage.cache.base import Cache, Namespace, Namespaces, get_json, set_json
from storage.cache.memory import MemoryCache
from storage.cache.redis import RedisCache

__all__ = [
    "Cache",
    "MemoryCache",
    "Namespace",
    "Namespaces",
    "RedisCache",
    "build_cache",
    "get_json",
    "set_json",
]


def build_cache(settings: Settings) -> Cache:
    """The cache ``settings.cache.backend`` names; Redis connects on first use."""
    config = settings.cache
    if config.backend == "redis":
        assert config.redis_url is not None  # guaranteed by CacheSettings validation
        return RedisCache.from_url(config.redis_url, key_prefix=config.key_prefix)
    return MemoryCache(max_entries=config.max_entries)
