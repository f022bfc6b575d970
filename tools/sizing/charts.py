"""Size charts: which body each size label is made for, in centimetres.

A chart row says which range of *body* measurements a size is cut for (the EN 13402
"body dimensions" approach), not the garment's own measurements: the garment's ease
is the fit model's business, and body ranges are what shops publish and people can
measure. ``midpoint(label, key)`` is therefore the size's nominal key girth, and
``midpoint - body`` is the ``offset_cm`` the fit model reads.

The house defaults below cover every (department, garment group, size system) the
catalog generator produces, so advice works before any brand chart is entered.
Their basis:

* Adult letters: EN 13402-3's letter-code intervals of the primary girth (bust for
  women, chest for men; 8 cm steps, 11-12 cm from XXL), which are also what the
  common European conversion tables imply (women S = EU 36/38, M = 40/42; men M =
  EU 48/50). Waist and hips are the secondary dimensions of the German DOB women's
  and common retailer men's tables, rounded; heights are the "regular" height band
  (women are not graded by height, men's letters drift up a little).
* Unisex letters: the men's table, which is how unisex apparel is cut.
* Waist-labelled bottoms: the label is the body waist in inches, each row half an
  inch either side (32 -> 80.0-82.6 cm); hips follow the usual waist-to-hip pairing.
* EU shoes: the foot each Paris-point size is made for, from the same last-length
  definition as ``tools.profile.units`` (EU = 1.5 x last cm, last = foot + 1.5 cm).
* Children's ages: EN 13402-3 children's sizes are designated by height; the age
  labels cover two of its 6 cm height steps each (2-3Y = 92/98), with typical chest,
  waist and hips. Height is the key of these charts: it is what children's clothes
  are graded by and what parents know (there are no cold-start girth priors for
  children).

Garment groups: sweaters and sweatshirts are ``top`` (pulled over the head, knitted,
graded like tops); ``outerwear`` is what goes over other layers with a shell or
structure (jackets, coats, blazers, waistcoats, suits). Bras, socks, belts, gloves
and the like are ``other``: their fit hangs on dimensions these charts do not hold
(underbust and cup, hand), so no default chart is offered for them.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import pairwise
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rag.documents import size_key
from tools.catalog.schemas import SizeSystem
from tools.profile.schemas import Department
from tools.profile.units import CM_PER_INCH, foot_length_cm
from tools.sizing.schemas import GarmentGroup

Dimension = Literal["chest", "waist", "hips", "height", "foot_length", "inseam"]
DIMENSIONS: tuple[Dimension, ...] = ("chest", "waist", "hips", "height", "foot_length", "inseam")

Range = tuple[float, float]

#: The girth the fit model reads for each garment group (children's age charts use height instead).
KEY_DIMENSION: dict[GarmentGroup, Dimension] = {
    "dress": "chest",
    "top": "chest",
    "outerwear": "chest",
    "one_piece": "chest",
    "bottom": "waist",
    "shoes": "foot_length",
}

KIDS: frozenset[Department] = frozenset({Department.girls, Department.boys})
ADULTS: frozenset[Department] = frozenset({Department.women, Department.men, Department.unisex})
APPAREL_GROUPS: tuple[GarmentGroup, ...] = ("dress", "top", "outerwear", "one_piece", "bottom")


class SizeRow(BaseModel):
    """One size: the range of body measurements, in cm, it is made for."""

    model_config = ConfigDict(frozen=True)

    label: str = Field(min_length=1, max_length=32)
    body: dict[Dimension, tuple[float, float]]
    #: Other spellings of the same size ("2XL" for "XXL", "41" for "EU 41").
    aliases: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _ranges(self) -> SizeRow:
        if not self.body:
            raise ValueError(f"size {self.label!r} has no body measurements")
        for dim, (low, high) in self.body.items():
            if not 0 < low < high <= 300:
                raise ValueError(
                    f"size {self.label!r}: {dim} range {low:g}-{high:g} cm must be 0 < low < high <= 300"
                )
        return self

    def midpoint(self, dim: Dimension) -> float | None:
        span = self.body.get(dim)
        return None if span is None else (span[0] + span[1]) / 2


class SizeChart(BaseModel):
    """A brand's (or the house's) body-measurement chart for one department, garment group and size system."""

    model_config = ConfigDict(frozen=True)

    #: None: the house default for everyone without a chart of their own.
    brand: str | None = Field(default=None, max_length=120)
    department: Department
    group: GarmentGroup
    system: SizeSystem
    #: The dimension the fit model's offset is read in (see ``KEY_DIMENSION``).
    key: Dimension
    #: Small to large.
    sizes: list[SizeRow] = Field(min_length=1, max_length=80)
    #: Where the numbers come from, said with the advice.
    source: str = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _consistent(self) -> SizeChart:
        if self.system == "one":
            raise ValueError("a one-size product needs no size chart")
        seen: dict[str, str] = {}
        for row in self.sizes:
            for spelling in (row.label, *row.aliases):
                key = size_key(spelling)
                if key in seen and seen[key] != row.label:
                    raise ValueError(f"size {spelling!r} of {row.label!r} is the same as size {seen[key]!r}")
                if key in seen and spelling == row.label:
                    raise ValueError(f"size {row.label!r} is listed twice")
                seen[key] = row.label
            if self.key not in row.body:
                raise ValueError(f"size {row.label!r} has no {self.key}, the chart's key dimension")
        for dim in DIMENSIONS:
            mids = [(row.label, m) for row in self.sizes if (m := row.midpoint(dim)) is not None]
            strict = dim == self.key
            for (small, a), (large, b) in pairwise(mids):
                if b < a or (strict and b == a):
                    raise ValueError(
                        f"sizes must run small to large: {large!r} has a "
                        f"{'smaller' if b < a else 'the same'} {dim} ({b:g} cm) than {small!r} ({a:g} cm)"
                    )
        return self

    @property
    def labels(self) -> list[str]:
        return [row.label for row in self.sizes]

    def row(self, label: str) -> SizeRow | None:
        """The row for a label however it is spelled ("eu41" is "EU 41", "m" is "M", "2XL" is "XXL").

        Returns the chart's own row object, so callers may compare rows by identity.
        """
        key = size_key(label)
        for row in self.sizes:
            if size_key(row.label) == key or any(size_key(a) == key for a in row.aliases):
                return row
        return None

    def midpoint(self, label: str, dim: Dimension) -> float | None:
        """The body measurement a size is centred on: its nominal ``dim`` (None if unknown)."""
        row = self.row(label)
        return None if row is None else row.midpoint(dim)

    def position(self, value_cm: float, dim: Dimension) -> float:
        """Where a body measurement falls on the size scale, as a fractional index.

        0 is the first size's midpoint, 1 the second's; values between midpoints are
        interpolated and values beyond the ends extrapolated with the end step, so the
        service can say "between M and L" or "smaller than XS". Sizes without ``dim``
        are skipped. Raises ValueError when ``dim`` does not order the sizes (absent,
        or the same for every size, like women's heights).
        """
        points = [(i, m) for i, row in enumerate(self.sizes) if (m := row.midpoint(dim)) is not None]
        if not points:
            raise ValueError(f"the chart has no {dim} for any size")
        if len(points) == 1:
            index, mid = points[0]
            low, high = self.sizes[index].body[dim]
            return index + (value_cm - mid) / (high - low)
        if any(b[1] <= a[1] for a, b in pairwise(points)):
            raise ValueError(f"{dim} does not tell this chart's sizes apart")
        if value_cm <= points[0][1]:
            (i0, m0), (i1, m1) = points[0], points[1]
        elif value_cm >= points[-1][1]:
            (i0, m0), (i1, m1) = points[-2], points[-1]
        else:
            k = next(k for k in range(1, len(points)) if value_cm <= points[k][1])
            (i0, m0), (i1, m1) = points[k - 1], points[k]
        return i0 + (value_cm - m0) / (m1 - m0) * (i1 - i0)

    def label_at(self, position: float) -> str:
        """The nearest size to a fractional index from ``position`` (clamped to the chart's ends)."""
        index = min(max(round(position), 0), len(self.sizes) - 1)
        return self.sizes[index].label


# --- catalogue categories -> garment group, department ----------------------------------------------

#: Article types whose group differs from what their sub-category says (or whose sub-category is
#: a catch-all: innerwear, loungewear, apparel sets).
_ARTICLE_GROUPS: dict[str, GarmentGroup] = {
    # outerwear: layered over other clothes, with a shell or structure
    "Jackets": "outerwear",
    "Blazers": "outerwear",
    "Coats": "outerwear",
    "Rain Jacket": "outerwear",
    "Waistcoat": "outerwear",
    "Nehru Jackets": "outerwear",
    "Suits": "outerwear",
    "Bath Robe": "outerwear",
    "Robe": "outerwear",
    # graded and worn like tops
    "Sweaters": "top",
    "Sweatshirts": "top",
    "Shrug": "top",
    "Kurta Sets": "top",
    "Clothing Set": "top",
    "Night suits": "top",
    "Lounge Tshirts": "top",
    "Innerwear Vests": "top",
    "Camisoles": "top",
    "Tracksuits": "top",
    # one piece from shoulder to leg
    "Jumpsuit": "one_piece",
    "Rompers": "one_piece",
    "Swimwear": "one_piece",
    # dress-like, bust-led
    "Dresses": "dress",
    "Nightdress": "dress",
    "Baby Dolls": "dress",
    "Lehenga Choli": "dress",
    # waist-led
    "Briefs": "bottom",
    "Boxers": "bottom",
    "Trunk": "bottom",
    "Lounge Pants": "bottom",
    "Lounge Shorts": "bottom",
    "Shorts": "bottom",
    # fit depends on dimensions no chart here holds (underbust and cup, hand, foot in a sock)
    "Bra": "other",
    "Shapewear": "other",
    "Belts": "other",
    "Suspenders": "other",
    "Dupatta": "other",
    "Stoles": "other",
    "Gloves": "other",
    "Socks": "other",
    "Booties": "other",
}
_SUB_CATEGORY_GROUPS: dict[str, GarmentGroup] = {
    "Topwear": "top",
    "Bottomwear": "bottom",
    "Dress": "dress",
}


def garment_group(
    master_category: str | None, sub_category: str | None, article_type: str | None
) -> GarmentGroup:
    """The garment family of a catalogue product, which picks its chart and its fit behaviour."""
    if master_category == "Footwear":
        return "shoes"
    if master_category not in (None, "Apparel"):
        return "other"
    if article_type in _ARTICLE_GROUPS:
        group = _ARTICLE_GROUPS[article_type]
        # Swimwear sold as bottomwear is swim shorts or briefs.
        return "bottom" if group == "one_piece" and sub_category == "Bottomwear" else group
    return _SUB_CATEGORY_GROUPS.get(sub_category or "", "other")


_DEPARTMENTS: dict[str, Department] = {
    "women": Department.women,
    "woman": Department.women,
    "women's": Department.women,
    "men": Department.men,
    "man": Department.men,
    "men's": Department.men,
    "unisex": Department.unisex,
    "girls": Department.girls,
    "girl": Department.girls,
    "boys": Department.boys,
    "boy": Department.boys,
}


def department_of(catalog_gender: str | None) -> Department | None:
    """The department of the catalogue's gender column; None where it names none ("Kids" says no sex)."""
    if catalog_gender is None:
        return None
    return _DEPARTMENTS.get(catalog_gender.strip().lower())


# --- house default tables ---------------------------------------------------------------------------

# label: (chest/bust, waist, hips, height), body ranges in cm, small to large.
_WOMEN_LETTERS: dict[str, tuple[Range, Range, Range, Range]] = {
    "XXS": ((66, 74), (54, 60), (76, 84), (160, 172)),
    "XS": ((74, 82), (60, 66), (84, 91), (160, 172)),
    "S": ((82, 90), (66, 74), (91, 99), (160, 172)),
    "M": ((90, 98), (74, 82), (99, 105), (160, 172)),
    "L": ((98, 106), (82, 90), (105, 113), (160, 172)),
    "XL": ((106, 114), (90, 100), (113, 125), (160, 172)),
    "XXL": ((114, 126), (100, 112), (125, 137), (160, 172)),
    "3XL": ((126, 138), (112, 124), (137, 149), (160, 172)),
}
_MEN_LETTERS: dict[str, tuple[Range, Range, Range, Range]] = {
    "XXS": ((70, 78), (56, 64), (74, 82), (160, 168)),
    "XS": ((78, 86), (64, 72), (82, 90), (164, 172)),
    "S": ((86, 94), (72, 80), (90, 97), (168, 176)),
    "M": ((94, 102), (80, 88), (97, 104), (172, 180)),
    "L": ((102, 110), (88, 96), (104, 111), (176, 184)),
    "XL": ((110, 118), (96, 104), (111, 118), (178, 186)),
    "XXL": ((118, 129), (104, 114), (118, 127), (180, 188)),
    "3XL": ((129, 141), (114, 126), (127, 137), (180, 188)),
}
_LETTER_ALIASES: dict[str, tuple[str, ...]] = {"XXS": ("2XS",), "XXL": ("2XL",), "3XL": ("XXXL",)}

# label: (height, chest, waist, hips), EN 13402-3 height steps of 6 cm, two per label.
_KIDS_AGES: dict[str, tuple[Range, Range, Range, Range]] = {
    "2-3Y": ((87, 98), (51, 54), (49, 51), (54, 57)),
    "4-5Y": ((98, 110), (54, 58), (51, 54), (57, 62)),
    "6-7Y": ((110, 122), (58, 63), (54, 57), (62, 67)),
    "8-9Y": ((122, 134), (63, 68), (57, 60), (67, 72)),
    "10-11Y": ((134, 146), (68, 74), (60, 64), (72, 78)),
    "12-13Y": ((146, 158), (74, 80), (64, 68), (78, 85)),
    "14-15Y": ((158, 170), (80, 86), (68, 72), (85, 92)),
}
_KIDS_ALIASES: dict[str, tuple[str, ...]] = {
    label: (f"{label.removesuffix('Y')} years", f"{label.removesuffix('Y')}") for label in _KIDS_AGES
}

#: Waist labels (inches) each house waist chart lists, and the hips that usually go with a waist.
_WAIST_INCHES: dict[Department, range] = {
    Department.women: range(23, 41),
    Department.men: range(26, 47),
    Department.unisex: range(24, 47),
}
_HIPS_FROM_WAIST: dict[Department, tuple[float, float]] = {
    # hips_mid = a * waist + b (German DOB women's pairs; men's retailer tables)
    Department.women: (0.8, 39.0),
    Department.men: (0.75, 37.0),
    Department.unisex: (0.75, 37.0),
}
_SHOE_EU: dict[Department, range] = {
    Department.women: range(34, 45),
    Department.men: range(38, 50),
    Department.unisex: range(34, 50),
    Department.girls: range(18, 41),
    Department.boys: range(18, 41),
}

_SOURCES = {
    "letter_women": "house default: EN 13402-3 women's letter codes (bust girth), waist and hips after "
    "German DOB / European retailer tables, regular height",
    "letter_men": "house default: EN 13402-3 men's letter codes (chest girth), waist and hips after "
    "European retailer tables",
    "letter_unisex": "house default: men's EN 13402-3 letter codes (unisex is cut on the men's block)",
    "waist": "house default: waist label = body waist in inches (±0.5 in); hips from the usual "
    "waist-to-hip pairing",
    "EU": "house default: Paris point, EU = 1.5 x last length, last = foot length + 1.5 cm "
    "(tools.profile.units)",
    "age": "house default: EN 13402-3 children's height steps (2-3Y = 92/98 cm), typical chest, waist, hips",
}


def _r(span: Range) -> tuple[float, float]:
    return (round(float(span[0]), 1), round(float(span[1]), 1))


def _letter_rows(department: Department) -> list[SizeRow]:
    table = _WOMEN_LETTERS if department == Department.women else _MEN_LETTERS
    return [
        SizeRow(
            label=label,
            body={"chest": _r(chest), "waist": _r(waist), "hips": _r(hips), "height": _r(height)},
            aliases=_LETTER_ALIASES.get(label, ()),
        )
        for label, (chest, waist, hips, height) in table.items()
    ]


def _waist_rows(department: Department) -> list[SizeRow]:
    a, b = _HIPS_FROM_WAIST[department]
    rows = []
    for inches in _WAIST_INCHES[department]:
        waist = ((inches - 0.5) * CM_PER_INCH, (inches + 0.5) * CM_PER_INCH)
        hips_mid = a * inches * CM_PER_INCH + b
        rows.append(
            SizeRow(
                label=str(inches),
                body={"waist": _r(waist), "hips": _r((hips_mid - 1.5, hips_mid + 1.5))},
                aliases=(f"W{inches}", f'{inches}"'),
            )
        )
    return rows


def _shoe_rows(department: Department) -> list[SizeRow]:
    return [
        SizeRow(
            label=f"EU {eu}",
            body={"foot_length": (round(foot_length_cm(eu - 0.5), 2), round(foot_length_cm(eu + 0.5), 2))},
            aliases=(str(eu),),
        )
        for eu in _SHOE_EU[department]
    ]


def _age_rows() -> list[SizeRow]:
    return [
        SizeRow(
            label=label,
            body={"height": _r(height), "chest": _r(chest), "waist": _r(waist), "hips": _r(hips)},
            aliases=_KIDS_ALIASES[label],
        )
        for label, (height, chest, waist, hips) in _KIDS_AGES.items()
    ]


@lru_cache(maxsize=128)
def default_chart(department: Department, group: GarmentGroup, system: SizeSystem) -> SizeChart | None:
    """The house chart for a department, garment group and size system; None where there is none.

    None for one-size products (nothing to choose), for ``other`` garments and for
    combinations the catalogue does not sell (children's letters, waist-sized tops).
    Charts are immutable, so the cached object is shared safely.
    """
    department = Department(department)
    if group == "other" or system == "one":
        return None
    if group == "shoes":
        if system != "EU":
            return None
        return SizeChart(
            department=department,
            group=group,
            system=system,
            key="foot_length",
            sizes=_shoe_rows(department),
            source=_SOURCES["EU"],
        )
    if department in KIDS:
        if system != "age":
            return None
        return SizeChart(
            department=department,
            group=group,
            system=system,
            key="height",
            sizes=_age_rows(),
            source=_SOURCES["age"],
        )
    key = KEY_DIMENSION[group]
    if system == "letter":
        return SizeChart(
            department=department,
            group=group,
            system=system,
            key=key,
            sizes=_letter_rows(department),
            source=_SOURCES[f"letter_{department.value}"],
        )
    if system == "waist" and group == "bottom":
        return SizeChart(
            department=department,
            group=group,
            system=system,
            key="waist",
            sizes=_waist_rows(department),
            source=_SOURCES["waist"],
        )
    return None
