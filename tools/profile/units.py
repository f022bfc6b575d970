"""Unit conversion for body measurements.

Everything is stored in centimetres, kilograms and EU (Paris point) shoe sizes,
so sizing and recommendation code reads one unit. Shoe-size systems are related
through the shoe's last length using the standard definitions: EU = 1.5 x last
length in cm; UK adult = 3 x last length in inches - 25; US men = UK + 1;
US women = UK + 2; CN (Mondopoint) = foot length in mm, and the last is about
1.5 cm longer than the foot. They are approximations; brand charts (sizing) refine them.
"""

from __future__ import annotations

from enum import StrEnum

CM_PER_INCH = 2.54
KG_PER_LB = 0.45359237
LAST_ALLOWANCE_CM = 1.5


class LengthUnit(StrEnum):
    cm = "cm"
    inch = "in"


class WeightUnit(StrEnum):
    kg = "kg"
    lb = "lb"


class ShoeSizeSystem(StrEnum):
    eu = "EU"
    uk = "UK"
    us_men = "US_men"
    us_women = "US_women"
    cn = "CN"


def to_cm(value: float, unit: LengthUnit) -> float:
    return value * CM_PER_INCH if unit == LengthUnit.inch else value


def from_cm(value_cm: float, unit: LengthUnit) -> float:
    return value_cm / CM_PER_INCH if unit == LengthUnit.inch else value_cm


def to_kg(value: float, unit: WeightUnit) -> float:
    return value * KG_PER_LB if unit == WeightUnit.lb else value


def from_kg(value_kg: float, unit: WeightUnit) -> float:
    return value_kg / KG_PER_LB if unit == WeightUnit.lb else value_kg


def _last_cm_to_eu(last_cm: float) -> float:
    return 1.5 * last_cm


def _eu_to_last_cm(eu: float) -> float:
    return eu / 1.5


def shoe_to_eu(value: float, system: ShoeSizeSystem) -> float:
    """Convert a shoe size to EU, rounded to the nearest half size."""
    if system == ShoeSizeSystem.eu:
        eu = value
    elif system == ShoeSizeSystem.cn:
        # CN sizes are given in mm of foot length (e.g. 245, or 95 for an infant) or in cm (24.5);
        # no foot is 50 cm long, so 50 and above means millimetres.
        foot_cm = value / 10 if value >= 50 else value
        eu = _last_cm_to_eu(foot_cm + LAST_ALLOWANCE_CM)
    else:
        uk = value - {ShoeSizeSystem.uk: 0, ShoeSizeSystem.us_men: 1, ShoeSizeSystem.us_women: 2}[system]
        eu = _last_cm_to_eu((uk + 25) / 3 * CM_PER_INCH)
    return round(eu * 2) / 2


def foot_length_cm(eu: float) -> float:
    """The foot an EU size is made for: the last minus the usual allowance."""
    return _eu_to_last_cm(eu) - LAST_ALLOWANCE_CM


def eu_to_shoe(eu: float, system: ShoeSizeSystem) -> float:
    """Convert an EU size to another system, rounded to the nearest half size (CN: 5 mm)."""
    if system == ShoeSizeSystem.eu:
        return eu
    last_cm = _eu_to_last_cm(eu)
    if system == ShoeSizeSystem.cn:
        return round((last_cm - LAST_ALLOWANCE_CM) * 2) / 2 * 10
    uk = 3 * last_cm / CM_PER_INCH - 25
    offset = {ShoeSizeSystem.uk: 0, ShoeSizeSystem.us_men: 1, ShoeSizeSystem.us_women: 2}[system]
    return round((uk + offset) * 2) / 2
