"""Fit the cold-start body priors (``body_priors.json``) from ANSUR II.

``python -m tools.sizing.fit_priors [--ansur-dir DIR] [--out FILE]``

Most people know their height and weight but not their chest or inseam. ANSUR II
(2012 US Army anthropometric survey, 1,986 women and 4,082 men, public domain)
measured both, so a regression per sex and dimension turns height and weight into
an estimate with an honest spread. Several feature sets are tried; each dimension
keeps the one with the best 5-fold held-out R^2 (ties go to the simpler set), and
the coefficients are then refitted on all subjects. The output is a small table of
derived numbers, so it ships in the repository and nothing reads the survey at run
time.

Column notes: lengths are millimetres, ``weightkg`` is tenths of a kilogram, the
files are latin-1, and the id column is ``subjectid`` (men) / ``SubjectId`` (women),
which this script never reads. Inseam is the survey's ``crotchheight`` (floor to
crotch, standing, barefoot), i.e. the body's inside-leg length; a trouser inseam
ends a few centimetres above the floor, which is the chart's business.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from core.training import TrainingPaths
from tools.sizing.priors import FEATURE_SETS

Floats = npt.NDArray[np.float64]

FILES = {"female": "ANSUR_II_FEMALE_Public.csv", "male": "ANSUR_II_MALE_Public.csv"}
#: Our dimension -> ANSUR II column (millimetres).
COLUMNS = {
    "chest": "chestcircumference",
    "waist": "waistcircumference",
    "hips": "buttockcircumference",
    "foot_length": "footlength",
    "inseam": "crotchheight",
}
SOURCE = (
    "ANSUR II, 2012 U.S. Army Anthropometric Survey public release (Gordon et al. 2014, "
    "NATICK/TR-15/007; US Government work)"
)
FOLDS = 5
SEED = 20240601
#: A richer feature set must beat a simpler one's held-out R^2 by this much to be kept.
MIN_GAIN = 0.002


def load(path: Path) -> dict[str, Floats]:
    """Height (cm), weight (kg) and the dimensions (cm) of every subject with all of them."""
    rows: dict[str, list[float]] = {name: [] for name in ("height", "weight", *COLUMNS)}
    with path.open(encoding="latin-1", newline="") as handle:
        for record in csv.DictReader(handle):
            try:
                values = {
                    "height": float(record["stature"]) / 10,
                    "weight": float(record["weightkg"]) / 10,
                    **{dim: float(record[col]) / 10 for dim, col in COLUMNS.items()},
                }
            except (KeyError, ValueError):
                continue
            if all(v > 0 for v in values.values()):
                for name, value in values.items():
                    rows[name].append(value)
    return {name: np.asarray(values, dtype=np.float64) for name, values in rows.items()}


def _lstsq(x: Floats, y: Floats) -> Floats:
    design = np.column_stack([np.ones(len(x)), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return np.asarray(coef, dtype=np.float64)


def _predict(coef: Floats, x: Floats) -> Floats:
    return np.asarray(coef[0] + x @ coef[1:], dtype=np.float64)


def _r2(y: Floats, predicted: Floats) -> float:
    return float(1 - np.sum((y - predicted) ** 2) / np.sum((y - y.mean()) ** 2))


def held_out_r2(x: Floats, y: Floats, folds: int = FOLDS, seed: int = SEED) -> float:
    """R^2 of out-of-fold predictions (every subject predicted by a model that never saw it)."""
    order = np.random.default_rng(seed).permutation(len(y))
    predicted = np.empty_like(y)
    for fold in np.array_split(order, folds):
        train = np.setdiff1d(order, fold)
        predicted[fold] = _predict(_lstsq(x[train], y[train]), x[fold])
    return _r2(y, predicted)


def features(name: str, h: Floats, w: Floats) -> Floats:
    return np.column_stack(FEATURE_SETS[name](h, w)).astype(np.float64)


def fit_sex(data: dict[str, Floats]) -> dict[str, Any]:
    h, w = data["height"], data["weight"]
    dimensions: dict[str, Any] = {}
    for dim, column in COLUMNS.items():
        y = data[dim]
        scores = {name: held_out_r2(features(name, h, w), y) for name in FEATURE_SETS}
        best = next(iter(scores))
        for name, score in scores.items():
            if score > scores[best] + MIN_GAIN:
                best = name
        x = features(best, h, w)
        coef = _lstsq(x, y)
        residual = y - _predict(coef, x)
        dimensions[dim] = {
            "column": column,
            "features": best,
            "intercept": round(float(coef[0]), 6),
            "coef": [round(float(c), 6) for c in coef[1:]],
            "sd_cm": round(float(np.sqrt(np.sum(residual**2) / (len(y) - len(coef)))), 4),
            "r2": round(_r2(y, _predict(coef, x)), 4),
            "r2_heldout": round(scores[best], 4),
            "r2_heldout_by_features": {name: round(score, 4) for name, score in scores.items()},
            "mean_cm": round(float(y.mean()), 2),
        }
    bmi = w / (h / 100) ** 2
    return {
        "n": len(h),
        "height_cm": [round(float(h.min()), 1), round(float(h.max()), 1)],
        "weight_kg": [round(float(w.min()), 1), round(float(w.max()), 1)],
        "bmi": [round(float(bmi.min()), 1), round(float(bmi.max()), 1)],
        "dimensions": dimensions,
    }


def fit(ansur_dir: Path) -> dict[str, Any]:
    sexes = {sex: fit_sex(load(ansur_dir / name)) for sex, name in FILES.items()}
    return {
        "source": SOURCE,
        "files": list(FILES.values()),
        "method": (
            "ordinary least squares per sex and dimension; features chosen by 5-fold held-out R^2 "
            f"(seed {SEED}, a richer set must gain {MIN_GAIN}); sd_cm is the residual standard deviation"
        ),
        "units": "cm (inputs: height cm, weight kg)",
        "inseam": "crotchheight: floor to crotch, standing barefoot (body inside-leg length)",
        "generated_by": "python -m tools.sizing.fit_priors",
        "generated_at": datetime.now(UTC).date().isoformat(),
        "sexes": sexes,
    }


def main(argv: Sequence[str] | None = None) -> int:
    default_dir = TrainingPaths().research_data_dir / "ansur_ii"
    parser = argparse.ArgumentParser(
        prog="python -m tools.sizing.fit_priors", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--ansur-dir", type=Path, default=default_dir)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("body_priors.json"))
    args = parser.parse_args(argv)
    if not all((args.ansur_dir / name).is_file() for name in FILES.values()):
        parser.error(f"ANSUR II files {', '.join(FILES.values())} not found in {args.ansur_dir}")
    priors = fit(args.ansur_dir)
    args.out.write_text(json.dumps(priors, indent=1) + "\n", encoding="utf-8")
    out = sys.stdout
    out.write(f"wrote {args.out}\n")
    for sex, table in priors["sexes"].items():
        out.write(f"{sex}: n={table['n']}\n")
        for dim, d in table["dimensions"].items():
            out.write(
                f"  {dim:<12} {d['features']:<26} R2 held-out {d['r2_heldout']:.3f}  sd {d['sd_cm']:.2f} cm\n"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
