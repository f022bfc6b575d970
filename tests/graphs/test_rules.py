"""The encoded fashion rules: colour harmony, occasion fit and wearable seasons."""

from __future__ import annotations

import pytest

from graphs.rules import COLOURS, colour_harmony, style_suits, wearable_seasons
from graphs.vocabulary import Occasion, Season


def test_neutrals_go_with_everything_and_harmony_is_symmetric() -> None:
    for name in COLOURS:
        for other in COLOURS:
            assert colour_harmony(name, other) == colour_harmony(other, name)
        if COLOURS[name].neutral:
            assert all(colour_harmony(name, other) is not None for other in COLOURS if other != "Multi")


@pytest.mark.parametrize(
    ("a", "b", "rule"),
    [
        ("Navy Blue", "White", "neutral"),
        ("Red", "Maroon", "monochrome"),
        ("Orange", "Yellow", "analogous"),
        ("Blue", "Orange", "complementary"),
        ("Red", "Green", "triadic"),
    ],
)
def test_the_colour_wheel_rules(a: str, b: str, rule: str) -> None:
    found = colour_harmony(a, b)
    assert found is not None
    assert found[1] == rule


def test_clashes_and_busy_prints_get_no_harmony() -> None:
    assert colour_harmony("Red", "Blue") is None  # 145 degrees apart: neither complementary nor triadic
    assert colour_harmony("Multi", "Purple") is None
    assert colour_harmony("Black", "Tartan") is None  # unknown colours are never assumed to match


def test_safer_pairs_weigh_more() -> None:
    def weight(a: str, b: str) -> float:
        found = colour_harmony(a, b)
        assert found is not None
        return found[0]

    assert weight("Grey", "White") > weight("Navy Blue", "Red") > weight("Orange", "Yellow")
    assert weight("Orange", "Yellow") > weight("Red", "Green")
    assert weight("Black", "Navy Blue") < weight("Black", "Grey")  # the classic exception


def test_occasion_fit_follows_formality_with_named_exceptions() -> None:
    assert style_suits("Formal", Occasion.WEDDING) == 1.0
    assert style_suits("Casual", Occasion.WEDDING) == 0.0
    assert style_suits("Smart Casual", Occasion.WORK) == pytest.approx(0.6)
    assert style_suits("Ethnic", Occasion.WEDDING) == 1.0  # made for it
    assert style_suits("Sports", Occasion.DATE) == 0.0  # formality alone would allow it


def test_wearable_seasons() -> None:
    assert wearable_seasons("Tshirts", "Summer") == frozenset(Season)  # basics are all-season
    assert wearable_seasons("Sweaters", "Summer") == {Season.FALL, Season.WINTER}
    assert wearable_seasons("Shorts", "Winter") == {Season.SPRING, Season.SUMMER}
    assert wearable_seasons("Dresses", "Summer") == {Season.SPRING, Season.SUMMER, Season.FALL}
    assert wearable_seasons("Dresses", None) == frozenset(Season)
