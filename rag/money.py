"""Prices in a query ("500元以内", "under $60", "¥300-500") as a range in the catalog currency.

Every catalog price is in ``CATALOG_CURRENCY`` (CNY), so a budget in another currency is
converted before it becomes a filter. ``RATES`` are fixed reference rates, not live ones:
a shopping filter needs a stable, reproducible answer ("under $60" must mean the same
products today and in a test), not the exchange rate to the cent. Update the table by
hand when rates drift far enough to matter.

A number is read as a price only next to a currency (a symbol, code or word) or a budget
cue ("under", "以内", "预算"): "size 42" or "2 shirts" are not prices. A number with a
budget cue but no currency ("under 60", "300以下") is in the catalog currency: the prices
a person sees in this product are CNY, so a bare number refers to them whatever the
language of the question. A currency with no cue ("£40 scarf", "60 dollars") is read as
a ceiling, since a shopper naming a price is almost always naming a budget.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from rag.documents import CATALOG_CURRENCY

#: Units of ``CATALOG_CURRENCY`` per unit of each currency: fixed reference rates, not live.
#: The currencies an amount may be given in (the keys of ``RATES``).
Currency = Literal["CNY", "USD", "EUR", "GBP", "INR", "JPY", "HKD"]

RATES: dict[str, float] = {
    "CNY": 1.0,
    "USD": 7.2,
    "EUR": 7.8,
    "GBP": 9.1,
    "INR": 0.086,
    "JPY": 0.048,
    "HKD": 0.92,
}

#: "around $50" spans this fraction either side of the amount.
AROUND_SPREAD = 0.2
#: Larger amounts are typos or not prices at all (a product id, a phone number).
MAX_AMOUNT = 10_000_000.0

# Longest alternatives first so "hk$" wins over "$" and "块钱" over "块".
_CURRENCY_WORDS: dict[str, str] = {
    "人民币": "CNY",
    "块钱": "CNY",
    "rmb": "CNY",
    "cny": "CNY",
    "yuan": "CNY",
    "rmb¥": "CNY",
    "元": "CNY",
    "块": "CNY",
    "¥": "CNY",
    "￥": "CNY",
    "hk$": "HKD",
    "hkd": "HKD",
    "港币": "HKD",
    "港元": "HKD",
    "us$": "USD",
    "usd": "USD",
    "dollars": "USD",
    "dollar": "USD",
    "bucks": "USD",
    "美元": "USD",
    "美金": "USD",
    "刀": "USD",
    "$": "USD",
    "eur": "EUR",
    "euros": "EUR",
    "euro": "EUR",
    "欧元": "EUR",
    "€": "EUR",
    "gbp": "GBP",
    "pounds": "GBP",
    "pound": "GBP",
    "quid": "GBP",
    "英镑": "GBP",
    "£": "GBP",
    "inr": "INR",
    "rupees": "INR",
    "rupee": "INR",
    "rs.": "INR",
    "rs": "INR",
    "卢比": "INR",
    "₹": "INR",
    "jpy": "JPY",
    "yen": "JPY",
    "日元": "JPY",
    "円": "JPY",
}


def _alternation(words: list[str]) -> str:
    ordered = sorted(words, key=len, reverse=True)
    parts = []
    for word in ordered:
        escaped = re.escape(word)
        # Latin words need word boundaries ("rs" in "shirts" is not rupees); symbols and Han do not.
        parts.append(
            rf"(?<![a-z]){escaped}(?![a-z])" if word[-1].isascii() and word[-1].isalpha() else escaped
        )
    return "|".join(parts)


_CUR = _alternation(list(_CURRENCY_WORDS))
_NUM = r"\d+(?:[.,]\d+)*(?:\s*(?:k|千|万|w)(?![a-z]))?"
_AMOUNT = rf"(?:(?P<{{p}}pre>{_CUR})\s*)?(?P<{{p}}num>{_NUM})(?:\s*(?P<{{p}}post>{_CUR}))?"


def _amount(prefix: str) -> str:
    return _AMOUNT.replace("{p}", prefix)


_MAX_BEFORE = (
    r"under|below|less than|cheaper than|no more than|not more than|up to|upto|max(?:imum)?|at most|"
    r"within|budget(?: of| is)?|<=|<|≤|不超过|不高于|不到|低于|少于|小于|最多|预算"
)
_MAX_AFTER = r"以内|以下|之内|内|or less|or under|max|and under|or below"
_MIN_BEFORE = r"over|above|more than|at least|min(?:imum)?|from|>=|>|≥|超过|高于|大于|至少|不低于"
_MIN_AFTER = r"以上|起|or more|and up|and above|plus|\+"
_AROUND_BEFORE = r"around|about|approx(?:imately)?|roughly|~|大约|大概|约"
_AROUND_AFTER = r"左右|上下|or so|ish"
_RANGE_SEP = r"-|–|—|~|～|到|至|to|and"

_RANGE = re.compile(
    rf"(?:between\s+|from\s+|在)?{_amount('a')}\s*(?:{_RANGE_SEP})\s*{_amount('b')}(?:\s*(?:之间|between))?"
)
_BEFORE = re.compile(
    rf"(?P<cue>{_MAX_BEFORE}|{_MIN_BEFORE}|{_AROUND_BEFORE})\s*(?:是|为|:|：)?\s*{_amount('a')}"
    rf"(?:\s*(?P<after>{_MAX_AFTER}|{_MIN_AFTER}|{_AROUND_AFTER}))?"
)
_AFTER = re.compile(rf"{_amount('a')}\s*(?P<after>{_MAX_AFTER}|{_MIN_AFTER}|{_AROUND_AFTER})")
_BARE = re.compile(_amount("a"))

_MAX_RE = re.compile(rf"^(?:{_MAX_BEFORE}|{_MAX_AFTER})$")
_MIN_RE = re.compile(rf"^(?:{_MIN_BEFORE}|{_MIN_AFTER})$")


@dataclass(frozen=True)
class PriceRange:
    """A price range in ``CATALOG_CURRENCY`` and where in the (normalised) text it was read."""

    min: float | None
    max: float | None
    #: The currency the person used (``CATALOG_CURRENCY`` when they named none).
    currency: str
    #: The matched text, for "what was understood" messages.
    source: str
    start: int
    end: int

    def describe(self) -> str:
        if self.min is not None and self.max is not None:
            return f"{self.min:g}–{self.max:g} {CATALOG_CURRENCY}"
        if self.max is not None:
            return f"≤ {self.max:g} {CATALOG_CURRENCY}"
        return f"≥ {self.min:g} {CATALOG_CURRENCY}"


def bound_to_catalog(amount: float | None, currency: str) -> float | None:
    """A price bound (None: unbounded) in ``CATALOG_CURRENCY``."""
    return None if amount is None else to_catalog(amount, currency)


def to_catalog(amount: float, currency: str) -> float:
    """``amount`` of ``currency`` in ``CATALOG_CURRENCY``, rounded to the cent."""
    try:
        rate = RATES[currency.upper()]
    except KeyError:
        raise ValueError(f"unknown currency {currency!r}; known: {sorted(RATES)}") from None
    if not math.isfinite(amount) or amount < 0:
        raise ValueError(f"amounts must be finite and not negative, got {amount!r}")
    return round(amount * rate, 2)


def _number(raw: str) -> float | None:
    text = raw.strip().replace(" ", "")
    factor = 1.0
    if text[-1:] in ("k", "千"):
        factor, text = 1_000.0, text[:-1]
    elif text[-1:] in ("万", "w"):
        factor, text = 10_000.0, text[:-1]
    # "1,299" is a thousands separator; "12,5" or "1.5" a decimal point.
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", text):
        text = text.replace(",", "")
    else:
        text = text.replace(",", ".")
    if text.count(".") > 1:
        return None
    try:
        value = float(text) * factor
    except ValueError:
        return None
    return value if 0 <= value <= MAX_AMOUNT else None


def _currency(match: re.Match[str], *prefixes: str) -> str | None:
    for prefix in prefixes:
        for part in ("pre", "post"):
            word = match.group(f"{prefix}{part}")
            if word:
                return _CURRENCY_WORDS[word]
    return None


def parse_price(text: str, *, default_currency: str = CATALOG_CURRENCY) -> PriceRange | None:
    """The first price range in lower-case ``text`` (see the module doc for what counts), or None."""
    if default_currency.upper() not in RATES:
        raise ValueError(f"unknown currency {default_currency!r}; known: {sorted(RATES)}")
    found: list[PriceRange] = []
    for match in _RANGE.finditer(text):
        low, high = _number(match.group("anum")), _number(match.group("bnum"))
        currency = _currency(match, "b", "a")
        has_cue = bool(re.search(r"between|from|在|之间|价|price|budget|预算", text))
        if low is None or high is None or (currency is None and not has_cue):
            continue
        # "1-2" or "3 to 4" with a currency only on one side still reads as one currency.
        cur = currency or default_currency.upper()
        low, high = sorted((low, high))
        found.append(
            PriceRange(
                to_catalog(low, cur), to_catalog(high, cur), cur, match.group(0), match.start(), match.end()
            )
        )
        break
    for match in _BEFORE.finditer(text):
        value = _number(match.group("anum"))
        if value is None:
            continue
        cue = match.group("cue")
        after = match.group("after")
        cur = _currency(match, "a") or default_currency.upper()
        # A bare number after "from"/"over" needs a currency or a clear unit to be a price.
        if cue in ("from", "about", "约", "~") and _currency(match, "a") is None:
            continue
        found.append(_ranged(value, cur, after or cue, match))
        break
    for match in _AFTER.finditer(text):
        value = _number(match.group("anum"))
        if value is None:
            continue
        cur = _currency(match, "a") or default_currency.upper()
        if match.group("after") in ("内", "起", "+", "plus", "max", "ish") and _currency(match, "a") is None:
            continue  # "3内", "2+" and "10ish" are counts or sizes more often than prices
        found.append(_ranged(value, cur, match.group("after"), match))
        break
    if not found:
        for match in _BARE.finditer(text):
            cur_or_none = _currency(match, "a")
            value = _number(match.group("anum"))
            if cur_or_none is None or value is None:
                continue
            found.append(
                PriceRange(
                    None,
                    to_catalog(value, cur_or_none),
                    cur_or_none,
                    match.group(0),
                    match.start(),
                    match.end(),
                )
            )
            break
    if not found:
        return None
    # The longest reading wins: "300到500元" is a range, not "500元" on its own.
    return max(found, key=lambda r: (r.end - r.start, -r.start))


def _ranged(value: float, currency: str, cue: str, match: re.Match[str]) -> PriceRange:
    amount = to_catalog(value, currency)
    source, start, end = match.group(0), match.start(), match.end()
    if _MIN_RE.match(cue):
        return PriceRange(amount, None, currency, source, start, end)
    if _MAX_RE.match(cue):
        return PriceRange(None, amount, currency, source, start, end)
    low = round(amount * (1 - AROUND_SPREAD), 2)
    high = round(amount * (1 + AROUND_SPREAD), 2)
    return PriceRange(low, high, currency, source, start, end)
