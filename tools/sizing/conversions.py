"""Size labels from one system to another: "what is a UK 10 in EU?", "my jeans are 32, which letter?".

Every system is read as the body girth it stands for, and the answer is the target
system's label for that girth, so conversions agree with the house charts
(``tools.sizing.charts``) instead of with one shop's table:

* women's tops and dresses: EU numbers carry the German DOB bust (EU 38 = 88 cm), UK
  = EU - 28, US = EU - 32; a letter spans the EN 13402-3 bust interval of the
  women's chart, and is given as the first EU size inside it (S -> EU 36, M -> 40);
* men's tops: EU = half the chest (EU 48 = 96 cm), UK and US = chest in inches
  (EU - 10); a letter is the first EU size inside its chest interval (M -> EU 48);
* bottoms: a waist label is the body waist in inches; a letter is the waist
  interval of the chart and is given as its rounded midpoint in inches;
* CN labels ("160/84A") carry height / girth (bust, chest or waist) and body type A,
  after GB/T 1335: the girth is read as such, and the height written follows the
  standard's 5·4 (tops) or 5·2 (bottoms) steps around its middle bodies (women
  160/84A and 160/68A, men 170/88A and 170/76A);
* shoes: ``tools.profile.units`` (last length) does the arithmetic;
* children: an age label is given as the EN 13402-3 height it reaches (4-5Y -> 110).

Letters span two numeric sizes, so letter -> numeric -> letter returns the same
letter, while numeric -> letter -> numeric may come back one size smaller.
Shops differ by about a size; a brand's chart, not these tables, decides fit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.documents import size_key
from tools.profile.schemas import Department
from tools.profile.units import ShoeSizeSystem, eu_to_shoe, shoe_to_eu
from tools.sizing.charts import KIDS, Dimension, default_chart
from tools.sizing.schemas import GarmentGroup


class SizeConversionError(ValueError):
    """A label or system that cannot be converted; the message says what is known instead."""


_TOP_SYSTEMS = ("letter", "EU", "UK", "US", "CN")
#: What each garment group can be converted between (adults; children's apparel: ``KIDS_SYSTEMS``).
SIZE_SYSTEMS: dict[GarmentGroup, tuple[str, ...]] = {
    "top": _TOP_SYSTEMS,
    "dress": _TOP_SYSTEMS,
    "outerwear": _TOP_SYSTEMS,
    "one_piece": _TOP_SYSTEMS,
    "bottom": ("waist", "letter", "CN"),
    "shoes": ("EU", "UK", "US_men", "US_women", "CN"),
    "other": (),
}
KIDS_SYSTEMS: tuple[str, ...] = ("age", "EU")

#: Women's numeric sizes: (EU, UK, US, bust cm), German DOB busts.
_WOMEN_NUMERIC: tuple[tuple[int, str, str, float], ...] = (
    (30, "2", "00", 72),
    (32, "4", "0", 76),
    (34, "6", "2", 80),
    (36, "8", "4", 84),
    (38, "10", "6", 88),
    (40, "12", "8", 92),
    (42, "14", "10", 96),
    (44, "16", "12", 100),
    (46, "18", "14", 104),
    (48, "20", "16", 110),
    (50, "22", "18", 116),
    (52, "24", "20", 122),
    (54, "26", "22", 128),
    (56, "28", "24", 134),
)
#: Men's numeric sizes: (EU, UK, US, chest cm); EU = half the chest, UK/US = chest in inches.
_MEN_NUMERIC: tuple[tuple[int, str, str, float], ...] = tuple(
    (eu, str(eu - 10), str(eu - 10), 2.0 * eu) for eu in range(36, 68, 2)
)

#: CN height ladders: (anchor height, anchor girth, cm of girth per 5 cm of height, lowest, highest).
_CN_LADDER: dict[tuple[str, bool], tuple[int, int, int, int, int]] = {
    ("women", False): (160, 84, 4, 145, 175),
    ("men", False): (170, 88, 4, 155, 190),
    ("women", True): (160, 68, 4, 145, 175),
    ("men", True): (170, 76, 4, 155, 190),
}
_CN_LABEL = re.compile(r"^\s*(?:cn\s*)?(\d{2,3})\s*/\s*(\d{2,3})\s*([a-z]?)\s*$", re.IGNORECASE)
_PREFIXED = re.compile(r"^\s*([a-z_ ]*?)\s*(\d+(?:\.\d+)?)\s*$", re.IGNORECASE)

_SYSTEM_NAMES = {
    "letter": "letter",
    "letters": "letter",
    "intl": "letter",
    "eu": "EU",
    "fr": "EU",
    "de": "EU",
    "it": "EU",
    "uk": "UK",
    "us": "US",
    "cn": "CN",
    "china": "CN",
    "waist": "waist",
    "age": "age",
    "usmen": "US_men",
    "uswomen": "US_women",
    "usm": "US_men",
    "usw": "US_women",
}


def _system(name: str, allowed: tuple[str, ...], what: str) -> str:
    system = _SYSTEM_NAMES.get(re.sub(r"[\s_\-']", "", name.lower()))
    if system is None or system not in allowed:
        raise SizeConversionError(f"unknown size system {name!r} for {what}; known: {', '.join(allowed)}")
    return system


def _num(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class _Scale:
    """One department's apparel scale: letters as girth intervals, numeric sizes as girths."""

    department: str
    bottoms: bool
    #: (letter, low, high) from the house chart, small to large.
    letters: tuple[tuple[str, float, float], ...]
    numeric: tuple[tuple[int, str, str, float], ...]

    def letter_of(self, girth: float) -> str:
        for label, low, high in self.letters:
            if low <= girth < high:
                return label
        lo, hi = self.letters[0][1], self.letters[-1][2]
        raise SizeConversionError(
            f"{girth:g} cm is outside the letter sizes ({self.letters[0][0]} {lo:g} cm to "
            f"{self.letters[-1][0]} {hi:g} cm)"
        )

    def letter_girth(self, label: str) -> float:
        key = size_key(label)
        for letter, low, high in self.letters:
            if size_key(letter) == key:
                if self.bottoms:
                    return round((low + high) / 2 / 2.54) * 2.54
                first = next((row for row in self.numeric if low <= row[3] < high), None)
                return first[3] if first is not None else (low + high) / 2
        raise SizeConversionError(
            f"unknown letter size {label!r}; known: {', '.join(letter for letter, _, _ in self.letters)}"
        )

    def nearest_numeric(self, girth: float) -> tuple[int, str, str, float]:
        return min(self.numeric, key=lambda row: (abs(row[3] - girth), row[3]))

    def cn(self, girth: float) -> str:
        height0, girth0, step, lowest, highest = _CN_LADDER[(self.department, self.bottoms)]
        g = int(round(girth / 2) * 2) if self.bottoms else int(round(girth / 4) * 4)
        height = min(max(height0 + 5 * ((g - girth0) // step), lowest), highest)
        return f"{height}/{g}A"


def _scale(department: Department, bottoms: bool) -> _Scale:
    women = department == Department.women
    chart = default_chart(department, "bottom" if bottoms else "top", "letter")
    assert chart is not None
    dim: Dimension = "waist" if bottoms else "chest"
    letters = tuple((row.label, *row.body[dim]) for row in chart.sizes)
    return _Scale(
        department="women" if women else "men",
        bottoms=bottoms,
        letters=letters,
        numeric=_WOMEN_NUMERIC if women else _MEN_NUMERIC,
    )


def _detect(label: str, allowed: tuple[str, ...], default_numeric: str) -> tuple[str, str]:
    """Guess the system of an unqualified label; returns (system, label without its prefix)."""
    if _CN_LABEL.match(label) and "CN" in allowed:
        return "CN", label
    match = _PREFIXED.match(label)
    if match:
        prefix, number = match.group(1).strip(), match.group(2)
        if not prefix or size_key(prefix) == "w":
            return default_numeric, number
        return _system(prefix, allowed, "this garment"), number
    return ("letter" if "letter" in allowed else allowed[0]), label


def _apparel(label: str, to: str, department: Department, bottoms: bool, from_system: str | None) -> str:
    allowed = SIZE_SYSTEMS["bottom" if bottoms else "top"]
    what = f"{department.value} {'bottoms' if bottoms else 'tops and dresses'}"
    target = _system(to, allowed, what)
    if from_system is not None:
        source = _system(from_system, allowed, what)
        _, bare = _detect(label, allowed, source)
        bare = bare if source != "letter" and source != "CN" else label
    else:
        source, bare = _detect(label, allowed, "waist" if bottoms else "EU")
    scale = _scale(department, bottoms)
    # Read the label as a girth (cm), remembering the numeric row where there is one.
    row: tuple[int, str, str, float] | None = None
    if source == "letter":
        girth = scale.letter_girth(bare)
    elif source == "CN":
        match = _CN_LABEL.match(bare)
        if not match:
            raise SizeConversionError(f"{label!r} is not a CN size; CN sizes read height/girth, e.g. 160/84A")
        girth = float(match.group(2))
    elif source == "waist":
        try:
            girth = float(bare) * 2.54
        except ValueError:
            raise SizeConversionError(f"{label!r} is not a waist size in inches (e.g. 32)") from None
    else:
        column = {"EU": 0, "UK": 1, "US": 2}[source]
        row = next((r for r in scale.numeric if size_key(str(r[column])) == size_key(bare)), None)
        if row is None:
            known = ", ".join(str(r[column]) for r in scale.numeric)
            raise SizeConversionError(f"unknown {source} size {label!r} for {what}; known: {known}")
        girth = row[3]
    if target == "letter":
        return scale.letter_of(girth)
    if target == "CN":
        return scale.cn(girth)
    if target == "waist":
        return str(round(girth / 2.54))
    row = row or scale.nearest_numeric(girth)
    return str(row[{"EU": 0, "UK": 1, "US": 2}[target]])


def _shoes(label: str, to: str, department: Department, from_system: str | None) -> str:
    allowed = SIZE_SYSTEMS["shoes"] + ("US",)
    us = "US_women" if department in (Department.women, Department.girls) else "US_men"
    target = _system(to, allowed, "shoes")
    target = us if target == "US" else target
    match = _PREFIXED.match(label)
    if not match:
        raise SizeConversionError(f"{label!r} is not a shoe size; write e.g. EU 41, UK 7, US 8 or CN 255")
    prefix, number = match.group(1).strip(), float(match.group(2))
    source = _system(from_system or prefix or ("CN" if number >= 100 else "EU"), allowed, "shoes")
    source = us if source == "US" else source
    eu = shoe_to_eu(number, ShoeSizeSystem(source))
    if not 16 <= eu <= 52:
        raise SizeConversionError(f"{label!r} is EU {eu:g}, outside shoe sizes EU 16 to 52")
    value = eu_to_shoe(eu, ShoeSizeSystem(target))
    prefix_out = {"EU": "EU", "UK": "UK", "US_men": "US", "US_women": "US", "CN": "CN"}[target]
    return f"{prefix_out} {_num(value)}"


def _kids(label: str, to: str, department: Department, from_system: str | None) -> str:
    chart = default_chart(department, "top", "age")
    assert chart is not None
    target = _system(to, KIDS_SYSTEMS, "children's clothes")
    if from_system is not None:
        source = _system(from_system, KIDS_SYSTEMS, "children's clothes")
    else:
        source = "age" if chart.row(label) is not None else "EU"
    if source == "age":
        row = chart.row(label)
        if row is None:
            raise SizeConversionError(f"unknown age size {label!r}; known: {', '.join(chart.labels)}")
        if target == "age":
            return row.label
        return _num(row.body["height"][1])
    match = _PREFIXED.match(label)
    if not match:
        raise SizeConversionError(
            f"{label!r} is not a height size (e.g. 110); known ages: {', '.join(chart.labels)}"
        )
    height = float(match.group(2))
    if target == "EU":
        return _num(height)
    for row in chart.sizes:
        low, high = row.body["height"]
        if low < height <= high:
            return row.label
    raise SizeConversionError(
        f"height {height:g} cm is outside the age sizes ({chart.labels[0]} to {chart.labels[-1]})"
    )


def size_systems(department: Department, group: GarmentGroup) -> tuple[str, ...]:
    """The systems ``convert_size`` accepts for this department and group."""
    if group == "shoes":
        return SIZE_SYSTEMS["shoes"]
    if Department(department) in KIDS:
        return KIDS_SYSTEMS if group != "other" else ()
    return SIZE_SYSTEMS[group]


def convert_size(
    label: str,
    *,
    to: str,
    department: Department,
    group: GarmentGroup,
    from_system: str | None = None,
) -> str:
    """``label`` in the ``to`` system. The source system is read from the label ("UK 10",
    "160/84A", "M", "EU 41") unless ``from_system`` says it; a bare number is EU for tops,
    inches for bottoms, EU (or CN millimetres from 100) for shoes and a height for children.

    Raises SizeConversionError naming what is unknown and what is known.
    """
    department = Department(department)
    label = label.strip()
    if not label:
        raise SizeConversionError("no size given")
    if group == "other":
        raise SizeConversionError("no size conversion for accessories and other garments")
    if group == "shoes":
        return _shoes(label, to, department, from_system)
    if department in KIDS:
        return _kids(label, to, department, from_system)
    return _apparel(label, to, department, group == "bottom", from_system)
