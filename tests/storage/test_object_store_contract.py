"""One contract for every ``ObjectStore`` adapter: the local folder and a real S3 server.

The S3 tests share one bucket per module, named uniquely so test runs can share a
server, emptied after each test and removed at the end (every bucket costs the
SeaweedFS test server volumes of its own).
"""

from __future__ import annotations

import os
import threading
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.errors import InvalidObjectKey, ObjectNotFound, StorageError, StoreUnavailable
from storage.objects import LocalObjectStore, ObjectStore, S3ObjectStore, check_key
from tests.conftest import require_service
from tests.storage._support import unique


def s3_store(bucket: str) -> S3ObjectStore:
    endpoint = require_service("IK_TEST_S3_ENDPOINT", "S3 (MinIO)")
    return S3ObjectStore.connect(
        endpoint,
        require_service("IK_TEST_S3_ACCESS_KEY", "S3 access key"),
        require_service("IK_TEST_S3_SECRET_KEY", "S3 secret key"),
        bucket,
        secure=os.environ.get("IK_TEST_S3_SECURE") == "1",
    )


def remove_bucket(store: S3ObjectStore) -> None:
    for info in store.list():
        store.delete(info.key)
    store.client.remove_bucket(store.bucket)


@pytest.fixture(scope="module")
def s3_bucket() -> Iterator[S3ObjectStore]:
    store = s3_store(unique("ik-test-"))
    yield store
    remove_bucket(store)


