"""The search suite's metrics, grader and labelled queries, and a small end-to-end run."""

from __future__ import annotations

import gzip
import json
import math
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from core.config import REPO_ROOT
from evals.search import (
    ATTRIBUTE_FIELDS,
    QUERIES_PATH,
    Grader,
    Query,
    Relevance,
    dcg,
    load_queries,
    name_words,
    ndcg,
    raw_product,
    recall,
    score_query,
    summarise,
)

pytestmark = pytest.mark.unit

CATALOG_FILE = REPO_ROOT / "data" / "catalog" / "styles_clean.jsonl.gz"
SHIPPED_SEED = 20261127


@lru_cache(maxsize=1)
def catalog() -> tuple[dict[str, Any], ...]:
    """Every shipped product with ``ProductDoc`` field names and its generated price."""
    from tools.catalog.generate import generate

    products = []
    with gzip.open(CATALOG_FILE, "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            product = raw_product(row)
            product["price"] = (
                generate(
                    product["id"],
                    seed=SHIPPED_SEED,
                    gender=row["gender"],
                    master_category=row["masterCategory"],
                    sub_category=row["subCategory"],
                    article_type=row["articleType"],
                )
                .skus[0]
                .price
            )
            products.append(product)
    return tuple(products)


# --- metrics -----------------------------------------------------------------------------------


def test_ndcg_matches_a_hand_computed_example() -> None:
    # Ranked grades 2, 0, 1: DCG = 2/log2(2) + 0 + 1/log2(4) = 2.5.
    assert dcg([2, 0, 1], 10) == pytest.approx(2.5)
    # The catalog holds grades 2, 2, 1 (and zeros): ideal DCG = 2 + 2/log2(3) + 1/2.
    ideal = 2 + 2 / math.log2(3) + 0.5
    assert ndcg([2, 0, 1], [0, 2, 1, 0, 2]) == pytest.approx(2.5 / ideal)
    assert ndcg([2, 0, 1], [0, 2, 1, 0, 2]) == pytest.approx(0.66457, abs=1e-5)


def test_ndcg_ideal_is_over_the_whole_catalog_not_the_retrieved_list() -> None:
    # A perfect-looking list of grade-1 products still misses the grade-2 ones the catalog has.
    assert ndcg([1, 1], [1, 1]) == pytest.approx(1.0)
    assert ndcg([1, 1], [1, 1, 2, 2]) < 1.0
    assert ndcg([2, 2, 1, 1], [1, 1, 2, 2]) == pytest.approx(1.0)
    assert ndcg([], [1]) == 0.0
    assert ndcg([1], [0, 0]) == 0.0  # nothing relevant: not scored as perfect


def test_ndcg_only_counts_the_first_k_ranks() -> None:
    assert ndcg([0] * 10 + [3], [3]) == 0.0
    assert ndcg([0] * 9 + [3], [3]) == pytest.approx(1 / math.log2(11))


def test_recall_is_normalised_by_at_most_fifty() -> None:
    relevant = {f"p{i}" for i in range(60)}
    assert recall([f"p{i}" for i in range(50)], relevant) == pytest.approx(1.0)
    assert recall([f"p{i}" for i in range(25)] + ["x"] * 25, relevant) == pytest.approx(0.5)
    assert recall(["a", "x", "b"], {"a", "b", "c"}) == pytest.approx(2 / 3)
    # Only the first 50 retrieved count.
    assert recall(["x"] * 50 + ["a"], {"a"}) == 0.0
    assert recall(["a"], set()) == 0.0


def test_scores_and_summary_per_language() -> None:
    relevance = Relevance.from_json({"must": {"article_type": ["Dresses"]}})
    grades = {"1": 1, "2": 1}
    en = score_query(
        Query("en-1", "dev", "en", "dress", relevance), ["1", "9"], grades, mode="fulltext", latency_ms=2
    )
    zh = score_query(
        Query("zh-1", "dev", "zh", "裙子", relevance), ["9"], grades, mode="fulltext", latency_ms=4
    )
    assert en.recall == pytest.approx(0.5)
    assert en.relevant == 2
    summary = summarise([en, zh])
    assert summary["queries"] == 2
    assert summary["by_lang"]["en"]["ndcg@10"] == pytest.approx(en.ndcg, abs=1e-4)
    assert summary["by_lang"]["zh"] == {"queries": 1, "ndcg@10": 0.0, "recall@50": 0.0}
    assert summary["zero_ndcg"] == ["zh-1"]
    assert summary["latency_ms_p50"] == pytest.approx(3.0)
    json.dumps(summary)


# --- the grader --------------------------------------------------------------------------------


def _product(**values: Any) -> dict[str, Any]:
    base = {
        "id": "1",
        "name": "Nike Men Running Black Sports Shoes",
        "gender": "Men",
        "article_type": "Sports Shoes",
        "colour": "Black",
        "season": "Summer",
        "usage": "Sports",
        "price": 500.0,
    }
    return base | values


def test_grade_is_zero_when_a_must_field_or_a_price_bound_fails() -> None:
    relevance = Relevance.from_json(
        {
            "must": {"article_type": ["Sports Shoes"], "gender": ["Men", "Unisex"]},
            "should": {"gender": ["Men"], "name": ["Running"]},
            "price_min": 100,
            "price_max": 600,
        }
    )
    assert relevance.max_grade == 3
    assert relevance.grade(_product()) == 3
    assert relevance.grade(_product(gender="Unisex")) == 2
    assert relevance.grade(_product(name="Puma Men Black Sports Shoes")) == 2
    assert relevance.grade(_product(gender="Women")) == 0
    assert relevance.grade(_product(article_type="Casual Shoes")) == 0
    assert relevance.grade(_product(price=600.0)) == 3  # bounds are inclusive
    assert relevance.grade(_product(price=601.0)) == 0
    assert relevance.grade(_product(price=99.0)) == 0
    assert relevance.grade(_product(price=None)) == 0
    assert relevance.grade(_product(price=9999.0), ignore_price=True) == 3


def test_name_matches_whole_words_case_insensitively() -> None:
    relevance = Relevance.from_json({"must": {"name": ["ADIDAS"]}})
    assert relevance.grade(_product(name="ADIDAS Men Track Pants")) == 1
    assert relevance.grade(_product(name="Adidas Originals Women Jacket")) == 1
    assert relevance.grade(_product(name="Adidasx Men Shirt")) == 0
    assert relevance.grade(_product(name=None)) == 0
    assert {"u.s", "polo", "check", "ray-ban"} <= name_words("U.S. Polo Assn. Men Check Shirt, Ray-Ban")


@pytest.mark.parametrize(
    "data",
    [
        {"must": {}},
        {"must": {"colour": "Black"}},
        {"must": {"colour": []}},
        {"must": {"brand": ["Nike"]}},
        {"must": {"colour": ["Black"]}, "boost": {}},
        {"must": {"colour": ["Black"]}, "price_min": 500, "price_max": 100},
    ],
)
def test_malformed_relevance_is_refused(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Relevance.from_json(data)


def test_load_queries_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    good = {
        "id": "en-1",
        "split": "dev",
        "lang": "en",
        "text": "x",
        "relevance": {"must": {"colour": ["Red"]}},
    }
    bad = good | {"id": "en-2", "relevance": {"must": {"color": ["Red"]}}}
    path.write_text(json.dumps(good) + "\n\n" + json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"q.jsonl:3 \(en-2\)"):
        load_queries(path)
    path.write_text(json.dumps(good) + "\n", encoding="utf-8")
    assert [q.id for q in load_queries(path, "dev")] == ["en-1"]
    assert load_queries(path, "test") == []


# --- the labelled data ---------------------------------------------------------------------------


def test_the_query_set_is_big_balanced_and_split() -> None:
    queries = load_queries(QUERIES_PATH)
    assert len(queries) >= 120
    ids = [q.id for q in queries]
    assert len(ids) == len(set(ids))
    assert all(q.id.startswith(f"{q.lang}-") for q in queries)
    assert {q.split for q in queries} == {"dev", "test"}
    assert {q.lang for q in queries} == {"en", "zh", "mixed"}
    langs = Counter(q.lang for q in queries)
    assert abs(langs["en"] - langs["zh"]) <= 0.15 * len(queries)
    assert langs["mixed"] >= 5
    for split in ("dev", "test"):
        part = [q for q in queries if q.split == split]
        assert 0.4 <= len(part) / len(queries) <= 0.6
        assert {q.lang for q in part} == {"en", "zh", "mixed"}
        assert sum(q.relevance.priced for q in part) >= 4
        assert sum(q.note == "hard" for q in part) >= 4
    texts = [q.text.strip().lower() for q in queries]
    assert len(texts) == len(set(texts))


def test_every_attribute_value_is_a_real_catalog_value() -> None:
    known: dict[str, set[Any]] = {name: set() for name in ATTRIBUTE_FIELDS}
    words: set[str] = set()
    for product in catalog():
        for name in ATTRIBUTE_FIELDS:
            known[name].add(product[name])
        words |= name_words(product["name"])
    for query in load_queries(QUERIES_PATH):
        for part in (query.relevance.must, query.relevance.should):
            for name, values in part.items():
                for value in values:
                    if name == "name":
                        assert value in words, f"{query.id}: no product name has the word {value!r}"
                    else:
                        assert value in known[name], f"{query.id}: {name}={value!r} is not in the catalog"


def test_the_grader_finds_what_a_full_scan_finds() -> None:
    products = catalog()[:3000]
    grader = Grader(products)
    for query in load_queries(QUERIES_PATH)[::7]:
        scan = {p["id"]: g for p in products if (g := query.relevance.grade(p)) > 0}
        assert grader.grades(query.relevance) == scan, query.id


def test_every_query_has_relevant_products_in_the_catalog_with_its_seeded_prices() -> None:
    grader = Grader(catalog())
    for query in load_queries(QUERIES_PATH):
        relevant = len(grader.grades(query.relevance))
        assert relevant >= 1, f"{query.id} ({query.text}) has no relevant product"
        if query.relevance.priced:
            unbounded = len(grader.grades(query.relevance, ignore_price=True))
            # The bound must matter, or the query does not test price understanding.
            assert relevant < unbounded, f"{query.id}: its price bound excludes nothing"


# --- end to end ----------------------------------------------------------------------------------


def test_a_small_fulltext_run_prints_a_table_then_one_json_line(capsys: pytest.CaptureFixture[str]) -> None:
    from evals.__main__ import main

    assert main(["search", "--limit", "300", "--modes", "fulltext"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("search eval, split dev:")
    assert lines[1].split()[:3] == ["mode", "lang", "n"]
    result = json.loads(lines[-1])
    assert result["suite"] == "search"
    assert result["split"] == "dev"
    assert result["products"] == 300
    assert list(result["modes"]) == ["fulltext"]
    fulltext = result["modes"]["fulltext"]
    assert (
        fulltext["queries"] + len(result["unscored"])
        == result["queries"]
        == len(load_queries(QUERIES_PATH, "dev"))
    )
    assert fulltext["queries"] >= 20  # most queries still have relevant products among 300
    assert 0 < fulltext["ndcg@10"] <= 1
    assert 0 < fulltext["recall@50"] <= 1
    assert set(fulltext["by_lang"]) <= {"en", "zh", "mixed"}
    assert fulltext["latency_ms_p50"] > 0


@pytest.mark.slow  # loads the catalog file and MiniLM, encodes 100 products the first time
def test_a_tiny_bench_reports_every_path_against_its_target(capsys: pytest.CaptureFixture[str]) -> None:
    from evals.__main__ import main

    assert main(["bench-search", "--limit-products", "100", "--queries", "6", "--warmup", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[-1])
    assert result["suite"] == "bench-search"
    assert (result["products"], result["queries"], result["warmup"]) == (100, 6, 2)
    assert result["targets"] == {"search_ms_p99": 30.0, "vector_top10_ms_p99": 10.0}
    paths = result["results"]
    assert set(paths) == {"fulltext", "vector", "vector_with_encoding", "hybrid"}
    for path in paths.values():
        assert path["calls"] == 6
        assert 0 < path["ms_p50"] <= path["ms_p99"] <= path["ms_max"]
    assert paths["fulltext"]["pass"] is (paths["fulltext"]["ms_p99"] <= 30.0)
    assert paths["vector_with_encoding"]["pass"] is None
