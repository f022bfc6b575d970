from __future__ import annotations

import pytest

from rag.money import RATES, parse_price, to_catalog

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "low", "high", "currency"),
    [
        ("白色连衣裙 夏天 500元以内", None, 500.0, "CNY"),
        ("¥300-500", 300.0, 500.0, "CNY"),
        ("navy slim chinos under $60", None, 432.0, "USD"),
        ("below 80 usd", None, 576.0, "USD"),
        ("不超过1000块", None, 1000.0, "CNY"),
        ("300到500元", 300.0, 500.0, "CNY"),
        ("£40 scarf", None, 364.0, "GBP"),
        ("€50", None, 390.0, "EUR"),
        ("₹2000", None, 172.0, "INR"),
        ("60 dollars", None, 432.0, "USD"),
        ("over 200 rmb", 200.0, None, "CNY"),
        ("hk$300 以下", None, 276.0, "HKD"),
        ("1k以内", None, 1000.0, "CNY"),
        ("between 20 and 40 euros", 156.0, 312.0, "EUR"),
        ("300元左右", 240.0, 360.0, "CNY"),
    ],
)
def test_prices_in_both_languages_become_cny_ranges(text, low, high, currency) -> None:
    price = parse_price(text.lower())
    assert price is not None
    assert (price.min, price.max, price.currency) == (low, high, currency)


def test_a_bare_number_with_a_budget_cue_is_in_the_catalog_currency() -> None:
    price = parse_price("white shirt under 60")
    assert price is not None
    assert (price.max, price.currency) == (60.0, "CNY")


@pytest.mark.parametrize("text", ["size 42 shoes", "2 shirts", "eu 40-42", "t-shirts", "", "$", "under"])
def test_numbers_that_are_not_prices_are_ignored(text) -> None:
    assert parse_price(text) is None


def test_rates_are_fixed_and_checked() -> None:
    assert RATES["CNY"] == 1.0
    assert to_catalog(10, "usd") == 72.0
    with pytest.raises(ValueError, match="unknown currency"):
        to_catalog(10, "XYZ")
    with pytest.raises(ValueError, match="not negative"):
        to_catalog(-1, "USD")


def test_every_currency_callers_may_name_has_a_rate() -> None:
    from typing import get_args

    from rag.money import RATES, Currency

    assert set(get_args(Currency)) == set(RATES)