@pytest.fixture(
    params=[
        pytest.param("local", marks=pytest.mark.unit),
        pytest.param("s3", marks=pytest.mark.integration),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObjectStore]:
    if request.param == "local":
        yield LocalObjectStore(tmp_path / "objects")
        return
    s3: S3ObjectStore = request.getfixturevalue("s3_bucket")
    yield s3
    for info in s3.list():
        s3.delete(info.key)


# --- put, get, stat -------------------------------------------------------------------------------


def test_put_then_get_roundtrips(store: ObjectStore) -> None:
    info = store.put("users/1/photo.jpg", b"\xff\xd8jpeg bytes", "image/jpeg")
    assert info.key == "users/1/photo.jpg"
    assert info.size == len(b"\xff\xd8jpeg bytes")
    assert info.content_type == "image/jpeg"
    assert info.etag
    assert abs(info.last_modified - datetime.now(UTC)) < timedelta(minutes=5)
    assert store.get("users/1/photo.jpg") == b"\xff\xd8jpeg bytes"


def test_stat_describes_the_object(store: ObjectStore) -> None:
    put = store.put("a.png", b"png", "image/png")
    info = store.stat("a.png")
    assert (info.key, info.size, info.content_type, info.etag) == ("a.png", 3, "image/png", put.etag)
    assert info.last_modified.tzinfo is not None


def test_the_default_content_type_is_octet_stream(store: ObjectStore) -> None:
    store.put("blob", b"x")
    assert store.stat("blob").content_type == "application/octet-stream"


def test_put_replaces_data_and_content_type(store: ObjectStore) -> None:
    first = store.put("k", b"first", "text/plain")
    second = store.put("k", b"second version", "application/json")
    assert store.get("k") == b"second version"
    info = store.stat("k")
    assert (info.size, info.content_type) == (len(b"second version"), "application/json")
    assert second.etag != first.etag


def test_empty_and_large_objects(store: ObjectStore) -> None:
    store.put("empty", b"")
    assert store.get("empty") == b""
    assert store.stat("empty").size == 0
    big = os.urandom(3 * 1024 * 1024 + 17)
    store.put("big.bin", big)
    assert store.get("big.bin") == big


def test_missing_objects(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFound):
        store.get("nope")
    with pytest.raises(LookupError):  # ObjectNotFound is a LookupError for plain handlers
        store.stat("nope")
    assert store.exists("nope") is False
    store.put("yes", b"1")
    assert store.exists("yes") is True


def test_delete_is_idempotent(store: ObjectStore) -> None:
    store.put("k", b"1")
    store.delete("k")
    assert store.exists("k") is False
    store.delete("k")


def test_unicode_keys(store: ObjectStore) -> None:
    key = "用户/照片 1 (正面)🙂.png"
    store.put(key, "图".encode(), "image/png")
    assert store.get(key) == "图".encode()
    assert [info.key for info in store.list("用户/")] == [key]


def test_keys_are_case_sensitive(store: ObjectStore) -> None:
    store.put("photos/a.png", b"lower")
    store.put("photos/A.png", b"upper")
    assert (store.get("photos/a.png"), store.get("photos/A.png")) == (b"lower", b"upper")


# --- listing ---------------------------------------------------------------------------------------


def test_list_filters_by_prefix_in_key_order(store: ObjectStore) -> None:
    for key in ("b/1", "a/2", "a/10", "a-file", "ab", "a/sub/3"):
        store.put(key, key.encode(), "text/plain")
    assert [info.key for info in store.list("a/")] == ["a/10", "a/2", "a/sub/3"]
    assert [info.key for info in store.list("a")] == ["a-file", "a/10", "a/2", "a/sub/3", "ab"]
    assert [info.key for info in store.list()] == ["a-file", "a/10", "a/2", "a/sub/3", "ab", "b/1"]
    assert list(store.list("zzz")) == []


def test_list_gives_size_and_etag_but_no_content_type(store: ObjectStore) -> None:
    put = store.put("docs/x.json", b"{}", "application/json")
    (listed,) = store.list("docs/")
    assert (listed.key, listed.size, listed.etag, listed.content_type) == ("docs/x.json", 2, put.etag, None)


def test_deleted_objects_leave_the_listing(store: ObjectStore) -> None:
    store.put("p/1", b"1")
    store.put("p/2", b"2")
    store.delete("p/1")
    assert [info.key for info in store.list("p/")] == ["p/2"]


# --- validation ------------------------------------------------------------------------------------

BAD_KEYS = [
    "",
    "/abs",
    "trailing/",
    "a/../b",
    "..",
    "../up",
    "./a",
    "a/./b",
    "a//b",
    "back\\slash",
    "nul\x00byte",
    "new\nline",
    "tab\tkey",
    "del\x7f",
    "c1\x85control",
    "x" * 1025,
    "长" * 342,  # 1026 UTF-8 bytes
]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_bad_keys_are_refused_everywhere(store: ObjectStore, key: str) -> None:
    for attempt in (
        lambda: store.put(key, b"x"),
        lambda: store.get(key),
        lambda: store.stat(key),
        lambda: store.exists(key),
        lambda: store.delete(key),
        lambda: store.presigned_url(key),
    ):
        with pytest.raises(InvalidObjectKey):
            attempt()


@pytest.mark.unit
def test_invalid_object_key_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="segments"):
        check_key("a/../../etc/passwd")
    assert check_key("x" * 1024) == "x" * 1024
    assert check_key("a.b/..c/d..") == "a.b/..c/d.."


@pytest.mark.parametrize("content_type", ["", "plain", "text/plain\r\nX-Injected: 1", "图/片"])
def test_bad_content_types_are_refused(store: ObjectStore, content_type: str) -> None:
    with pytest.raises(ValueError, match="content type"):
        store.put("k", b"x", content_type)
    assert store.exists("k") is False


@pytest.mark.parametrize("expires_s", [0, -1, 7 * 24 * 3600 + 1])
def test_bad_presign_lifetimes_are_refused(store: ObjectStore, expires_s: int) -> None:
    with pytest.raises(ValueError, match="expires_s"):
        store.presigned_url("k", expires_s)


def test_data_must_be_bytes(store: ObjectStore) -> None:
    with pytest.raises(TypeError):
        store.put("k", "text")  # type: ignore[arg-type]


