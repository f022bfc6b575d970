"""House size charts: they cover the catalogue, run small to large, and read measurements sensibly."""

from __future__ import annotations

import gzip
import json
from itertools import pairwise, product

import pytest
from pydantic import ValidationError

from core.config import REPO_ROOT
from tools.catalog.generate import size_chart
from tools.profile.schemas import Department
from tools.profile.units import ShoeSizeSystem, shoe_to_eu
from tools.sizing.charts import (
    KEY_DIMENSION,
    SizeChart,
    SizeRow,
    default_chart,
    department_of,
    garment_group,
)
from tools.sizing.schemas import GARMENT_GROUPS

GENDERS = ("Men", "Women", "Unisex", "Boys", "Girls")


def _catalogue_kinds() -> set[tuple[str, str, str, str]]:
    """Every (gender, master category, sub-category, article type) of the shipped catalogue."""
    kinds = set()
    with gzip.open(
        REPO_ROOT / "data" / "catalog" / "styles_clean.jsonl.gz", "rt", encoding="utf-8"
    ) as handle:
        for line in handle:
            row = json.loads(line)
            kinds.add((row["gender"], row["masterCategory"], row["subCategory"], row["articleType"]))
    return kinds


def test_every_size_the_catalogue_sells_has_a_row_in_a_default_chart() -> None:
    covered = 0
    for gender, master, sub, article in _catalogue_kinds():
        system, labels = size_chart(gender, master, sub, article)
        group = garment_group(master, sub, article)
        department = department_of(gender)
        if system == "one" or group == "other":
            continue
        assert department is not None, gender
        chart = default_chart(department, group, system)
        assert chart is not None, (gender, master, sub, article, system)
        for label in labels:
            row = chart.row(label)
            assert row is not None, (label, chart.department, chart.group, chart.system)
            assert row.midpoint(chart.key) is not None
        covered += 1
    assert covered > 100


@pytest.mark.parametrize(("gender", "category"), list(product(GENDERS, ["Apparel", "Footwear"])))
def test_generator_sizes_resolve_for_each_department(gender: str, category: str) -> None:
    sub, article = ("Topwear", "Tshirts") if category == "Apparel" else ("Shoes", "Casual Shoes")
    system, labels = size_chart(gender, category, sub, article)
    department = department_of(gender)
    assert department is not None
    chart = default_chart(department, garment_group(category, sub, article), system)
    assert chart is not None
    assert all(chart.row(label) is not None for label in labels)


def test_waist_sized_bottoms_resolve() -> None:
    for gender in ("Men", "Women", "Unisex"):
        system, labels = size_chart(gender, "Apparel", "Bottomwear", "Jeans")
        assert system == "waist"
        chart = default_chart(department_of(gender), "bottom", "waist")
        assert chart is not None
        assert all(chart.row(label) is not None for label in labels)


def test_every_default_chart_runs_small_to_large_in_its_girths() -> None:
    charts = [
        chart
        for department, group, system in product(
            Department, GARMENT_GROUPS, ("letter", "EU", "waist", "age", "one")
        )
        if (chart := default_chart(department, group, system)) is not None
    ]
    assert len(charts) > 20
    for chart in charts:
        for dim in ("chest", "waist", "hips", "foot_length", "height"):
            mids = [m for row in chart.sizes if (m := row.midpoint(dim)) is not None]
            assert all(b >= a for a, b in pairwise(mids)), (chart.department, chart.group, chart.system, dim)
        keys = [row.midpoint(chart.key) for row in chart.sizes]
        assert all(b > a for a, b in pairwise(keys))  # type: ignore[operator]
        assert chart.source.startswith("house default")


def test_key_dimensions_follow_the_group() -> None:
    assert default_chart(Department.women, "dress", "letter").key == "chest"  # type: ignore[union-attr]
    assert default_chart(Department.men, "bottom", "letter").key == "waist"  # type: ignore[union-attr]
    assert default_chart(Department.men, "bottom", "waist").key == "waist"  # type: ignore[union-attr]
    assert default_chart(Department.women, "shoes", "EU").key == "foot_length"  # type: ignore[union-attr]
    # children's clothes are graded by height
    assert default_chart(Department.girls, "top", "age").key == "height"  # type: ignore[union-attr]
    assert KEY_DIMENSION["outerwear"] == "chest"


def test_no_chart_for_one_size_or_other_or_combinations_never_sold() -> None:
    assert default_chart(Department.women, "top", "one") is None
    assert default_chart(Department.men, "other", "letter") is None
    assert default_chart(Department.boys, "top", "letter") is None
    assert default_chart(Department.men, "top", "waist") is None
    assert default_chart(Department.men, "shoes", "letter") is None


def test_realistic_numbers() -> None:
    women = default_chart(Department.women, "top", "letter")
    men = default_chart(Department.men, "top", "letter")
    waist = default_chart(Department.men, "bottom", "waist")
    assert women is not None
    assert men is not None
    assert waist is not None
    assert 88 <= women.midpoint("M", "chest") <= 96  # type: ignore[operator]
    assert 96 <= men.midpoint("M", "chest") <= 102  # type: ignore[operator]
    low, high = waist.row("32").body["waist"]  # type: ignore[union-attr]
    assert low == pytest.approx(80.0, abs=0.5)
    assert high == pytest.approx(82.6, abs=0.5)


def test_shoe_rows_agree_with_the_profile_shoe_units() -> None:
    chart = default_chart(Department.men, "shoes", "EU")
    assert chart is not None
    for row in chart.sizes:
        eu = float(row.label.removeprefix("EU "))
        low, high = row.body["foot_length"]
        # the CN (Mondopoint) size of the foot in the middle of the row is this EU size
        assert shoe_to_eu((low + high) / 2 * 10, ShoeSizeSystem.cn) == eu
        assert high - low == pytest.approx(1 / 1.5, abs=0.02)


