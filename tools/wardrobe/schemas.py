"""What the wardrobe tools, the API and the agent exchange: items, edits, wear entries, insights."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from graphs.rules import COLOURS
from graphs.vocabulary import ARTICLE_KIND, Occasion, Season

Pattern = Literal["solid", "striped", "checked", "dotted", "floral", "printed"]
ItemSource = Literal["photo", "manual", "purchase"]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]

#: Catalogue article types a wardrobe item may be filed under (those outfits know how to use).
CATEGORIES: tuple[str, ...] = tuple(sorted(ARTICLE_KIND))
#: The catalogue's colour names.
COLOUR_NAMES: tuple[str, ...] = tuple(COLOURS)


def _category(value: str) -> str:
    if value not in ARTICLE_KIND:
        raise ValueError(f"unknown category {value!r}; use a catalogue article type such as 'Tshirts'")
    return value


def _colour(value: str) -> str:
    if value not in COLOURS:
        raise ValueError(f"unknown colour {value!r}; use a catalogue colour such as 'Navy Blue'")
    return value


Category = Annotated[str, AfterValidator(_category)]
ColourName = Annotated[str, AfterValidator(_colour)]


class ColourTag(BaseModel):
    name: str
    name_zh: str
    share: float


class WardrobeItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    caption: str | None
    category: str | None
    #: The outfit slot the category fills (top, bottom, shoes...), derived from it.
    kind: str | None
    colour: str | None
    colours: list[ColourTag]
    pattern: Pattern | None
    seasons: list[Season]
    occasions: list[Occasion]
    tags: list[str]
    source: ItemSource
    has_photo: bool
    price: float | None
    currency: str | None
    created_at: datetime
    updated_at: datetime
    #: What the tagger guessed, with confidences, kept when the person edits the tags.
    auto_tags: dict[str, object] = Field(default_factory=dict)


class ItemCreate(BaseModel):
    """An item typed in without a photo ("my navy blazer"), or the person's additions to a photo."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    category: Category | None = None
    colour: ColourName | None = None
    pattern: Pattern | None = None
    seasons: list[Season] = Field(default_factory=list, max_length=4)
    occasions: list[Occasion] = Field(default_factory=list, max_length=9)
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    price: float | None = Field(default=None, ge=0, le=1_000_000)
    currency: Currency | None = None


class ItemUpdate(BaseModel):
    """Tag edits: only the fields sent change; ``null`` clears a field where that makes sense."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=120)
    category: Category | None = None
    colour: ColourName | None = None
    pattern: Pattern | None = None
    seasons: list[Season] | None = Field(default=None, max_length=4)
    occasions: list[Occasion] | None = Field(default=None, max_length=9)
    tags: list[Tag] | None = Field(default=None, max_length=20)
    price: float | None = Field(default=None, ge=0, le=1_000_000)
    currency: Currency | None = None


class WardrobeFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str | None = None
    category: str | None = None
    colour: str | None = None
    season: Season | None = None
    occasion: Occasion | None = None
    tag: str | None = None
    #: Items not worn since this many months ago (never-worn items included).
    idle_months: int | None = Field(default=None, ge=1, le=120)
    limit: int = Field(default=100, ge=1, le=500)


class AddedItem(BaseModel):
    item: WardrobeItemRead
    #: Per-step timings of tagging, in milliseconds.
    timings_ms: dict[str, float]
    segmentation: str
    worn_by_person: bool


class WearEntry(BaseModel):
    item_id: str
    worn_on: date
    outfit_id: str | None
    occasion: Occasion | None
    #: False when the item was already logged for that day (logging again changes nothing).
    created: bool


class CalendarDay(BaseModel):
    day: date
    #: Outfits worn that day: item ids grouped by outfit.
    outfits: list[list[str]]


class ItemUsage(BaseModel):
    item_id: str
    name: str
    category: str | None
    wears: int
    last_worn: date | None
    #: Price divided by wears (the price itself before the first wear); None without a price.
    cost_per_wear: float | None
    currency: str | None


class WardrobeInsights(BaseModel):
    items: int
    worn_items: int
    never_worn: list[ItemUsage]
    #: Worn before, but not in the last ``idle_months`` months.
    idle: list[ItemUsage]
    idle_months: int
    most_worn: list[ItemUsage]
    #: Outfit slots with nothing in them (e.g. no shoes at all).
    empty_slots: list[str]