def test_ping(store: ObjectStore) -> None:
    assert store.ping() is True


def test_adapters_satisfy_the_protocol(store: ObjectStore) -> None:
    assert isinstance(store, ObjectStore)


# --- adapter-specific behaviour ----------------------------------------------------------------------


@pytest.mark.unit
def test_local_store_has_no_url_of_its_own(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    store.put("k", b"1")
    assert store.presigned_url("k", 60) is None


@pytest.mark.unit
def test_local_store_keeps_a_key_and_a_key_below_it(tmp_path: Path) -> None:
    """Hashed file names: 'a' and 'a/b' need no file and folder of one name (MinIO refuses the pair)."""
    store = LocalObjectStore(tmp_path)
    store.put("a", b"file")
    store.put("a/b", b"below")
    assert (store.get("a"), store.get("a/b")) == (b"file", b"below")


@pytest.mark.unit
def test_local_store_persists_across_instances(tmp_path: Path) -> None:
    LocalObjectStore(tmp_path / "o").put("k", b"kept", "text/plain")
    reopened = LocalObjectStore(tmp_path / "o")
    assert reopened.get("k") == b"kept"
    assert reopened.stat("k").content_type == "text/plain"


@pytest.mark.unit
def test_local_store_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    for i in range(5):
        store.put(f"k{i}", b"x" * i)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == 5
    assert not [p for p in files if p.name.startswith(".")]


@pytest.mark.unit
def test_local_writes_are_atomic_under_concurrency(tmp_path: Path) -> None:
    """Readers racing writers see one whole version, never a mix of two."""
    store = LocalObjectStore(tmp_path)
    versions = {bytes([n]) * 200_000: f"type/v{n}" for n in range(4)}
    store.put("hot", next(iter(versions)), "type/v0")
    stop = threading.Event()
    seen: list[bytes] = []

    def write(data: bytes, content_type: str) -> None:
        while not stop.is_set():
            store.put("hot", data, content_type)

    writers = [threading.Thread(target=write, args=item) for item in versions.items()]
    for writer in writers:
        writer.start()
    try:
        for _ in range(200):
            seen.append(store.get("hot"))
    finally:
        stop.set()
        for writer in writers:
            writer.join()
    assert all(data in versions for data in seen)
    assert not [p for p in tmp_path.rglob(".*") if p.is_file()]


@pytest.mark.unit
def test_local_store_rejects_a_corrupt_file(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    store.put("k", b"fine")
    (path,) = [p for p in tmp_path.rglob("*") if p.is_file()]
    path.write_bytes(b"not a header\nbytes")
    with pytest.raises(StorageError, match="corrupt"):
        store.get("k")


@pytest.mark.integration
def test_s3_presigned_url_serves_the_object() -> None:
    store = s3_store(unique("ik-test-"))
    try:
        store.put("photos/1.jpg", b"jpeg!", "image/jpeg")
        url = store.presigned_url("photos/1.jpg", 60)
        assert url is not None
        assert url.startswith(("http://", "https://"))
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - a URL we just signed
            assert response.read() == b"jpeg!"
            assert response.headers["Content-Type"] == "image/jpeg"
    finally:
        remove_bucket(store)


@pytest.mark.integration
def test_s3_creates_its_bucket_on_first_use() -> None:
    store = s3_store(unique("ik-test-"))
    try:
        assert store.client.bucket_exists(store.bucket) is False
        store.put("k", b"1")
        assert store.client.bucket_exists(store.bucket) is True
        second = s3_store(store.bucket)  # another pod finding the bucket already there
        assert second.get("k") == b"1"
    finally:
        remove_bucket(store)


@pytest.mark.unit
def test_s3_reports_an_unreachable_server() -> None:
    store = S3ObjectStore.connect("127.0.0.1:1", "key", "secret", "bucket", secure=False)
    assert store.ping() is False
    with pytest.raises(StoreUnavailable):
        store.put("k", b"1")
