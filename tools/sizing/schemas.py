"""The shapes the sizing modules pass between them: fit labels, garment groups, feedback
statistics and one fit question.

The fit model speaks in centimetres of the garment's *key girth* (bust/chest for
tops and dresses, waist for bottoms, foot length for shoes): ``offset_cm`` is the
garment size's nominal girth minus the body's, so a positive offset means the
garment is roomier than the body. RentTheRunway gives sizes, not centimetres; the
training code converts its size codes with a slope learned from the same data.
At run time a size chart gives the offset directly. One unit on both sides is what
lets a model trained on one shop's feedback answer for another shop's charts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, get_args

FitLabel = Literal["small", "fit", "large"]
FIT_LABELS: tuple[FitLabel, ...] = ("small", "fit", "large")

#: Garment families that share a key girth and a fit behaviour. Closed, so charts,
#: the model and the catalog mapping agree on the same few names.
GarmentGroup = Literal["dress", "top", "outerwear", "bottom", "one_piece", "shoes", "other"]
GARMENT_GROUPS: tuple[GarmentGroup, ...] = get_args(GarmentGroup)

#: Body types as RentTheRunway's customers report them (the model's training vocabulary).
RtrBodyType = Literal["hourglass", "athletic", "pear", "petite", "full bust", "straight & narrow", "apple"]

#: The profile's body shapes in RentTheRunway's vocabulary (the model's); the rest have no match.
RTR_BODY_TYPE: dict[str, RtrBodyType] = {
    "hourglass": "hourglass",
    "pear": "pear",
    "apple": "apple",
    "rectangle": "straight & narrow",
    "inverted_triangle": "athletic",
}


@dataclass(frozen=True)
class FeedbackStats:
    """Raw counts of fit feedback on a person, a product or one size of a product.

    Counts, not rates: the model owns its smoothing priors, so the same numbers
    mean the same thing in training and at run time.
    """

    n: int = 0
    small: int = 0
    large: int = 0
    #: Sum over the feedback of the garment's offset_cm (how roomy the sizes chosen were).
    offset_sum_cm: float = 0.0

    @classmethod
    def of(cls, records: Iterable[tuple[FitLabel, float]]) -> FeedbackStats:
        n = small = large = 0
        total = 0.0
        for label, offset_cm in records:
            n += 1
            small += label == "small"
            large += label == "large"
            total += offset_cm
        return cls(n=n, small=small, large=large, offset_sum_cm=total)


@dataclass(frozen=True)
class FitQuery:
    """One question for the fit model: how would this person find this size of this product?"""

    #: Garment size's nominal key girth minus the body's, in cm (> 0: roomier than the body).
    offset_cm: float
    group: GarmentGroup
    height_cm: float | None = None
    weight_kg: float | None = None
    #: Bust (women) or chest (men) circumference.
    bust_cm: float | None = None
    age: float | None = None
    body_type: RtrBodyType | None = None
    person: FeedbackStats = FeedbackStats()
    product: FeedbackStats = FeedbackStats()
    product_size: FeedbackStats = FeedbackStats()
