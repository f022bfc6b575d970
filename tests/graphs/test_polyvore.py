"""Polyvore GOES_WITH: category mapping, shrunk PPMI arithmetic and the loader, on made-up outfits."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from graphs import polyvore
from graphs.polyvore import GoesWith, cooccurrence, load_goes_with, pair_stats
from tools.recommend.schemas import ARTICLE_KIND

pytestmark = pytest.mark.unit


def test_mapping_tables_name_only_outfit_article_types() -> None:
    for table in (polyvore.MARYLAND_CATEGORY, polyvore.VASILEVA_FINE):
        assert set(table.values()) <= set(ARTICLE_KIND)


def test_maryland_ids_map_by_name_and_unmapped_are_dropped() -> None:
    types = polyvore.maryland_article_types({43: "Pumps", 237: "Skinny Jeans", 2: "Clothing", 93: "Makeup"})
    assert types == {43: "Heels", 237: "Jeans"}


def test_vasileva_ambiguous_ids_fall_back_on_maryland() -> None:
    rows = [
        ["7", "skirt", "bottoms"],
        ["11", "sweater", "tops"],
        ["11", "shirt", "tops"],  # id 11 disagrees: Sweaters vs Shirts
        ["41", "heels", "shoes"],
        ["41", "sneakers", "shoes"],  # disagrees and Maryland has no mapping for 41
        ["999", "lingerie top", ""],
    ]
    types = polyvore.vasileva_article_types(rows, {11: "Tops"})
    assert types == {"7": "Skirts", "11": "Tops"}


def test_cooccurrence_counts_presence_and_cross_slot_pairs_only() -> None:
    outfits = [
        {"Tops", "Jeans", "Heels"},
        {"Tops", "Jeans", "Earrings", "Necklace and Chains"},  # two accessories: same slot
        {"Dresses"},  # one type: not counted
    ]
    n, single, pairs = cooccurrence(outfits)
    assert n == 2
    assert single["Tops"] == 2
    assert single["Heels"] == 1
    assert pairs[("Jeans", "Tops")] == 2
    assert ("Earrings", "Necklace and Chains") not in pairs
    assert pairs[("Earrings", "Jeans")] == 1


def test_shrunk_ppmi_arithmetic() -> None:
    n = 100
    single = {"Dresses": 20, "Heels": 25, "Jeans": 30}
    pairs = {("Dresses", "Heels"): 15, ("Heels", "Jeans"): 2}
    stats = {(s.a, s.b): s for s in pair_stats(n, single, pairs, shrinkage=5.0, min_support=1)}
    dh = stats[("Dresses", "Heels")]
    assert dh.expected == pytest.approx(5.0)
    assert dh.lift == pytest.approx(3.0)
    assert dh.weight == pytest.approx(math.log(20 / 10))
    hj = stats[("Heels", "Jeans")]  # seen less than expected (7.5): clipped at zero
    assert hj.weight == 0.0
    assert [s.a for s in pair_stats(n, single, pairs, min_support=5)] == ["Dresses"]


def test_shrinkage_ranks_well_supported_pairs_above_lucky_ones() -> None:
    n = 1000
    single = {"A": 10, "B": 10, "C": 200, "D": 200}
    pairs = {("A", "B"): 2, ("C", "D"): 80}  # lifts 20 and 2
    ranked = pair_stats(n, single, pairs, shrinkage=5.0, min_support=1)
    assert (ranked[0].a, ranked[0].b) == ("C", "D")


def test_loader_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "goes_with.json"
    document = {
        "header": {"what": "test"},
        "pairs": [{"a": "Dresses", "b": "Heels", "weight": 0.7, "support": 15, "lift": 3.0}],
    }
    path.write_text(json.dumps(document), encoding="utf-8")
    assert load_goes_with(path) == [GoesWith("Dresses", "Heels", 0.7, 15)]
    assert load_goes_with(tmp_path / "missing.json") == []
