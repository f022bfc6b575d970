"""Property-based tests of profile validation: what is accepted is in range, the rest is refused."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from tools.profile.schemas import RANGE_KG, RANGES_CM, MeasurementsIn, ProfileUpdate
from tools.profile.units import to_cm, to_kg

pytestmark = pytest.mark.unit

finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6)
any_number = st.one_of(finite, st.just(math.nan), st.just(math.inf), st.integers(-(10**6), 10**6))
length_unit = st.sampled_from(["cm", "in"])
weight_unit = st.sampled_from(["kg", "lb"])


@given(name=st.sampled_from(sorted(RANGES_CM)), value=any_number, unit=length_unit)
def test_lengths_are_accepted_exactly_when_in_range(name: str, value: float, unit: str) -> None:
    low, high = RANGES_CM[name]
    payload = {"measurements": {name: {"value": value, "unit": unit}}}
    in_range = math.isfinite(value) and value > 0 and low <= to_cm(value, unit) <= high  # type: ignore[arg-type]
    if in_range:
        stored = ProfileUpdate.model_validate(payload).measurements.normalised()  # type: ignore[union-attr]
        assert stored[f"{name}_cm"] == pytest.approx(to_cm(value, unit), abs=0.01)  # type: ignore[arg-type]
    else:
        with pytest.raises(ValidationError):
            ProfileUpdate.model_validate(payload)


@given(value=any_number, unit=weight_unit)
def test_weights_are_accepted_exactly_when_in_range(value: float, unit: str) -> None:
    payload = {"measurements": {"weight": {"value": value, "unit": unit}}}
    in_range = math.isfinite(value) and value > 0 and RANGE_KG[0] <= to_kg(value, unit) <= RANGE_KG[1]  # type: ignore[arg-type]
    if in_range:
        stored = ProfileUpdate.model_validate(payload).measurements.normalised()  # type: ignore[union-attr]
        assert RANGE_KG[0] <= stored["weight_kg"] <= RANGE_KG[1]
    else:
        with pytest.raises(ValidationError):
            ProfileUpdate.model_validate(payload)


@given(
    field=st.sampled_from(["height", "waist", "weight"]),
    unit=st.text(min_size=1, max_size=5).filter(lambda u: u not in {"cm", "in", "kg", "lb"}),
)
def test_unknown_units_are_refused(field: str, unit: str) -> None:
    with pytest.raises(ValidationError, match="unit"):
        ProfileUpdate.model_validate({"measurements": {field: {"value": 70, "unit": unit}}})


@pytest.mark.parametrize(("field", "unit"), [("height", "kg"), ("weight", "cm"), ("waist", "lb")])
def test_units_of_the_wrong_kind_are_refused(field: str, unit: str) -> None:
    with pytest.raises(ValidationError):
        ProfileUpdate.model_validate({"measurements": {field: {"value": 70, "unit": unit}}})


@given(key=st.text(min_size=1, max_size=20).filter(lambda k: k not in ProfileUpdate.model_fields))
def test_unknown_fields_are_refused(key: str) -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        ProfileUpdate.model_validate({key: 1})


def test_bare_numbers_mean_cm_and_kg() -> None:
    update = ProfileUpdate.model_validate({"measurements": {"height": 165, "weight": 52, "shoe_size": 38}})
    assert update.measurements is not None
    assert update.measurements.normalised() == {"height_cm": 165, "weight_kg": 52, "shoe_size_eu": 38}


def test_imperial_input_is_normalised() -> None:
    update = ProfileUpdate.model_validate(
        {"measurements": {"height": {"value": 65, "unit": "in"}, "weight": {"value": 120, "unit": "lb"}}}
    )
    assert update.measurements is not None
    assert update.measurements.normalised() == {"height_cm": 165.1, "weight_kg": 54.43}


def test_a_height_in_the_wrong_unit_is_explained() -> None:
    with pytest.raises(ValidationError, match=r"height 165 in is 419.1 cm, outside 50-250 cm"):
        ProfileUpdate.model_validate({"measurements": {"height": {"value": 165, "unit": "in"}}})


@pytest.mark.parametrize(
    "payload",
    [
        {"budget": {"min": 900, "max": 100}},
        {"budget": {"max": 100, "currency": "BTC"}},
        {"styles": ["gothic-rave"]},
        {"fit_preference": "baggy"},
        {"locale": "fr"},
        {"favourite_colours": ["x"] * 13},
        {"measurements": {"height": True}},
        {"measurements": {"shoe_size": {"value": 9, "system": "JP"}}},
        {"consents": {"marketing": "maybe"}},
    ],
)
def test_invalid_profiles_are_refused(payload: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ProfileUpdate.model_validate(payload)


def test_colours_are_deduplicated_case_insensitively() -> None:
    update = ProfileUpdate.model_validate({"favourite_colours": ["Navy", "navy", "藏青色"]})
    assert update.favourite_colours == ["navy", "藏青色"]


@given(
    st.fixed_dictionaries(
        {},
        optional={
            "height": st.floats(50, 250),
            "weight": st.floats(10, 350),
            "chest": st.floats(40, 200),
            "waist": st.floats(35, 220),
        },
    )
)
def test_normalised_keys_match_what_was_given(measurements: dict[str, float]) -> None:
    normalised = MeasurementsIn.model_validate(measurements).normalised()
    expected = {("weight_kg" if k == "weight" else f"{k}_cm") for k in measurements}
    assert set(normalised) == expected
