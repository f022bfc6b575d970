"""Recommendation's request and result types, and the shared vocabulary (defined in ``graphs.vocabulary``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from graphs.vocabulary import (
    ARTICLE_KIND,
    KIND_SLOT,
    ItemKind,
    Occasion,
    Season,
    Slot,
    article_kind,
    kind_slot,
)
from tools.profile.schemas import Currency, Department

__all__ = ["ARTICLE_KIND", "KIND_SLOT", "ItemKind", "Occasion", "Season", "Slot", "article_kind", "kind_slot"]

ColourWord = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
ProductId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
WeatherWord = Literal["hot", "cold", "rainy", "windy", "snowy"]


class OutfitRequest(BaseModel):
    """What the person asked for; everything is optional and the profile fills what is missing."""

    model_config = ConfigDict(extra="forbid")

    occasion: Occasion | None = None
    season: Season | None = None
    weather: list[WeatherWord] = Field(default_factory=list, max_length=5)
    #: Expected temperature in °C; below 15 °C an outer layer is part of every outfit.
    temperature_c: float | None = Field(default=None, ge=-40, le=50)
    #: The most the whole outfit may cost, in ``currency``.
    budget_max: float | None = Field(default=None, gt=0, le=1_000_000)
    currency: Currency | None = None
    #: Colours wanted; with ``only_colours`` every piece must be one of them (neutrals otherwise fill in).
    colours: list[ColourWord] = Field(default_factory=list, max_length=8)
    only_colours: bool = False
    avoid_colours: list[ColourWord] = Field(default_factory=list, max_length=12)
    department: Department | None = None
    count: int = Field(default=3, ge=1, le=6)
    exclude_product_ids: list[ProductId] = Field(default_factory=list, max_length=200)

    @model_validator(mode="after")
    def _lowercase(self) -> OutfitRequest:
        self.colours = list(dict.fromkeys(c.casefold() for c in self.colours))
        self.avoid_colours = list(dict.fromkeys(c.casefold() for c in self.avoid_colours))
        return self


class OutfitItem(BaseModel):
    product_id: str
    name: str
    slot: Slot
    article_type: str
    colour: str | None
    price: float
    image_url: str | None
    #: The person's size when it was checked (in stock); ``None`` when no measurements allowed a check.
    size: str | None
    generated: bool
    #: The person's own piece (from their wardrobe): nothing to buy, no size to check.
    owned: bool = False


class Reason(BaseModel):
    code: str
    en: str
    zh: str


class Gap(BaseModel):
    """A slot the person's wardrobe could not fill, with catalogue pieces that would."""

    slot: Slot
    en: str
    zh: str
    options: list[OutfitItem]


class Outfit(BaseModel):
    items: list[OutfitItem]
    #: What the pieces to buy cost (owned pieces count as nothing).
    total_price: float
    currency: str
    score: float
    reasons: list[Reason]
    gaps: list[Gap] = Field(default_factory=list)


class OwnedPiece(BaseModel):
    """A wardrobe item as outfit composition sees it (the wardrobe service builds these)."""

    id: str
    name: str
    article_type: str
    colour: str | None = None
    seasons: list[Season] = Field(default_factory=list)
    occasions: list[Occasion] = Field(default_factory=list)
    #: Days since it was last worn; None when it never was (it is then suggested first).
    days_since_worn: int | None = None


class OutfitResult(BaseModel):
    outfits: list[Outfit]
    #: The request as it was applied: profile defaults filled in, contradictions resolved.
    applied: dict[str, object]
    #: Constraints dropped or changed to get an answer, each explained.
    relaxed: list[Reason] = Field(default_factory=list)
    #: Why fewer outfits than asked for came back (the slice that ran dry), if so.
    shortfall: Reason | None = None
    #: Where anchor candidates came from and how many: graph, vector, popular, rules.
    sources: dict[str, int] = Field(default_factory=dict)
    #: Stores that were down while this list was made ("graph"): it is correct but less personal,
    #: and it is not cached, so the full answer returns with the store.
    degraded: list[str] = Field(default_factory=list)
    ranker: str | None = None
    sizes_checked: bool = False
    cached: bool = False
    served_id: str = ""


class SimilarItem(BaseModel):
    product_id: str
    name: str
    article_type: str
    colour: str | None
    price: float
    image_url: str | None
    score: float
    generated: bool


class SimilarResult(BaseModel):
    product_id: str
    items: list[SimilarItem]
    method: Literal["vector", "graph"]
