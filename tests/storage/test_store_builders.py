"""``build_<store>(settings)``: the settings' backend switch picks the adapter, without network I/O."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from storage.cache import Cache, MemoryCache, RedisCache, build_cache
from storage.events import EventBus, MemoryEventBus, build_event_bus
from storage.objects import LocalObjectStore, ObjectStore, S3ObjectStore, build_object_store
from storage.vectors import MilvusVectorStore, VectorStore, build_vector_store
from tests.conftest import make_settings, require_service


@pytest.mark.unit
def test_defaults_build_the_embedded_stores(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, cache={"max_entries": 50})
    cache = build_cache(settings)
    objects = build_object_store(settings)
    events = build_event_bus(settings)
    vectors = build_vector_store(settings)

    assert isinstance(cache, MemoryCache)
    assert isinstance(cache, Cache)
    for i in range(60):
        cache.set(str(i), b"x")
    assert len(cache) == 50

    assert isinstance(objects, LocalObjectStore)
    assert isinstance(objects, ObjectStore)
    assert objects.root == settings.data_dir / "objects"
    assert objects.root.is_dir()

    assert isinstance(events, MemoryEventBus)
    assert isinstance(events, EventBus)

    assert isinstance(vectors, MilvusVectorStore)
    assert isinstance(vectors, VectorStore)
    assert vectors.uri == str(settings.data_dir / "milvus.db")
    assert not (settings.data_dir / "milvus.db").exists()  # Milvus Lite starts on first use


@pytest.mark.unit
def test_absolute_store_paths_are_kept(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, objects={"local_dir": tmp_path / "blobs"}, vectors={"uri": str(tmp_path / "v.db")}
    )
    assert isinstance(objects := build_object_store(settings), LocalObjectStore)
    assert objects.root == tmp_path / "blobs"
    assert isinstance(vectors := build_vector_store(settings), MilvusVectorStore)
    assert vectors.uri == str(tmp_path / "v.db")


@pytest.mark.unit
def test_production_backends_are_built_lazily(tmp_path: Path) -> None:
    """Nothing listens on these addresses: building must not connect."""
    settings = make_settings(
        tmp_path,
        cache={"backend": "redis", "redis_url": "redis://127.0.0.1:1/0", "key_prefix": "app:"},
        objects={
            "backend": "s3",
            "s3_endpoint": "127.0.0.1:1",
            "s3_access_key": "key",
            "s3_secret_key": "secret",
            "s3_bucket": "photos",
            "s3_secure": False,
        },
        vectors={"backend": "milvus", "uri": "http://127.0.0.1:1"},
    )
    cache = build_cache(settings)
    objects = build_object_store(settings)
    vectors = build_vector_store(settings)
    assert isinstance(cache, RedisCache)
    assert isinstance(objects, S3ObjectStore)
    assert objects.bucket == "photos"
    assert isinstance(vectors, MilvusVectorStore)
    assert vectors.uri == "http://127.0.0.1:1"
    cache.close()
    vectors.close()


@pytest.mark.integration
def test_the_redis_cache_built_from_settings_works(tmp_path: Path) -> None:
    url = require_service("IK_TEST_REDIS_URL", "Redis")
    settings = make_settings(tmp_path, cache={"backend": "redis", "redis_url": url, "key_prefix": "ik-test:"})
    cache = build_cache(settings)
    try:
        assert cache.ping() is True
        cache.set("builder-check", b"1", ttl_s=5)
        assert cache.get("builder-check") == b"1"
        assert cache.delete("builder-check") is True
    finally:
        cache.close()


@pytest.mark.integration
def test_the_s3_store_built_from_settings_works(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        objects={
            "backend": "s3",
            "s3_endpoint": require_service("IK_TEST_S3_ENDPOINT", "S3 (MinIO)"),
            "s3_access_key": require_service("IK_TEST_S3_ACCESS_KEY", "S3 access key"),
            "s3_secret_key": require_service("IK_TEST_S3_SECRET_KEY", "S3 secret key"),
            "s3_bucket": "ik-test-builder",
            "s3_secure": os.environ.get("IK_TEST_S3_SECURE") == "1",
        },
    )
    store = build_object_store(settings)
    assert isinstance(store, S3ObjectStore)
    try:
        assert store.ping() is True
        store.put("builder-check", b"1")
        assert store.get("builder-check") == b"1"
    finally:
        store.delete("builder-check")
        store.client.remove_bucket(store.bucket)
