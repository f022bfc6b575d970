"""What the catalog hands out and takes in.

Prices are floats in ``CATALOG_CURRENCY`` (CNY) with two decimals; the database
keeps them as exact decimals. Feed rows are validated one at a time so a bad row
is reported with its line number instead of sinking the whole feed.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rag.documents import CATALOG_CURRENCY, size_key

SizeSystem = Literal["letter", "EU", "waist", "age", "one"]

ONE_SIZE = "One Size"


class Sku(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    size: str
    size_system: str
    price: float
    stock: int
    updated_at: datetime | None = None

    @property
    def in_stock(self) -> bool:
        return self.stock > 0


class Product(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    source: str
    name: str
    brand: str | None = None
    gender: str | None = None
    master_category: str | None = None
    sub_category: str | None = None
    article_type: str | None = None
    colour: str | None = None
    season: str | None = None
    year: int | None = None
    usage: str | None = None
    #: Path of a real photo relative to the catalog folder, or None when there is none.
    image: str | None = None
    generated: bool = False


class ProductDetail(BaseModel):
    product: Product
    skus: list[Sku]
    currency: str = CATALOG_CURRENCY

    @property
    def price(self) -> float | None:
        """The lowest current price over all sizes (what a listing shows), None without SKUs."""
        return min((s.price for s in self.skus), default=None)

    @property
    def sizes_available(self) -> list[str]:
        return [s.size for s in self.skus if s.stock > 0]


class SizeStock(BaseModel):
    size: str
    quantity: int
    price: float
    in_stock: bool


class StockAnswer(BaseModel):
    """Stock of one product, for every size or the one asked about."""

    product_id: str
    name: str
    #: The size asked about, spelled as the catalog spells it (None when every size was asked for).
    size: str | None = None
    sizes: list[SizeStock]
    in_stock: bool
    #: True when the numbers are generated demo data, which the agent must not present as real.
    generated: bool = False
    currency: str = CATALOG_CURRENCY


class PricePoint(BaseModel):
    at: datetime
    price: float
    #: None when the price applied to every size of the product at once.
    size: str | None = None
    source: str


class PriceAlert(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    user_id: str
    product_id: str | None = None
    query: str | None = None
    filters: dict[str, Any] = Field(default_factory=dict)
    threshold: float
    size: str | None = None
    created_at: datetime
    active: bool
    triggered_at: datetime | None = None
    #: The price the person last heard of: when the alert was set, or when it fired.
    last_price: float | None = None
    #: Only on a newly created product alert: the price right now (in the size, if one was named).
    current_price: float | None = None
    #: Only on a newly created product alert: the price is already at or below the threshold, so
    #: the agent should say so now; the alert then fires only on a further drop.
    already_met: bool = False
    currency: str = CATALOG_CURRENCY


class AlertNotification(BaseModel):
    id: str
    alert_id: str
    product_id: str
    product_name: str
    size: str | None = None
    price: float
    threshold: float
    query: str | None = None
    created_at: datetime
    delivered_at: datetime | None = None
    currency: str = CATALOG_CURRENCY


class RejectedRow(BaseModel):
    line: int
    reason: str
    product_id: str | None = None


class ImportReport(BaseModel):
    """What an import did. Counts are feed rows (one per product and size)."""

    source: str
    #: False when nothing was written (``strict`` and some row was bad).
    applied: bool = True
    rows: int = 0
    products: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RejectedRow] = Field(default_factory=list)
    price_changes: int = 0
    stock_changes: int = 0
    alerts_triggered: int = 0
    seconds: float = 0.0


_TEXT = Field(default=None, max_length=64)


class FeedRow(BaseModel):
    """One product in one size, as a source supplies it.

    Product attributes repeat on every size row of a product; the last row of a
    product in a feed wins. Currency must be CNY: converting at import time would
    bake a day's exchange rate into the catalog.
    """

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:\-]+$")
    name: str = Field(min_length=1, max_length=300)
    brand: str | None = Field(default=None, max_length=120)
    gender: str | None = Field(default=None, max_length=32)
    master_category: str | None = _TEXT
    sub_category: str | None = _TEXT
    article_type: str | None = _TEXT
    colour: str | None = _TEXT
    season: str | None = Field(default=None, max_length=32)
    year: int | None = Field(default=None, ge=1900, le=2100)
    usage: str | None = _TEXT
    size: str = Field(default=ONE_SIZE, min_length=1, max_length=32)
    size_system: SizeSystem | None = None
    price: float
    stock: int
    currency: str = CATALOG_CURRENCY
    image: str | None = Field(default=None, max_length=255)
    generated: bool = False
    #: Line (or record) number in the source, for error reports.
    line: int = 0

    @field_validator(
        "brand",
        "gender",
        "master_category",
        "sub_category",
        "article_type",
        "colour",
        "season",
        "usage",
        "image",
        "size_system",
        "year",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("size", mode="before")
    @classmethod
    def _default_size(cls, value: Any) -> Any:
        return ONE_SIZE if value in (None, "") else value

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @field_validator("currency")
    @classmethod
    def _only_cny(cls, value: str) -> str:
        if value.upper() != CATALOG_CURRENCY:
            raise ValueError(f"currency {value!r} is not accepted; prices must be in {CATALOG_CURRENCY}")
        return CATALOG_CURRENCY

    @field_validator("stock")
    @classmethod
    def _stock_not_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError("stock cannot be negative")
        return value

    @model_validator(mode="after")
    def _infer_size_system(self) -> FeedRow:
        if self.size_system is None:
            self.size_system = infer_size_system(self.size)
        return self


_LETTER_ORDER = {"xxs": 0, "xs": 1, "s": 2, "m": 3, "l": 4, "xl": 5, "xxl": 6, "xxxl": 7}


def size_position(label: str) -> int:
    """Sort order of a size label, the same whoever adds it (the generator or a feed): letters by
    size, numbers by value ("EU 38" before "EU 39", "2-3Y" before "4-5Y"), anything else last."""
    key = size_key(label)
    if key in _LETTER_ORDER:
        return _LETTER_ORDER[key]
    digits = re.match(r"\d+", key)
    return int(digits.group()) if digits else 999


@lru_cache(maxsize=4096)
def infer_size_system(size: str) -> SizeSystem:
    """Guess the size system from a label a feed gave without one."""
    label = size.strip().upper()
    if label in {"ONE SIZE", "ONESIZE", "OS", "FREE SIZE"}:
        return "one"
    if label.startswith("EU"):
        return "EU"
    if label.endswith("Y") and label[:1].isdigit():
        return "age"
    if label.isdigit():
        return "waist" if int(label) < 36 else "EU"
    return "letter"


class StockPriceUpdate(BaseModel):
    """One change to one product: a price, a stock level, or both.

    ``size`` None with a price means every size of the product; a stock change needs a size.
    """

    model_config = ConfigDict(extra="forbid")

    product_id: str = Field(min_length=1, max_length=64)
    size: str | None = Field(default=None, max_length=32)
    price: float | None = None
    stock: int | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> StockPriceUpdate:
        if self.price is None and self.stock is None:
            raise ValueError("an update needs a price, a stock level or both")
        if self.stock is not None and self.size is None:
            raise ValueError("a stock update needs a size")
        return self


class UpdateResult(BaseModel):
    """What a batch of price/stock updates changed."""

    updates: int
    price_changes: int
    stock_changes: int
    alerts_triggered: int
    product_ids: list[str]
