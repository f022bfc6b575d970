"""The ``FullTextIndex`` contract; parameterised over backends so an Elasticsearch adapter plugs in."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.documents import FACET_FIELDS, ProductDoc, SearchFilters
from rag.fulltext import ElasticFullTextIndex, FullTextIndex, build_fulltext
from rag.fulltext.sqlite import SqliteFullTextIndex, match_expression
from tests.conftest import make_settings, require_service

pytestmark = pytest.mark.unit


@pytest.fixture(params=["sqlite", pytest.param("elasticsearch", marks=pytest.mark.integration)])
def index(request: pytest.FixtureRequest, tmp_path: Path, docs: list[ProductDoc]) -> Iterator[FullTextIndex]:
    search: dict[str, str] = {"backend": request.param}
    if request.param == "elasticsearch":
        # A fresh index per test on the real server that deploy/local/services.sh starts.
        search["elasticsearch_url"] = require_service("IK_TEST_SEARCH_URL", "the search server")
        search["elasticsearch_index"] = f"test-{uuid.uuid4().hex[:12]}"
    engine: FullTextIndex = build_fulltext(make_settings(tmp_path, search=search))
    engine.ensure()
    engine.upsert(docs)
    yield engine
    if isinstance(engine, ElasticFullTextIndex):
        engine.drop()
    engine.close()


def test_builder_places_the_file_under_data_dir(tmp_path: Path) -> None:
    engine = build_fulltext(make_settings(tmp_path))
    assert isinstance(engine, SqliteFullTextIndex)
    assert engine.path == tmp_path / "var" / "search.sqlite3"
    assert engine.ping()
    engine.close()


def test_get_returns_whole_documents_in_order(index: FullTextIndex, docs: list[ProductDoc]) -> None:
    assert index.count() == len(docs)
    wanted = [docs[5].id, "missing", docs[1].id]
    assert index.get(wanted) == [docs[5], docs[1]]


def test_stemming_matches_plurals(index: FullTextIndex) -> None:
    result = index.search("dresses", limit=5)
    assert result.total > 0
    assert all(d.article_type == "Dresses" for d in index.get([h.id for h in result.hits]))
    assert index.search("dress").total == result.total


def test_filters_price_stock_and_size(index: FullTextIndex, docs: list[ProductDoc]) -> None:
    filters = SearchFilters(article_type=["Tshirts"], price_min=150, price_max=400, in_stock=True, size="m")
    result = index.search("", filters, limit=100)
    expected = {
        d.id
        for d in docs
        if d.article_type == "Tshirts" and 150 <= d.price <= 400 and d.in_stock and "M" in d.sizes_available
    }
    assert expected
    assert {h.id for h in result.hits} == expected
    assert result.total == len(expected)


def test_facets_count_all_matches_not_just_the_page(index: FullTextIndex, docs: list[ProductDoc]) -> None:
    result = index.search("", SearchFilters(gender=["Men"]), limit=2, facets=True)
    men = [d for d in docs if d.gender == "Men"]
    assert result.total == len(men)
    assert len(result.hits) == 2
    assert set(result.facets) == set(FACET_FIELDS)
    assert sum(result.facets["article_type"].values()) == len(men)
    assert result.facets["gender"] == {"Men": len(men)}


def test_browse_puts_in_stock_first_then_newest(index: FullTextIndex) -> None:
    result = index.search("", limit=200)
    found = index.get([h.id for h in result.hits])
    keys = [(not d.in_stock, -(d.year or 0)) for d in found]
    assert keys == sorted(keys)


def test_name_words_rank_by_bm25_and_prefer_ranks_without_filtering(index: FullTextIndex) -> None:
    plain = index.search("casual", limit=200)
    preferred = index.search("casual", limit=200, prefer=SearchFilters(season=["Winter"]))
    assert preferred.total == plain.total
    top = index.get([preferred.hits[0].id])[0]
    assert top.season == "Winter"


def test_chinese_text_is_translated(index: FullTextIndex) -> None:
    result = index.search("手表", limit=5)
    assert result.total > 0
    assert {d.article_type for d in index.get([h.id for h in result.hits])} == {"Watches"}


@pytest.mark.parametrize(
    "text", ['"*():^-', "NEAR(a b)", "a AND OR NOT", "\x00", "🙂", "col:value", "x" * 10_000]
)
def test_query_syntax_is_never_interpreted(index: FullTextIndex, text: str) -> None:
    result = index.search(text, limit=3)
    assert result.total >= 0


def test_match_expression_quotes_every_word() -> None:
    assert (
        match_expression(['shirt"', "full sleeve", "羊绒衫", "*"])
        == '"shirt" OR "full sleeve" OR "羊绒 绒衫"'
    )


def test_upsert_replaces_and_delete_removes(index: FullTextIndex, docs: list[ProductDoc]) -> None:
    doc = docs[0].model_copy(update={"name": "Zanzibar Special Edition", "price": 1.0})
    index.upsert([doc])
    assert index.count() == len(docs)
    assert [h.id for h in index.search("zanzibar").hits] == [doc.id]
    assert index.get([doc.id])[0].price == 1.0
    index.delete([doc.id, "nope"])
    assert index.search("zanzibar").total == 0
    assert index.count() == len(docs) - 1
    index.clear()
    assert index.count() == 0


def test_paging_is_checked(index: FullTextIndex) -> None:
    with pytest.raises(ValueError, match="offset"):
        index.search("", offset=-1)
    with pytest.raises(ValueError, match="at most"):
        index.search("", limit=100, offset=10_001)


def test_concurrent_readers_and_a_writer(index: FullTextIndex, docs: list[ProductDoc]) -> None:
    errors: list[BaseException] = []

    def read() -> None:
        try:
            for _ in range(20):
                assert index.search("shirt", limit=5, facets=True).total > 0
        except BaseException as exc:  # collected for the main thread
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for _ in range(5):
        index.upsert(docs[:20])
    for t in threads:
        t.join()
    assert errors == []
