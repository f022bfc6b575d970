"""Cold-start body priors: plausible estimates, honest spreads, and a JSON the survey reproduces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.training import TrainingPaths
from tools.sizing import fit_priors
from tools.sizing.charts import Dimension
from tools.sizing.priors import PRIORS_FILE, SOURCE, estimate_body, load_priors

ANSUR_DIR = TrainingPaths().research_data_dir / "ansur_ii"
DIMENSION_NAMES: tuple[Dimension, ...] = ("chest", "waist", "hips", "foot_length", "inseam")
DIMENSIONS = set(DIMENSION_NAMES)


def test_a_typical_woman_and_man() -> None:
    woman = estimate_body("female", 165, 60)
    assert set(woman) == DIMENSIONS
    assert 85 <= woman["chest"].mean_cm <= 95
    assert 70 <= woman["waist"].mean_cm <= 82
    assert 92 <= woman["hips"].mean_cm <= 102
    assert 23.5 <= woman["foot_length"].mean_cm <= 25.5
    assert 74 <= woman["inseam"].mean_cm <= 84
    man = estimate_body("male", 178, 80)
    assert 97 <= man["chest"].mean_cm <= 106
    assert 84 <= man["waist"].mean_cm <= 94
    assert 26 <= man["foot_length"].mean_cm <= 28.5
    for estimate in (*woman.values(), *man.values()):
        assert 0.3 < estimate.sd_cm < 7
        assert estimate.source == SOURCE
        assert not estimate.extrapolated


def test_heavier_means_larger_girths() -> None:
    light, heavy = estimate_body("female", 165, 55), estimate_body("female", 165, 80)
    for dim in ("chest", "waist", "hips"):
        assert heavy[dim].mean_cm > light[dim].mean_cm + 5


def test_no_sex_mixes_both_with_a_wider_spread() -> None:
    woman, man, anyone = (
        estimate_body("female", 170, 70),
        estimate_body("male", 170, 70),
        estimate_body(None, 170, 70),
    )
    for dim in DIMENSION_NAMES:
        low, high = sorted((woman[dim].mean_cm, man[dim].mean_cm))
        assert low <= anyone[dim].mean_cm <= high
        assert anyone[dim].sd_cm >= min(woman[dim].sd_cm, man[dim].sd_cm)
    assert anyone["hips"].sd_cm > max(woman["hips"].sd_cm, man["hips"].sd_cm)


def test_children_get_no_adult_estimate_and_giants_a_flagged_one() -> None:
    assert estimate_body("female", 120, 25) == {}
    assert estimate_body(None, 110, 20) == {}
    big = estimate_body("male", 205, 170)
    assert big
    assert all(e.extrapolated for e in big.values())
    normal = estimate_body("male", 180, 85)
    assert big["chest"].sd_cm > normal["chest"].sd_cm
    with pytest.raises(ValueError, match="positive"):
        estimate_body("male", 0, 80)


def test_the_shipped_json_says_where_it_comes_from() -> None:
    priors = load_priors()
    assert "ANSUR II" in priors["source"]
    for sex in ("female", "male"):
        table = priors["sexes"][sex]
        assert table["n"] > 1000
        for dim in DIMENSIONS:
            fit = table["dimensions"][dim]
            assert 0.4 < fit["r2_heldout"] <= fit["r2"] + 0.01 < 1
            assert fit["features"] in fit["r2_heldout_by_features"]


@pytest.mark.skipif(not ANSUR_DIR.is_dir(), reason="ANSUR II research data not present")
def test_fitting_the_survey_again_reproduces_the_shipped_coefficients(tmp_path: Path) -> None:
    out = tmp_path / "priors.json"
    assert fit_priors.main(["--ansur-dir", str(ANSUR_DIR), "--out", str(out)]) == 0
    fresh = json.loads(out.read_text(encoding="utf-8"))
    shipped = json.loads(PRIORS_FILE.read_text(encoding="utf-8"))
    for sex, table in shipped["sexes"].items():
        again = fresh["sexes"][sex]
        assert again["n"] == table["n"]
        for dim, fit in table["dimensions"].items():
            redo = again["dimensions"][dim]
            assert redo["features"] == fit["features"]
            assert redo["intercept"] == pytest.approx(fit["intercept"], rel=1e-4, abs=1e-4)
            assert redo["coef"] == pytest.approx(fit["coef"], rel=1e-4, abs=1e-5)
            assert redo["sd_cm"] == pytest.approx(fit["sd_cm"], rel=1e-3)
