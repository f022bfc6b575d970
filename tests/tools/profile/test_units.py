from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tools.profile.units import (
    LengthUnit,
    ShoeSizeSystem,
    WeightUnit,
    eu_to_shoe,
    from_cm,
    from_kg,
    shoe_to_eu,
    to_cm,
    to_kg,
)

pytestmark = pytest.mark.unit


def test_known_conversions() -> None:
    assert to_cm(10, LengthUnit.inch) == pytest.approx(25.4)
    assert to_kg(100, WeightUnit.lb) == pytest.approx(45.359237)
    assert to_cm(170, LengthUnit.cm) == 170


@pytest.mark.parametrize(
    ("size", "system", "eu"),
    [
        (42, ShoeSizeSystem.eu, 42),
        (8, ShoeSizeSystem.uk, 42),  # standard chart: UK 8 = EU 42
        (9, ShoeSizeSystem.us_men, 42),
        (10, ShoeSizeSystem.us_women, 42),
        (6, ShoeSizeSystem.uk, 39),  # UK 6 = EU 39
        (250, ShoeSizeSystem.cn, 40),  # 250 mm foot
        (25.0, ShoeSizeSystem.cn, 40),  # the same in cm
    ],
)
def test_shoe_sizes_match_standard_charts(size: float, system: ShoeSizeSystem, eu: float) -> None:
    # Published charts disagree by up to half a size; the conversion must stay within that.
    assert abs(shoe_to_eu(size, system) - eu) <= 0.5


@given(st.floats(min_value=1, max_value=400), st.sampled_from(list(LengthUnit)))
def test_length_round_trip(value: float, unit: LengthUnit) -> None:
    assert from_cm(to_cm(value, unit), unit) == pytest.approx(value)


@given(st.floats(min_value=1, max_value=800), st.sampled_from(list(WeightUnit)))
def test_weight_round_trip(value: float, unit: WeightUnit) -> None:
    assert from_kg(to_kg(value, unit), unit) == pytest.approx(value)


@given(st.integers(min_value=60, max_value=100).map(lambda n: n / 2), st.sampled_from(list(ShoeSizeSystem)))
def test_shoe_round_trip_stays_within_half_a_size(eu: float, system: ShoeSizeSystem) -> None:
    assert abs(shoe_to_eu(eu_to_shoe(eu, system), system) - eu) <= 0.5
