from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from rag.documents import ProductDoc, SearchFilters
from rag.semantic import COLLECTION, EmbeddingCache, SemanticIndex, embedding_text, text_key
from storage.vectors import MilvusVectorStore, VectorStore

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VectorStore]:
    vectors = MilvusVectorStore(str(tmp_path_factory.mktemp("vectors") / "milvus.db"))
    yield vectors
    vectors.close()


@pytest.fixture(scope="module")
def indexed(store: VectorStore, small_docs: list[ProductDoc], embedding_cache: Path) -> SemanticIndex:
    index = SemanticIndex(store, cache_dir=embedding_cache)
    seen: list[tuple[int, int]] = []
    stats = index.index(small_docs, progress=lambda done, total: seen.append((done, total)))
    assert stats.documents == len(small_docs)
    assert stats.written_to_store == len(small_docs)
    assert seen[-1] == (len(small_docs), len(small_docs))
    return index


def test_vectors_are_durable_without_availability(indexed: SemanticIndex, store, small_docs) -> None:
    assert indexed.ready
    assert len(indexed) == len(small_docs)
    assert store.count(COLLECTION) == len(small_docs)
    record = store.get(COLLECTION, [small_docs[0].id])[0]
    assert "price" not in record.payload
    assert "in_stock" not in record.payload
    assert record.payload["text_hash"] == text_key(embedding_text(small_docs[0]))
    assert np.isclose(np.linalg.norm(record.vector), 1.0, atol=1e-4)


def test_search_finds_by_meaning_within_filters(indexed: SemanticIndex, small_docs) -> None:
    result = indexed.search("wrist watch for men", top_k=3)
    by_id = {d.id: d for d in small_docs}
    assert by_id[result.hits[0].id].article_type == "Watches"
    assert [h.score for h in result.hits] == sorted((h.score for h in result.hits), reverse=True)
    cheap = indexed.search("shoes", SearchFilters(price_max=300, in_stock=True), top_k=50)
    assert cheap.hits
    assert all(by_id[h.id].price <= 300 and by_id[h.id].in_stock for h in cheap.hits)
    assert indexed.search("shoes", SearchFilters(colour=["No Such Colour"])).hits == []
    assert indexed.search("   ").hits == []


def test_reindexing_encodes_nothing(store, small_docs, embedding_cache: Path) -> None:
    again = SemanticIndex(store, cache_dir=embedding_cache)
    stats = again.index(small_docs)
    assert stats.encoded == 0
    assert stats.written_to_store == 0
    assert stats.from_store == len(small_docs)


def test_availability_changes_need_no_encoding(indexed: SemanticIndex, small_docs) -> None:
    class Refuse:
        def encode(self, texts, *, batch_size=32):
            raise AssertionError("availability must not re-encode")

    doc = small_docs[3]
    indexed._encoder, saved = Refuse(), indexed._encoder
    try:
        assert indexed.update_availability([doc.model_copy(update={"price": 5.0, "in_stock": True})]) == 1
        vector = indexed._matrix[indexed._rows[doc.id]]
        result = indexed.search_vector(vector, SearchFilters(price_max=5.0), top_k=5)
        assert [h.id for h in result.hits] == [doc.id]
    finally:
        indexed._encoder = saved


def test_cache_round_trip(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path)
    vector = np.arange(384, dtype=np.float32)
    cache.put_many({"k": vector})
    assert np.array_equal(cache.get_many(["k", "missing"])["k"], vector)
    assert len(cache) == 1
    cache.close()


def test_top_k_is_checked(indexed: SemanticIndex) -> None:
    with pytest.raises(ValueError, match="top_k"):
        indexed.search("shirt", top_k=0)
