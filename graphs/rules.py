"""Fashion rules encoded as data: colour harmony, formality, seasons and body shapes.

These are the stylist's rules of thumb the graph starts from before any person has reacted
to anything; learned signals (Polyvore co-occurrence, the ranker) sit on top of them. Each
rule is a small table so it can be read, argued with and changed in one place, and every
relationship built from here carries ``source="rule"`` so analytics can tell it apart.

* **Colour harmony** works on the colour wheel: neutrals go with everything, then
  analogous hues (within 40 degrees), complementary ones (150-210), and triads (~120)
  in that order of safety. Anything else gets no edge, which is the point: it is a clash.
* **Formality** is a 0-4 scale shared by catalogue usages (Sports 0 ... Formal 4) and
  occasions (sport 0 ... wedding 4); a style suits an occasion within two steps, better
  when closer, and a few pairs are made for each other (ethnic wear at weddings).
* **Seasons**: the catalogue's season says when a piece was sold; wearability is wider,
  so basics are all-season while knits, coats, shorts and sandals are tied to the weather.
* **Body shapes** follow common styling guidance (draw the eye to balance the silhouette);
  they are weak priors, weighted below 1, and never filter anything out.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphs.vocabulary import ItemKind, Occasion, Season, article_kind

RULE = "rule"


@dataclass(frozen=True)
class ColourInfo:
    family: str
    #: Hue on the colour wheel in degrees; ``None`` for neutrals and mixes.
    hue: float | None
    neutral: bool


def _neutral(family: str) -> ColourInfo:
    return ColourInfo(family, None, True)


def _hue(family: str, hue: float) -> ColourInfo:
    return ColourInfo(family, hue, False)


#: Every ``baseColour`` of the catalogue. Metallics count as neutral: they are jewellery and hardware.
COLOURS: dict[str, ColourInfo] = {
    "Black": _neutral("black"),
    "White": _neutral("white"),
    "Off White": _neutral("white"),
    "Cream": _neutral("white"),
    "Grey": _neutral("grey"),
    "Grey Melange": _neutral("grey"),
    "Charcoal": _neutral("grey"),
    "Navy Blue": _neutral("navy"),
    "Beige": _neutral("beige"),
    "Khaki": _neutral("beige"),
    "Nude": _neutral("beige"),
    "Skin": _neutral("beige"),
    "Taupe": _neutral("beige"),
    "Tan": _neutral("brown"),
    "Brown": _neutral("brown"),
    "Coffee Brown": _neutral("brown"),
    "Mushroom Brown": _neutral("brown"),
    "Silver": _neutral("metallic"),
    "Steel": _neutral("metallic"),
    "Metallic": _neutral("metallic"),
    "Gold": _neutral("metallic"),
    "Bronze": _neutral("metallic"),
    "Copper": _neutral("metallic"),
    "Multi": ColourInfo("multi", None, False),
    "Red": _hue("red", 0),
    "Maroon": _hue("red", 350),
    "Burgundy": _hue("red", 345),
    "Rose": _hue("pink", 340),
    "Pink": _hue("pink", 330),
    "Magenta": _hue("purple", 315),
    "Mauve": _hue("purple", 300),
    "Purple": _hue("purple", 280),
    "Lavender": _hue("purple", 270),
    "Blue": _hue("blue", 215),
    "Turquoise Blue": _hue("blue", 180),
    "Teal": _hue("green", 175),
    "Sea Green": _hue("green", 150),
    "Green": _hue("green", 120),
    "Fluorescent Green": _hue("green", 110),
    "Lime Green": _hue("green", 90),
    "Olive": _hue("green", 75),
    "Mustard": _hue("yellow", 48),
    "Yellow": _hue("yellow", 55),
    "Orange": _hue("orange", 30),
    "Peach": _hue("orange", 25),
    "Rust": _hue("orange", 18),
}

#: Neutral pairs that stylists still avoid, with a lower weight instead of the usual 0.9.
_NEUTRAL_EXCEPTIONS: dict[frozenset[str], float] = {
    frozenset({"Black", "Navy Blue"}): 0.5,
    frozenset({"Black", "Brown"}): 0.6,
    frozenset({"Black", "Coffee Brown"}): 0.6,
}


def colour_harmony(a: str, b: str) -> tuple[float, str] | None:
    """How well two catalogue colours go together (weight in (0, 1], rule name); ``None`` is a clash."""
    first, second = COLOURS.get(a), COLOURS.get(b)
    if first is None or second is None:
        return None
    if first.neutral and second.neutral:
        return _NEUTRAL_EXCEPTIONS.get(frozenset({a, b}), 0.9), "neutral"
    if first.neutral or second.neutral:
        return 0.8, "neutral"
    if first.hue is None or second.hue is None:  # a print with a print is busy
        return None
    if a == b or first.family == second.family:
        return 0.6, "monochrome"
    gap = abs(first.hue - second.hue) % 360
    gap = min(gap, 360 - gap)
    if gap <= 40:
        return 0.7, "analogous"
    if 150 <= gap <= 210:
        return 0.6, "complementary"
    if 105 <= gap <= 135:
        return 0.4, "triadic"
    return None


#: Catalogue ``usage`` on the 0-4 formality scale (missing or "NA" reads as casual).
STYLE_FORMALITY: dict[str, int] = {
    "Sports": 0,
    "Home": 0,
    "Casual": 1,
    "Travel": 1,
    "Smart Casual": 2,
    "Party": 3,
    "Ethnic": 3,
    "Formal": 4,
}

OCCASION_FORMALITY: dict[Occasion, int] = {
    Occasion.SPORT: 0,
    Occasion.EVERYDAY: 1,
    Occasion.VACATION: 1,
    Occasion.OTHER: 1,
    Occasion.DATE: 2,
    Occasion.WORK: 3,
    Occasion.PARTY: 3,
    Occasion.FORMAL: 4,
    Occasion.WEDDING: 4,
}

#: Style/occasion pairs that are made for each other, whatever the formality gap says.
_STYLE_AFFINITY: dict[tuple[str, Occasion], float] = {
    ("Ethnic", Occasion.WEDDING): 1.0,
    ("Ethnic", Occasion.PARTY): 0.8,
    ("Party", Occasion.PARTY): 1.0,
    ("Party", Occasion.DATE): 0.9,
    ("Sports", Occasion.SPORT): 1.0,
    ("Travel", Occasion.VACATION): 1.0,
}
#: Styles kept away from occasions the scale alone would allow.
_STYLE_AVERSION: set[tuple[str, Occasion]] = {
    ("Sports", Occasion.DATE),
    ("Home", Occasion.DATE),
    ("Home", Occasion.VACATION),
}


def style_formality(usage: str | None) -> int:
    return STYLE_FORMALITY.get(usage or "", 1)


def style_suits(usage: str, occasion: Occasion) -> float:
    """0 (unsuitable) to 1 (made for it)."""
    if (usage, occasion) in _STYLE_AVERSION:
        return 0.0
    if (usage, occasion) in _STYLE_AFFINITY:
        return _STYLE_AFFINITY[(usage, occasion)]
    gap = abs(style_formality(usage) - OCCASION_FORMALITY[occasion])
    return {0: 1.0, 1: 0.6, 2: 0.25}.get(gap, 0.0)


#: Article types tied to occasions by what they are, beyond their usage label.
CATEGORY_OCCASIONS: dict[str, dict[Occasion, float]] = {
    "Heels": {
        Occasion.PARTY: 1.0,
        Occasion.WEDDING: 0.9,
        Occasion.FORMAL: 0.9,
        Occasion.DATE: 0.9,
        Occasion.WORK: 0.5,
    },
    "Formal Shoes": {Occasion.WORK: 1.0, Occasion.FORMAL: 1.0, Occasion.WEDDING: 0.9},
    "Sports Shoes": {Occasion.SPORT: 1.0, Occasion.EVERYDAY: 0.5},
    "Sports Sandals": {Occasion.SPORT: 0.6, Occasion.VACATION: 0.8},
    "Flip Flops": {Occasion.VACATION: 1.0, Occasion.EVERYDAY: 0.5},
    "Clutches": {Occasion.PARTY: 1.0, Occasion.WEDDING: 1.0, Occasion.FORMAL: 0.9, Occasion.DATE: 0.7},
    "Backpacks": {Occasion.EVERYDAY: 0.8, Occasion.VACATION: 0.8, Occasion.SPORT: 0.6},
    "Duffel Bag": {Occasion.VACATION: 0.9, Occasion.SPORT: 0.8},
    "Laptop Bag": {Occasion.WORK: 1.0},
    "Blazers": {Occasion.WORK: 1.0, Occasion.FORMAL: 0.9, Occasion.WEDDING: 0.7},
    "Ties": {Occasion.WORK: 0.9, Occasion.FORMAL: 1.0, Occasion.WEDDING: 1.0},
    "Cufflinks": {Occasion.FORMAL: 1.0, Occasion.WEDDING: 1.0},
    "Dresses": {Occasion.DATE: 0.9, Occasion.PARTY: 0.9, Occasion.WEDDING: 0.7},
    "Track Pants": {Occasion.SPORT: 1.0},
    "Sarees": {Occasion.WEDDING: 1.0, Occasion.FORMAL: 0.7},
    "Lehenga Choli": {Occasion.WEDDING: 1.0},
    "Kurta Sets": {Occasion.WEDDING: 0.9, Occasion.PARTY: 0.6},
    "Sunglasses": {Occasion.VACATION: 1.0},
}

ALL_SEASONS = frozenset(Season)
_WARM = frozenset({Season.SPRING, Season.SUMMER})
_COLD = frozenset({Season.FALL, Season.WINTER})
#: Article types whose wearability is set by the weather, not by the collection.
_ARTICLE_SEASONS: dict[str, frozenset[Season]] = {
    **dict.fromkeys(["Shorts", "Flip Flops", "Sandals", "Sports Sandals", "Sunglasses", "Capris"], _WARM),
    **dict.fromkeys(["Sweaters", "Sweatshirts", "Mufflers", "Gloves"], _COLD),
    **dict.fromkeys(
        ["Jackets", "Blazers", "Nehru Jackets", "Waistcoat", "Rain Jacket"], _COLD | {Season.SPRING}
    ),
}
_KIND_SEASONS: dict[ItemKind, frozenset[Season]] = {
    ItemKind.TOP: ALL_SEASONS,
    ItemKind.BOTTOM: ALL_SEASONS,
    ItemKind.SHOES: ALL_SEASONS,
    ItemKind.BAG: ALL_SEASONS,
    ItemKind.ACCESSORY: ALL_SEASONS,
    ItemKind.KNIT: _COLD,
    ItemKind.OUTERWEAR: _COLD | {Season.SPRING},
}
_NEXT = {
    Season.SPRING: (Season.WINTER, Season.SUMMER),
    Season.SUMMER: (Season.SPRING, Season.FALL),
    Season.FALL: (Season.SUMMER, Season.WINTER),
    Season.WINTER: (Season.FALL, Season.SPRING),
}


def catalogue_season(value: str | None) -> Season | None:
    try:
        return Season((value or "").strip().casefold())
    except ValueError:
        return None


def wearable_seasons(article_type: str | None, season: str | None) -> frozenset[Season]:
    """When a piece can be worn: weather-bound types by type, basics always, the rest near their season."""
    if article_type in _ARTICLE_SEASONS:
        return _ARTICLE_SEASONS[article_type]
    kind = article_kind(article_type)
    if kind in _KIND_SEASONS:
        return _KIND_SEASONS[kind]
    sold = catalogue_season(season)
    if sold is None:
        return ALL_SEASONS
    return frozenset({sold, *_NEXT[sold]})


#: Profile body shapes (``tools.profile.schemas.BodyShape``) and the article types that flatter them.
BODY_SHAPE_CATEGORIES: dict[str, dict[str, float]] = {
    "hourglass": {"Dresses": 0.9, "Skirts": 0.8, "Jeans": 0.7, "Tops": 0.7, "Blazers": 0.7},
    "pear": {"Skirts": 0.8, "Dresses": 0.8, "Tops": 0.7, "Jackets": 0.7, "Trousers": 0.6},
    "apple": {"Tunics": 0.9, "Kurtis": 0.8, "Kurtas": 0.8, "Dresses": 0.6, "Shirts": 0.6, "Jackets": 0.6},
    "rectangle": {"Dresses": 0.7, "Skirts": 0.7, "Jackets": 0.8, "Blazers": 0.8, "Tops": 0.6},
    "inverted_triangle": {"Skirts": 0.8, "Trousers": 0.8, "Jeans": 0.7, "Shirts": 0.6, "Dresses": 0.6},
}