def test_row_matching_forgives_spelling_and_returns_the_chart_row() -> None:
    shoes = default_chart(Department.women, "shoes", "EU")
    letters = default_chart(Department.men, "top", "letter")
    kids = default_chart(Department.boys, "bottom", "age")
    waist = default_chart(Department.women, "bottom", "waist")
    assert shoes is not None
    assert letters is not None
    assert kids is not None
    assert waist is not None
    assert shoes.row("eu38") is shoes.row("EU 38") is shoes.row("38") is not None
    assert letters.row("m") is letters.sizes[3]
    assert letters.row(" xl ") is letters.row("XL")
    assert letters.row("2XL") is letters.row("XXL")
    assert letters.row("medium") is letters.row("M")
    assert kids.row("4-5y") is kids.row("4-5Y")
    assert waist.row("W28") is waist.row("28")
    assert letters.row("XXXXL") is None
    assert letters.midpoint("XXXXL", "chest") is None
    assert letters.midpoint("M", "foot_length") is None


def test_position_interpolates_and_extrapolates() -> None:
    chart = default_chart(Department.men, "top", "letter")
    assert chart is not None
    m, l_ = chart.midpoint("M", "chest"), chart.midpoint("L", "chest")
    assert m is not None
    assert l_ is not None
    index_m = chart.labels.index("M")
    assert chart.position(m, "chest") == pytest.approx(index_m)
    assert chart.position((m + l_) / 2, "chest") == pytest.approx(index_m + 0.5)
    first, second = chart.sizes[0].midpoint("chest"), chart.sizes[1].midpoint("chest")
    assert first is not None
    assert second is not None
    assert chart.position(first - (second - first), "chest") == pytest.approx(-1.0)
    last = len(chart.sizes) - 1
    assert chart.position(200, "chest") > last
    assert chart.label_at(chart.position(99, "chest")) == "M"
    assert chart.label_at(-3) == chart.labels[0]
    with pytest.raises(ValueError, match="foot_length"):
        chart.position(25, "foot_length")
    women = default_chart(Department.women, "top", "letter")
    assert women is not None
    with pytest.raises(ValueError, match="height"):
        women.position(165, "height")  # every women's size is cut for the same heights


def _row(label: str, chest: tuple[float, float]) -> SizeRow:
    return SizeRow(label=label, body={"chest": chest})


def test_charts_refuse_bad_tables() -> None:
    base = {"department": "women", "group": "top", "system": "letter", "key": "chest", "source": "test"}
    with pytest.raises(ValidationError, match="small to large"):
        SizeChart(**base, sizes=[_row("S", (84, 88)), _row("M", (80, 84))])
    with pytest.raises(ValidationError, match=r"twice|same as"):
        SizeChart(**base, sizes=[_row("S", (80, 84)), _row("s", (84, 88))])
    with pytest.raises(ValidationError, match="key dimension"):
        SizeChart(**base, sizes=[SizeRow(label="S", body={"waist": (60, 64)})])
    with pytest.raises(ValidationError):
        SizeChart(**base, sizes=[])
    with pytest.raises(ValidationError, match="low < high"):
        _row("S", (90, 80))
    with pytest.raises(ValidationError, match="one-size"):
        SizeChart(**{**base, "system": "one"}, sizes=[_row("One Size", (80, 90))])


def test_charts_survive_a_json_round_trip() -> None:
    chart = default_chart(Department.unisex, "top", "letter")
    assert chart is not None
    again = SizeChart.model_validate(chart.model_dump(mode="json"))
    assert again == chart


@pytest.mark.parametrize(
    ("master", "sub", "article", "group"),
    [
        ("Footwear", "Shoes", "Casual Shoes", "shoes"),
        ("Footwear", "Flip Flops", "Flip Flops", "shoes"),
        ("Apparel", "Dress", "Dresses", "dress"),
        ("Apparel", "Topwear", "Dresses", "dress"),
        ("Apparel", "Dress", "Jumpsuit", "one_piece"),
        ("Apparel", "Topwear", "Rompers", "one_piece"),
        ("Apparel", "Topwear", "Jackets", "outerwear"),
        ("Apparel", "Topwear", "Blazers", "outerwear"),
        ("Apparel", "Topwear", "Nehru Jackets", "outerwear"),
        ("Apparel", "Topwear", "Waistcoat", "outerwear"),
        ("Apparel", "Topwear", "Rain Jacket", "outerwear"),
        ("Apparel", "Topwear", "Sweatshirts", "top"),
        ("Apparel", "Topwear", "Sweaters", "top"),
        ("Apparel", "Topwear", "Tshirts", "top"),
        ("Apparel", "Topwear", "Kurtas", "top"),
        ("Apparel", "Bottomwear", "Jeans", "bottom"),
        ("Apparel", "Bottomwear", "Swimwear", "bottom"),
        ("Apparel", "Apparel Set", "Swimwear", "one_piece"),
        ("Apparel", "Innerwear", "Briefs", "bottom"),
        ("Apparel", "Innerwear", "Bra", "other"),
        ("Accessories", "Belts", "Belts", "other"),
        ("Accessories", "Watches", "Watches", "other"),
        (None, None, None, "other"),
    ],
)
def test_garment_group(master: str | None, sub: str | None, article: str | None, group: str) -> None:
    assert garment_group(master, sub, article) == group


def test_department_of() -> None:
    assert department_of("Women") == Department.women
    assert department_of(" men ") == Department.men
    assert department_of("Unisex") == Department.unisex
    assert department_of("Girls") == Department.girls
    assert department_of("Boys") == Department.boys
    assert department_of("Kids") is None
    assert department_of(None) is None
