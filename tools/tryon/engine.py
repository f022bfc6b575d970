"""The try-on engine contract, shared by the embedded CPU engine and the model servers.

One request shape serves both families of published try-on models:

* **mask-based** (CatVTON, IDM-VTON, Leffa, the CPU geometric engine): the engine paints the
  garment into the *agnostic* region, the part of the person photo the old garment and the
  arms may occupy. ``TryOnRequest.agnostic`` carries it when the caller has computed it
  (``tools.tryon.person.agnostic_mask``); an engine computes its own when it is ``None``.
* **maskless** (FASHN VTON 1.5): the engine takes the person photo and the garment photo
  only, and ignores ``agnostic``.

Engines get pixels, never files, URLs or ids: fetching and validation happen before a job
exists, so an engine sees only inputs that passed ``tools.tryon.person.check_person``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from tools.base import Refusal

RGB = NDArray[np.uint8]
Mask = NDArray[np.bool_]

#: What part of the body a garment dresses; decides the agnostic region and the warp.
GarmentKind = Literal["upper", "lower", "dress"]
GARMENT_KINDS: tuple[GarmentKind, ...] = ("upper", "lower", "dress")

#: Catalogue article types an engine can dress a person in, by the body part they cover.
#: Everything else (shoes, bags, jewellery, innerwear, sarees, ...) is refused before a job
#: exists: a 2-D warp of a shoe onto a torso is not a try-on.
ARTICLE_KINDS: dict[str, GarmentKind] = {
    **dict.fromkeys(
        (
            "Tshirts",
            "Shirts",
            "Tops",
            "Sweaters",
            "Sweatshirts",
            "Jackets",
            "Blazers",
            "Kurtas",
            "Kurtis",
            "Tunics",
            "Waistcoat",
            "Shrug",
            "Nehru Jackets",
            "Rain Jacket",
            "Camisoles",
        ),
        "upper",
    ),
    **dict.fromkeys(
        ("Jeans", "Trousers", "Shorts", "Track Pants", "Leggings", "Capris", "Skirts", "Jeggings", "Tights"),
        "lower",
    ),
    **dict.fromkeys(("Dresses", "Jumpsuit", "Nightdress"), "dress"),
}


def garment_kind(article_type: str | None) -> GarmentKind | None:
    """The body part a catalogue article type dresses, or ``None`` when it cannot be tried on."""
    if not article_type:
        return None
    return ARTICLE_KINDS.get(article_type.strip())


class TryOnRejected(Refusal):
    """A person photo or garment the try-on cannot use."""

    CODES = frozenset(
        {
            "no_person",
            "several_people",
            "face_only",
            "body_not_visible",
            "wrong_garment_type",
            "garment_has_no_image",
            "no_garment",
        }
    )


@dataclass(frozen=True)
class TryOnRequest:
    person: RGB
    garment: RGB
    kind: GarmentKind
    #: The garment's own silhouette when known (a wardrobe cut-out, a dataset's cloth mask).
    garment_mask: Mask | None = None
    #: Where a mask-based engine may paint, person-photo sized; ``None``: the engine decides.
    agnostic: Mask | None = None
    seed: int = 0


@dataclass(frozen=True)
class TryOnResult:
    #: The person photo with the garment on, the same size as ``TryOnRequest.person``.
    image: RGB
    engine: str
    #: Pixels the new garment covers in ``image`` (for evaluation and post-processing).
    garment_region: Mask | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)


@runtime_checkable
class TryOnEngine(Protocol):
    #: Stable name recorded with every job's result ("geometric-cpu", "catvton", ...).
    name: str

    def run(self, request: TryOnRequest) -> TryOnResult:
        """Dress the person; raises ``TryOnRejected`` for inputs it cannot handle."""
        ...
