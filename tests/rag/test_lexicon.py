from __future__ import annotations

import gzip
import json
from collections import Counter

import pytest

from rag.lexicon import default_lexicon, fts_terms, han_bigrams, normalise, parse_tsv, singular
from tests.rag.conftest import CATALOG

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def catalog_values() -> dict[str, Counter[str]]:
    keys = {"articleType": "article_type", "baseColour": "colour", "season": "season", "gender": "gender"}
    counts: dict[str, Counter[str]] = {v: Counter() for v in keys.values()}
    with gzip.open(CATALOG, "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            for key, field in keys.items():
                if row.get(key) not in (None, "NA"):
                    counts[field][row[key]] += 1
    return counts


def test_every_lexicon_value_is_a_real_catalog_spelling(catalog_values) -> None:
    values = default_lexicon().values
    for field in ("article_type", "colour", "season", "gender"):
        unknown = values[field] - set(catalog_values[field])
        assert not unknown, f"{field}: {unknown}"


def test_the_lexicon_covers_frequent_types_every_colour_and_season(catalog_values) -> None:
    values = default_lexicon().values
    top60 = {name for name, _ in catalog_values["article_type"].most_common(60)}
    assert top60 - values["article_type"] == set()
    assert set(catalog_values["colour"]) - values["colour"] == set()
    assert values["season"] == {"Summer", "Fall", "Winter", "Spring"}


@pytest.mark.parametrize(
    ("phrase", "field", "value"),
    [
        ("连衣裙", "article_type", "Dresses"),
        ("藏青色", "colour", "Navy Blue"),
        ("navy", "colour", "Navy Blue"),
        ("chinos", "article_type", "Trousers"),
        ("t-shirt", "article_type", "Tshirts"),
        ("tee", "article_type", "Tshirts"),
        ("Dress", "article_type", "Dresses"),
        ("watches", "article_type", "Watches"),
        ("夏装", "season", "Summer"),
        ("女童", "gender", "Girls"),
        ("派对", "usage", "Party"),
        ("民族风", "usage", "Ethnic"),
        ("grey melange", "colour", "Grey Melange"),
    ],
)
def test_phrases_map_to_catalog_values(phrase, field, value) -> None:
    assert (field, value) in {(e.field, e.value) for e in default_lexicon().lookup(phrase)}


def test_sneakers_mean_both_shoe_types() -> None:
    values = {e.value for e in default_lexicon().lookup("sneakers")}
    assert values == {"Casual Shoes", "Sports Shoes"}


def test_longest_match_segmentation_of_chinese() -> None:
    segments = default_lexicon().segment(normalise("男士黑色T恤小白鞋"))
    assert [s.text for s in segments] == ["男士", "黑色", "t恤", "小白鞋"]
    assert segments[-1].kind == "phrase"


def test_unknown_chinese_falls_back_to_bigrams() -> None:
    assert han_bigrams("羊绒围") == ["羊绒", "绒围"]
    assert han_bigrams("羊") == ["羊"]
    assert fts_terms("羊绒外套") == ["羊绒", "jackets"]


def test_english_plurals_compare_equal() -> None:
    assert singular("dresses") == singular("dress") == "dress"
    assert singular("watches") == "watch"
    assert singular("glass") == "glass"


def test_tsv_errors_name_the_line() -> None:
    with pytest.raises(ValueError, match=r"<lexicon>:2: unknown field 'size'"):
        parse_tsv(["# comment", "大码\tsize\tXL"])
    with pytest.raises(ValueError, match="expected"):
        parse_tsv(["only one column"])
