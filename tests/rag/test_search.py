from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.documents import ProductDoc, SearchFilters
from rag.fulltext import build_fulltext
from rag.search import SearchService, build_search_service
from rag.semantic import SemanticIndex
from tests.conftest import make_settings

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory, small_docs: list[ProductDoc], embedding_cache: Path
) -> Iterator[SearchService]:
    settings = make_settings(tmp_path_factory.mktemp("search"))
    fulltext = build_fulltext(settings)
    fulltext.ensure()
    # No vector store here: durability is test_semantic's business; the cache avoids re-encoding.
    svc = SearchService(fulltext, SemanticIndex(None, cache_dir=embedding_cache), rrf_k=60)
    svc.index(small_docs)
    yield svc
    svc.close()


def test_hybrid_search_reads_the_query_and_returns_documents(service: SearchService) -> None:
    page = service.search("white shirts for men under $100", limit=5)
    assert page.mode == "hybrid"
    assert page.understood.filters.price_max == pytest.approx(720.0)
    assert page.hits
    for hit in page.hits:
        assert hit.doc.article_type == "Shirts"
        assert hit.doc.colour == "White"
        assert hit.doc.gender in {"Men", "Unisex"}
        assert hit.doc.price <= 720
    assert sum(page.facets["colour"].values()) == page.total


def test_explicit_filters_win_over_parsed_ones(service: SearchService) -> None:
    page = service.search("black dress", SearchFilters(colour=["Blue"]), mode="fulltext", limit=20)
    assert page.hits
    assert all(h.doc.colour == "Blue" and h.doc.article_type == "Dresses" for h in page.hits)


def test_chinese_query_in_every_mode(service: SearchService) -> None:
    for mode in ("fulltext", "vector", "hybrid"):
        page = service.search("手表", mode=mode, limit=3)
        assert page.mode == mode
        assert page.hits
        assert all(h.doc.article_type == "Watches" for h in page.hits)


def test_unmatched_words_are_dropped_with_a_note(service: SearchService) -> None:
    page = service.search("zanzibar watches", mode="fulltext")
    assert page.total > 0
    assert any("zanzibar" in note for note in page.notes)


def test_availability_updates_are_seen_by_both_engines(service: SearchService, small_docs) -> None:
    doc = small_docs[10].model_copy(update={"price": 1.0, "in_stock": True, "sizes_available": ["XXL"]})
    service.update_availability([doc])
    assert service.get([doc.id])[0].price == 1.0
    for mode in ("fulltext", "vector", "hybrid"):
        page = service.search(doc.name, SearchFilters(price_max=1.0, size="XXL"), mode=mode)
        assert [h.doc.id for h in page.hits] == [doc.id]


def test_without_semantic_search_vector_mode_falls_back(tmp_path: Path, small_docs) -> None:
    svc = build_search_service(make_settings(tmp_path), vectors=None)  # type: ignore[arg-type]
    svc.index(small_docs[:10])
    assert not svc.semantic_ready
    page = svc.search("shirt", mode="vector")
    assert page.mode == "fulltext"
    assert page.notes
    svc.close()


def test_paging_limits(service: SearchService) -> None:
    with pytest.raises(ValueError, match="limit"):
        service.search("shirt", limit=101)
    with pytest.raises(ValueError, match="offset"):
        service.search("shirt", offset=10_001)
    first = service.search("shirt", mode="hybrid", limit=3)
    second = service.search("shirt", mode="hybrid", limit=3, offset=3)
    assert not {h.doc.id for h in first.hits} & {h.doc.id for h in second.hits}


@pytest.mark.parametrize("text", ["", '"*():^-', "\x00", "🙂" * 100, "x" * 10_000])
def test_odd_text_never_crashes(service: SearchService, text: str) -> None:
    page = service.search(text, limit=3)
    assert page.total >= 0
