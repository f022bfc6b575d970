"""One call that turns a garment photo (and the person's caption, if any) into wardrobe tags.

The tagger composes the image layer (segmentation, colours, pattern) with the category models of
``tools.wardrobe.classify`` and the stylist's rules of ``graphs.rules`` for seasons and occasions.
A category is only ever one of the models' answers: without an image model it comes from the
caption alone, and with neither it stays ``None`` so the item asks the person instead of guessing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from graphs.rules import CATEGORY_OCCASIONS, COLOURS, wearable_seasons
from graphs.vocabulary import ARTICLE_KIND, ItemKind, Occasion, Season, kind_slot
from tools.wardrobe.classify import (
    CaptionClassifier,
    CategoryModel,
    image_features,
    is_article_label,
    label_kind,
)
from tools.wardrobe.colours import ColourShare, dominant_colours
from tools.wardrobe.pattern import PatternGuess, detect_pattern
from tools.wardrobe.segment import Segmentation, Segmenter

#: Occasions named by ``CATEGORY_OCCASIONS`` at this weight or more are suggested.
MIN_OCCASION_WEIGHT = 0.5

#: Occasions for common article types that ``CATEGORY_OCCASIONS`` leaves to the catalogue's usage
#: label, which a photo does not have; the formality they imply is the usual one for the type.
_TYPE_OCCASIONS: dict[str, tuple[Occasion, ...]] = {
    "Tshirts": (Occasion.EVERYDAY, Occasion.SPORT, Occasion.VACATION),
    "Shirts": (Occasion.WORK, Occasion.EVERYDAY, Occasion.DATE),
    "Tops": (Occasion.EVERYDAY, Occasion.DATE, Occasion.PARTY),
    "Sweatshirts": (Occasion.EVERYDAY, Occasion.SPORT),
    "Sweaters": (Occasion.EVERYDAY, Occasion.WORK),
    "Jackets": (Occasion.EVERYDAY, Occasion.VACATION),
    "Shorts": (Occasion.EVERYDAY, Occasion.VACATION, Occasion.SPORT),
    "Jeans": (Occasion.EVERYDAY, Occasion.DATE),
    "Trousers": (Occasion.WORK, Occasion.EVERYDAY),
    "Skirts": (Occasion.EVERYDAY, Occasion.DATE, Occasion.WORK),
    "Casual Shoes": (Occasion.EVERYDAY, Occasion.DATE, Occasion.VACATION),
    "Sandals": (Occasion.VACATION, Occasion.EVERYDAY),
    "Flats": (Occasion.EVERYDAY, Occasion.WORK, Occasion.DATE),
    "Handbags": (Occasion.EVERYDAY, Occasion.WORK, Occasion.DATE),
    "Caps": (Occasion.SPORT, Occasion.EVERYDAY, Occasion.VACATION),
}
#: When only the kind is known.
_KIND_OCCASIONS: dict[ItemKind, tuple[Occasion, ...]] = {
    ItemKind.TOP: (Occasion.EVERYDAY,),
    ItemKind.KNIT: (Occasion.EVERYDAY,),
    ItemKind.BOTTOM: (Occasion.EVERYDAY,),
    ItemKind.OUTERWEAR: (Occasion.EVERYDAY,),
    ItemKind.SHOES: (Occasion.EVERYDAY,),
    ItemKind.BAG: (Occasion.EVERYDAY,),
    ItemKind.DRESS: (Occasion.DATE, Occasion.PARTY),
    ItemKind.SUIT: (Occasion.WORK, Occasion.FORMAL),
    ItemKind.ETHNIC: (Occasion.WEDDING, Occasion.PARTY),
}
#: Colour families that read as light and warm-weather, and those that read as dark and cold-weather;
#: they only order the wearable seasons, never remove one (a black T-shirt is still worn in July).
_LIGHT_FAMILIES = frozenset({"white", "yellow", "pink", "orange", "beige"})
_DARK_FAMILIES = frozenset({"black", "navy", "brown", "grey"})
_SEASON_ORDER = (Season.SPRING, Season.SUMMER, Season.FALL, Season.WINTER)


@dataclass
class Tags:
    """What the tagger read from one photo; the service stores it as the item's automatic tags."""

    #: A catalogue article type (``graphs.vocabulary.ARTICLE_KIND`` key), or None when unsure.
    category: str | None
    #: ``ItemKind`` value; known even when only the coarse kind could be told.
    kind: str | None
    #: ``Slot`` value the kind fills in an outfit.
    slot: str | None
    category_confidence: float
    colours: list[ColourShare]
    colour: str | None
    pattern: PatternGuess
    seasons: list[str]
    occasions: list[str]
    timings_ms: dict[str, float] = field(default_factory=dict)
    #: The category ranking the decision came from (label, probability), best first.
    candidates: list[tuple[str, float]] = field(default_factory=list)


def _representative(kind: ItemKind) -> str | None:
    """An article type of ``kind`` whose rules stand for the kind when only the kind is known."""
    return next((article for article, k in ARTICLE_KIND.items() if k == kind), None)


