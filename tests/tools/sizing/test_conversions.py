"""Size labels between systems agree with the house charts and explain what they do not know."""

from __future__ import annotations

import pytest

from tools.profile.schemas import Department
from tools.sizing.charts import default_chart
from tools.sizing.conversions import SIZE_SYSTEMS, SizeConversionError, convert_size, size_systems

W, M = Department.women, Department.men


@pytest.mark.parametrize("department", [W, M, Department.unisex])
@pytest.mark.parametrize("target", ["EU", "UK", "US", "CN"])
def test_letters_round_trip_through_every_top_system(department: Department, target: str) -> None:
    chart = default_chart(department, "top", "letter")
    assert chart is not None
    for letter in chart.labels:
        other = convert_size(letter, to=target, department=department, group="top")
        source = "CN" if target == "CN" else target
        assert (
            convert_size(other, to="letter", department=department, group="top", from_system=source) == letter
        )


@pytest.mark.parametrize("department", [W, M])
def test_bottom_letters_round_trip_through_waist_and_cn(department: Department) -> None:
    chart = default_chart(department, "bottom", "letter")
    assert chart is not None
    for letter in chart.labels:
        waist = convert_size(letter, to="waist", department=department, group="bottom")
        assert convert_size(waist, to="letter", department=department, group="bottom") == letter
        cn = convert_size(letter, to="CN", department=department, group="bottom")
        assert convert_size(cn, to="letter", department=department, group="bottom") == letter


def test_known_equivalences() -> None:
    assert convert_size("UK 10", to="EU", department=W, group="dress") == "38"
    assert convert_size("EU 38", to="US", department=W, group="dress") == "6"
    assert convert_size("38", to="UK", department=W, group="top") == "10"
    assert convert_size("S", to="EU", department=W, group="top") == "36"
    assert convert_size("M", to="EU", department=M, group="top") == "48"
    assert convert_size("50", to="letter", department=M, group="top") == "M"
    assert convert_size("48", to="UK", department=M, group="outerwear") == "38"
    assert convert_size("S", to="CN", department=W, group="top") == "160/84A"
    assert convert_size("160/84A", to="letter", department=W, group="top") == "S"
    assert convert_size("175/92A", to="letter", department=M, group="top") == "S"
    assert convert_size("30", to="CN", department=M, group="bottom") == "170/76A"
    assert convert_size("W32", to="letter", department=M, group="bottom") == "M"
    assert convert_size("170/76A", to="waist", department=M, group="bottom") == "30"


def test_shoes_go_through_the_profile_units() -> None:
    assert convert_size("EU 41", to="UK", department=M, group="shoes") == "UK 7.5"
    assert convert_size("41", to="US", department=M, group="shoes") == "US 8.5"
    assert convert_size("EU 38", to="US", department=W, group="shoes") == "US 7"
    assert convert_size("245", to="EU", department=M, group="shoes") == "EU 39"
    assert convert_size("UK 7", to="EU", department=M, group="shoes") == "EU 40.5"
    for eu in range(36, 47):
        for system in ("UK", "US_men", "US_women", "CN"):
            other = convert_size(f"EU {eu}", to=system, department=M, group="shoes")
            back = convert_size(other, to="EU", department=M, group="shoes", from_system=system)
            assert abs(float(back.removeprefix("EU ")) - eu) <= 0.5, (eu, system, other, back)


def test_children_ages_and_heights() -> None:
    assert convert_size("4-5Y", to="EU", department=Department.girls, group="dress") == "110"
    assert convert_size("116", to="age", department=Department.boys, group="top") == "6-7Y"
    chart = default_chart(Department.boys, "top", "age")
    assert chart is not None
    for age in chart.labels:
        height = convert_size(age, to="EU", department=Department.boys, group="top")
        assert convert_size(height, to="age", department=Department.boys, group="top") == age


def test_unknown_labels_and_systems_say_what_is_known() -> None:
    with pytest.raises(SizeConversionError, match=r"unknown letter size 'Q'.*known: .*XS, S, M"):
        convert_size("Q", to="EU", department=W, group="top")
    with pytest.raises(SizeConversionError, match=r"unknown size system 'JP'.*known: letter, EU, UK, US, CN"):
        convert_size("M", to="JP", department=W, group="top")
    with pytest.raises(SizeConversionError, match=r"unknown EU size 'EU 99'.*known: 30, 32"):
        convert_size("EU 99", to="letter", department=W, group="top")
    with pytest.raises(SizeConversionError, match="outside the letter sizes"):
        convert_size("200/160A", to="letter", department=M, group="top")
    with pytest.raises(SizeConversionError, match="known: waist, letter, CN"):
        convert_size("32", to="EU", department=M, group="bottom")
    with pytest.raises(SizeConversionError, match="accessories"):
        convert_size("M", to="EU", department=M, group="other")
    with pytest.raises(SizeConversionError, match="known ages: 2-3Y"):
        convert_size("big", to="EU", department=Department.girls, group="top")
    with pytest.raises(SizeConversionError, match="outside shoe sizes"):
        convert_size("EU 70", to="UK", department=M, group="shoes")
    assert issubclass(SizeConversionError, ValueError)


def test_size_systems() -> None:
    assert SIZE_SYSTEMS["shoes"] == ("EU", "UK", "US_men", "US_women", "CN")
    assert "waist" in SIZE_SYSTEMS["bottom"]
    assert SIZE_SYSTEMS["other"] == ()
    assert size_systems(Department.girls, "top") == ("age", "EU")
    assert size_systems(W, "dress") == ("letter", "EU", "UK", "US", "CN")
