"""The ``VectorStore`` contract against Milvus Lite, the embedded engine the project ships with.

Milvus Lite takes seconds to start, so one instance serves the whole module and each
test works in a collection of its own. Vectors are tiny (dimension 4) to stay fast.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.errors import (
    CollectionConflict,
    CollectionNotFound,
    DimensionMismatch,
    StorageError,
)
from storage.vectors import MilvusVectorStore, VectorStore
from tests.storage._support import unique

pytestmark = pytest.mark.unit

DIM = 4


@pytest.fixture(scope="module", params=["milvus_lite"])
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VectorStore]:
    store = MilvusVectorStore(str(tmp_path_factory.mktemp("vectors") / "milvus.db"))
    assert store.ping()  # starts Milvus Lite once for the module
    yield store
    store.close()


@pytest.fixture
def store(engine: VectorStore) -> VectorStore:
    return engine


@pytest.fixture
def collection(engine: VectorStore) -> Iterator[str]:
    name = unique("products_")
    engine.ensure_collection(name, DIM)
    yield name
    engine.drop(name)


CATALOG = {
    "shirt-white": ([1.0, 0.0, 0.0, 0.0], {"category": "tops", "price": 199, "name": "白衬衫"}),
    "shirt-blue": ([0.9, 0.1, 0.0, 0.0], {"category": "tops", "price": 259}),
    "jeans": ([0.0, 1.0, 0.0, 0.0], {"category": "bottoms", "price": 399}),
    "coat": ([0.0, 0.0, 1.0, 0.0], {"category": "outerwear", "price": 899}),
    "scarf": ([0.0, 0.0, 0.0, 1.0], {"category": "accessories", "price": 99}),
}


def load_catalog(store: VectorStore, name: str) -> None:
    ids = list(CATALOG)
    store.upsert(name, ids, [CATALOG[i][0] for i in ids], [CATALOG[i][1] for i in ids])


# --- collections ---------------------------------------------------------------------------------


def test_ensure_collection_is_idempotent(store: VectorStore, collection: str) -> None:
    store.ensure_collection(collection, DIM)
    store.ensure_collection(collection, DIM, "COSINE")
    assert store.count(collection) == 0


def test_ensure_collection_refuses_another_shape(store: VectorStore, collection: str) -> None:
    with pytest.raises(CollectionConflict, match="dimension 4"):
        store.ensure_collection(collection, 8)
    with pytest.raises(CollectionConflict, match="COSINE"):
        store.ensure_collection(collection, DIM, "L2")


def test_missing_collections(store: VectorStore) -> None:
    name = unique("missing_")
    for attempt in (
        lambda: store.upsert(name, ["a"], [[1.0] * DIM]),
        lambda: store.search(name, [1.0] * DIM),
        lambda: store.get(name, ["a"]),
        lambda: store.delete(name, ["a"]),
        lambda: store.count(name),
    ):
        with pytest.raises(CollectionNotFound):
            attempt()
    store.drop(name)  # dropping what is not there is fine


def test_drop_removes_the_collection(store: VectorStore) -> None:
    name = unique("dropped_")
    store.ensure_collection(name, DIM)
    store.upsert(name, ["a"], [[1.0, 0, 0, 0]])
    store.drop(name)
    with pytest.raises(CollectionNotFound):
        store.count(name)
    store.ensure_collection(name, 2)  # the name is free again, with any shape
    assert store.count(name) == 0
    store.drop(name)


@pytest.mark.parametrize("name", ["", "1starts_with_digit", "has-dash", "has space", "点", "x" * 256])
def test_bad_collection_names_are_refused(store: VectorStore, name: str) -> None:
    with pytest.raises(ValueError, match="collection names"):
        store.ensure_collection(name, DIM)


@pytest.mark.parametrize("dim", [0, -1, 40_000])
def test_bad_dimensions_are_refused(store: VectorStore, dim: int) -> None:
    with pytest.raises(ValueError, match="dim"):
        store.ensure_collection(unique("c_"), dim)


def test_bad_metrics_are_refused(store: VectorStore) -> None:
    with pytest.raises(ValueError, match="metric"):
        store.ensure_collection(unique("c_"), DIM, "HAMMING")  # type: ignore[arg-type]


# --- writing and reading -------------------------------------------------------------------------------


def test_upsert_then_count_and_get(store: VectorStore, collection: str) -> None:
    load_catalog(store, collection)
    assert store.count(collection) == 5
    records = store.get(collection, ["jeans", "nope", "shirt-white"])
    assert [r.id for r in records] == ["jeans", "shirt-white"]
    assert records[1].payload == {"category": "tops", "price": 199, "name": "白衬衫"}
    assert records[1].vector == pytest.approx([1.0, 0.0, 0.0, 0.0])
    assert store.get(collection, []) == []


def test_upsert_replaces_by_id(store: VectorStore, collection: str) -> None:
    load_catalog(store, collection)
    store.upsert(collection, ["jeans"], [[0.0, 0.0, 0.0, 1.0]], [{"category": "bottoms", "price": 299}])
    assert store.count(collection) == 5
    (jeans,) = store.get(collection, ["jeans"])
    assert jeans.payload["price"] == 299
    assert jeans.vector == pytest.approx([0.0, 0.0, 0.0, 1.0])


def test_payloads_default_to_empty(store: VectorStore, collection: str) -> None:
    store.upsert(collection, ["a"], [[1.0, 2.0, 3.0, 4.0]])
    assert store.get(collection, ["a"])[0].payload == {}
    store.upsert(collection, [], [])


def test_unicode_ids_and_payloads(store: VectorStore, collection: str) -> None:
    store.upsert(
        collection, ["商品-连衣裙-🙂"], [[1.0, 0, 0, 0]], [{"名称": "碎花连衣裙", "tags": ["夏", "🌸"]}]
    )
    (hit,) = store.search(collection, [1.0, 0, 0, 0], top_k=1)
    assert hit.id == "商品-连衣裙-🙂"
    assert hit.payload == {"名称": "碎花连衣裙", "tags": ["夏", "🌸"]}


def test_payload_keys_may_be_any_name(store: VectorStore, collection: str) -> None:
    store.upsert(collection, ["a"], [[1.0, 0, 0, 0]], [{"id": "other", "vector": [9], "payload": None}])
    assert store.get(collection, ["a"])[0].payload == {"id": "other", "vector": [9], "payload": None}


def test_delete_removes_vectors(store: VectorStore, collection: str) -> None:
    load_catalog(store, collection)
    store.delete(collection, ["shirt-white", "not-there"])
    assert store.count(collection) == 4
    assert store.get(collection, ["shirt-white"]) == []
    assert "shirt-white" not in [h.id for h in store.search(collection, [1.0, 0, 0, 0], top_k=5)]
    store.delete(collection, [])


# --- search ----------------------------------------------------------------------------------------


def test_search_returns_the_nearest_first(store: VectorStore, collection: str) -> None:
    load_catalog(store, collection)
    hits = store.search(collection, [1.0, 0.02, 0.0, 0.0], top_k=3)
    assert [h.id for h in hits] == ["shirt-white", "shirt-blue", "jeans"]
    assert hits[0].score > hits[1].score > hits[2].score  # cosine similarity: higher is closer
    assert hits[0].payload["category"] == "tops"
    (exact,) = store.search(collection, [0.0, 0.0, 2.0, 0.0], top_k=1)
    assert exact.id == "coat"
    assert exact.score == pytest.approx(1.0, abs=1e-5)  # cosine similarity of parallel vectors


def test_search_with_l2_returns_the_closest_first(store: VectorStore) -> None:
    name = unique("l2_")
    store.ensure_collection(name, 2, "L2")
    try:
        store.upsert(name, ["near", "far", "mid"], [[1.0, 1.0], [10.0, 10.0], [3.0, 3.0]])
        hits = store.search(name, [0.0, 0.0], top_k=3)
        assert [h.id for h in hits] == ["near", "mid", "far"]
        assert hits[0].score < hits[1].score < hits[2].score  # distances: lower is closer
    finally:
        store.drop(name)


def test_search_top_k_limits_results(store: VectorStore, collection: str) -> None:
    load_catalog(store, collection)
    assert len(store.search(collection, [1.0, 1.0, 1.0, 1.0], top_k=2)) == 2
    assert len(store.search(collection, [1.0, 1.0, 1.0, 1.0], top_k=100)) == 5


def test_search_filter_expression(store: VectorStore, collection: str) -> None:
    load_catalog(store, collection)
    hits = store.search(collection, [1.0, 0, 0, 0], top_k=5, filter='payload["category"] != "tops"')
    assert {h.id for h in hits} == {"jeans", "coat", "scarf"}
    cheap = store.search(collection, [0.0, 0, 1.0, 0], top_k=5, filter='payload["price"] < 200')
    assert {h.id for h in cheap} == {"shirt-white", "scarf"}
    both = store.search(
        collection, [1.0, 0, 0, 0], top_k=5, filter='payload["category"] == "tops" and payload["price"] > 200'
    )
    assert [h.id for h in both] == ["shirt-blue"]
    assert store.search(collection, [1.0, 0, 0, 0], top_k=5, filter='payload["category"] == "hats"') == []


def test_a_malformed_filter_is_a_storage_error(store: VectorStore, collection: str) -> None:
    load_catalog(store, collection)
    with pytest.raises(StorageError):
        store.search(collection, [1.0, 0, 0, 0], filter="price ==== ")


def test_search_of_an_empty_collection(store: VectorStore, collection: str) -> None:
    assert store.search(collection, [1.0, 0, 0, 0]) == []


# --- validation ------------------------------------------------------------------------------------


def test_dimension_mismatch_is_a_clear_error(store: VectorStore, collection: str) -> None:
    with pytest.raises(DimensionMismatch, match=r"dimension 4, but the vector for id 'a' has 3"):
        store.upsert(collection, ["a"], [[1.0, 2.0, 3.0]])
    with pytest.raises(DimensionMismatch, match=r"dimension 4, but the query vector has 5"):
        store.search(collection, [1.0] * 5)
    with pytest.raises(ValueError):  # DimensionMismatch is a ValueError for plain handlers
        store.upsert(collection, ["a", "b"], [[1.0] * DIM, [1.0] * 2])
    assert store.count(collection) == 0  # a bad batch writes nothing


def test_bad_batches_are_refused(store: VectorStore, collection: str) -> None:
    one = [[1.0] * DIM]
    with pytest.raises(ValueError, match="differ in length"):
        store.upsert(collection, ["a", "b"], one)
    with pytest.raises(ValueError, match="twice"):
        store.upsert(collection, ["a", "a"], one * 2)
    with pytest.raises(ValueError, match="non-empty"):
        store.upsert(collection, [""], one)
    with pytest.raises(ValueError, match="512"):
        store.upsert(collection, ["长" * 200], one)
    with pytest.raises(ValueError, match="NaN"):
        store.upsert(collection, ["a"], [[math.nan, 0, 0, 0]])
    with pytest.raises(ValueError, match="JSON"):
        store.upsert(collection, ["a"], one, [{"bad": object()}])
    with pytest.raises(TypeError):
        store.upsert(collection, "ab", one)
    with pytest.raises(ValueError, match="top_k"):
        store.search(collection, one[0], top_k=0)
    assert store.count(collection) == 0


def test_ping(store: VectorStore) -> None:
    assert store.ping() is True
    assert isinstance(store, VectorStore)


def test_an_unreachable_server_fails_its_ping() -> None:
    store = MilvusVectorStore("http://127.0.0.1:1", timeout_s=1)
    assert store.ping() is False
    store.close()


def test_the_client_is_created_on_first_use(tmp_path: Path) -> None:
    store = MilvusVectorStore(str(tmp_path / "nested" / "lazy.db"))
    assert not (tmp_path / "nested").exists()
    store.close()