def suggest_seasons(category: str | None, kind: ItemKind | None, colour: str | None) -> list[str]:
    """Wearable seasons from the type's rules (shorts: spring/summer; jackets: fall to spring),
    ordered so the colour's season comes first; empty when the kind is unknown."""
    article = category or (_representative(kind) if kind is not None and kind != ItemKind.OTHER else None)
    if article is None:
        return []
    seasons = wearable_seasons(article, None)
    family = COLOURS[colour].family if colour in COLOURS else None
    if family in _LIGHT_FAMILIES:
        order = (Season.SUMMER, Season.SPRING, Season.FALL, Season.WINTER)
    elif family in _DARK_FAMILIES:
        order = (Season.FALL, Season.WINTER, Season.SPRING, Season.SUMMER)
    else:
        order = _SEASON_ORDER
    return [season.value for season in order if season in seasons]


def suggest_occasions(category: str | None, kind: ItemKind | None) -> list[str]:
    """Occasions the type is made for (rules first, then the type's usual formality)."""
    found: list[Occasion] = []
    if category is not None:
        ranked = sorted(CATEGORY_OCCASIONS.get(category, {}).items(), key=lambda ow: -ow[1])
        found.extend(o for o, w in ranked if w >= MIN_OCCASION_WEIGHT)
        found.extend(_TYPE_OCCASIONS.get(category, ()))
    if not found and kind is not None:
        found.extend(_KIND_OCCASIONS.get(kind, ()))
    return [o.value for o in dict.fromkeys(found)]


class Tagger:
    """Segment, read colours and pattern, and decide the category from the image and caption."""

    def __init__(
        self,
        segmenter: Segmenter,
        category_model: CategoryModel | None,
        caption_classifier: CaptionClassifier | None,
    ) -> None:
        self.segmenter = segmenter
        self.category_model = category_model
        self.caption_classifier = caption_classifier

    def categorise(
        self, rgb: Any, segmentation: Segmentation, caption: str | None, timings: dict[str, float]
    ) -> tuple[list[tuple[str, float]], dict[str, float] | None]:
        """The combined ranking and the caption's own reading (used to name a kind's article type)."""
        caption_probs: dict[str, float] | None = None
        if caption and self.caption_classifier is not None:
            started = time.perf_counter()
            caption_probs = self.caption_classifier.scores(caption)
            timings["caption"] = (time.perf_counter() - started) * 1000
        if self.category_model is None:
            ranked = sorted((caption_probs or {}).items(), key=lambda cp: -cp[1])
            return ranked, caption_probs
        started = time.perf_counter()
        image_probs = self.category_model.predict(image_features(rgb, segmentation))
        ranked = self.category_model.combine(image_probs, caption_probs)
        timings["category"] = (time.perf_counter() - started) * 1000
        return ranked, caption_probs

    def tag(self, rgb: Any, caption: str | None = None) -> tuple[Segmentation, Tags]:
        """Raises ``ImageRejected`` (from the segmenter) when no garment can be found."""
        timings: dict[str, float] = {}
        started = time.perf_counter()
        segmentation = self.segmenter.segment(rgb)
        timings["segment"] = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        colours = dominant_colours(rgb, segmentation.mask)
        timings["colours"] = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        pattern = detect_pattern(rgb, segmentation.mask)
        timings["pattern"] = (time.perf_counter() - started) * 1000
        ranked, caption_probs = self.categorise(rgb, segmentation, caption, timings)
        category, kind, confidence = decide(ranked, caption_probs)
        colour = colours[0].name if colours else None
        slot = kind_slot(kind) if kind is not None else None
        tags = Tags(
            category=category,
            kind=kind.value if kind is not None else None,
            slot=slot.value if slot is not None else None,
            category_confidence=confidence,
            colours=colours,
            colour=colour,
            pattern=pattern,
            seasons=suggest_seasons(category, kind, colour),
            occasions=suggest_occasions(category, kind),
            candidates=ranked[:5],
        )
        timings["total"] = sum(timings.values())
        tags.timings_ms = {name: round(ms, 2) for name, ms in timings.items()}
        return segmentation, tags


def decide(
    ranked: list[tuple[str, float]], caption_probs: dict[str, float] | None
) -> tuple[str | None, ItemKind | None, float]:
    """(article type, kind, confidence) from a ranking whose labels may be kinds.

    A kind label ("outerwear") takes its article type from the caption when the caption's best
    reading is of that kind ("my denim jacket"), else stays without one. Only outfit article
    types become a category (the service files items under those).
    """
    if not ranked:
        return None, None, 0.0
    label, confidence = ranked[0]
    kind = label_kind(label)
    category: str | None = label if is_article_label(label) else None
    if category is None and caption_probs:
        best = max(caption_probs.items(), key=lambda cp: cp[1])[0]
        if label_kind(best) == kind:
            category = best
    if category is not None and category not in ARTICLE_KIND:
        category = None
    return category, kind, float(confidence)
