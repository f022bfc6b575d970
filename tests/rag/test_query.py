from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.query import parse_query

pytestmark = pytest.mark.unit


def test_chinese_query_reads_colour_type_season_and_budget() -> None:
    q = parse_query("白色连衣裙 夏天 500元以内")
    assert q.language == "zh"
    assert q.filters.colour == ["White"]
    assert q.filters.article_type == ["Dresses"]
    assert q.filters.price_max == 500.0
    # Season ranks but does not filter (see the module doc).
    assert q.filters.season == []
    assert q.prefer.season == ["Summer"]
    assert "white" in q.semantic_text
    assert "dresses" in q.semantic_text
    assert any("Dresses" in note for note in q.understood)


def test_english_query_converts_dollars_and_keeps_free_words() -> None:
    q = parse_query("navy slim chinos under $60")
    assert q.language == "en"
    assert q.filters.colour == ["Navy Blue"]
    assert q.filters.article_type == ["Trousers"]
    assert q.filters.price_max == pytest.approx(432.0)
    assert q.terms == ["slim"]


def test_men_and_women_include_unisex() -> None:
    assert parse_query("男士黑色T恤").filters.gender == ["Men", "Unisex"]
    assert parse_query("girls dress").filters.gender == ["Girls"]


def test_article_type_wins_over_broader_categories() -> None:
    q = parse_query("鞋子 运动鞋")
    assert q.filters.article_type == ["Sports Shoes"]
    assert q.filters.master_category == []


def test_chinese_modifiers_become_english_words() -> None:
    q = parse_query("修身条纹衬衫")
    assert q.filters.article_type == ["Shirts"]
    assert set(q.terms) == {"slim", "striped"}


def test_unknown_chinese_is_kept_as_bigrams() -> None:
    q = parse_query("羊绒大衣")
    assert q.filters.article_type == ["Jackets"]
    assert q.han_terms == ["羊绒"]


@pytest.mark.parametrize(
    "text", ["", "   ", "😀" * 50, 'x" OR 1=1; DROP TABLE products; --', '"*():^-', "\x00\x00", "a" * 10_000]
)
def test_odd_input_never_crashes(text) -> None:
    q = parse_query(text)
    assert len(q.text) <= 500
    assert all('"' not in term and "*" not in term for term in q.terms)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_any_text_parses(text) -> None:
    parse_query(text)
