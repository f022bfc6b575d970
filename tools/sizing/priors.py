"""Body dimensions estimated from height and weight, for people who have not measured themselves.

The numbers come from ``body_priors.json``: regressions fitted on ANSUR II (the 2012
US Army anthropometric survey, public domain) by ``python -m tools.sizing.fit_priors``.
Every estimate carries its residual standard deviation, so advice can say how
sure it is ("about 92 cm, ±4 cm") and never presents an estimate as a measurement.

The survey measured adult soldiers (17 to 58, fitter than average, few at the
extremes of weight), so:

* below the smallest height or weight surveyed (children, for instance) nothing is
  estimated: extrapolating adult proportions down to a child's is a guess, and the
  caller then asks for a measurement;
* above the surveyed range the line is extended but the spread is widened by half
  and the estimate is marked ``extrapolated``;
* with no sex given, the two sexes' estimates are averaged and their spread
  includes the gap between them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from tools.sizing.charts import Dimension

Sex = Literal["female", "male"]
SEXES: tuple[Sex, ...] = ("female", "male")
PRIORS_FILE = Path(__file__).with_name("body_priors.json")
SOURCE = "estimated from height and weight (ANSUR II)"
#: Shortfall below the surveyed minimum still treated as inside it (rounding, a light adult).
BELOW_RANGE_TOLERANCE = 0.03
#: Factor on the spread of an estimate beyond the surveyed heights, weights or BMIs.
EXTRAPOLATION_SD_FACTOR = 1.5


def _bmi(h: Any, w: Any) -> Any:
    return w / (h / 100) ** 2


#: Regressor sets by name, as ``body_priors.json`` names them; they work on floats and on arrays.
FEATURE_SETS: dict[str, Callable[[Any, Any], tuple[Any, ...]]] = {
    "height+weight": lambda h, w: (h, w),
    "log_height+log_weight": lambda h, w: (np.log(h), np.log(w)),
    "height+weight+bmi": lambda h, w: (h, w, _bmi(h, w)),
    "log_height+log_weight+bmi": lambda h, w: (np.log(h), np.log(w), _bmi(h, w)),
}


class Estimate(BaseModel):
    """A body dimension estimated from height and weight, with its uncertainty."""

    model_config = ConfigDict(frozen=True)

    mean_cm: float
    #: Standard deviation of the estimate (the population's spread around the regression line).
    sd_cm: float
    source: str = SOURCE
    #: True when height, weight or BMI lie beyond what the survey saw (the spread is widened).
    extrapolated: bool = False


@lru_cache(maxsize=1)
def load_priors(path: Path = PRIORS_FILE) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _one_sex(sex: Sex, height_cm: float, weight_kg: float) -> dict[Dimension, Estimate] | None:
    table = load_priors()["sexes"][sex]
    (h_low, h_high), (w_low, w_high) = table["height_cm"], table["weight_kg"]
    b_low, b_high = table["bmi"]
    if height_cm < h_low * (1 - BELOW_RANGE_TOLERANCE) or weight_kg < w_low * (1 - BELOW_RANGE_TOLERANCE):
        return None
    bmi = _bmi(height_cm, weight_kg)
    extrapolated = height_cm > h_high or weight_kg > w_high or not b_low <= bmi <= b_high
    factor = EXTRAPOLATION_SD_FACTOR if extrapolated else 1.0
    out: dict[Dimension, Estimate] = {}
    for dim, fit in table["dimensions"].items():
        x = FEATURE_SETS[fit["features"]](height_cm, weight_kg)
        mean = fit["intercept"] + sum(c * float(v) for c, v in zip(fit["coef"], x, strict=True))
        out[dim] = Estimate(mean_cm=float(mean), sd_cm=fit["sd_cm"] * factor, extrapolated=extrapolated)
    return out


def estimate_body(sex: Sex | None, height_cm: float, weight_kg: float) -> dict[Dimension, Estimate]:
    """Chest, waist, hips, foot length and inseam (cm) expected for this height and weight.

    Empty when the person is smaller or lighter than anyone surveyed. With ``sex``
    None the sexes are mixed half and half, so the spread is wider.
    """
    if not (math.isfinite(height_cm) and math.isfinite(weight_kg)) or height_cm <= 0 or weight_kg <= 0:
        raise ValueError(f"height {height_cm} cm and weight {weight_kg} kg must be positive numbers")
    sexes: tuple[Sex, ...] = SEXES if sex is None else (sex,)
    estimates = [e for s in sexes if (e := _one_sex(s, height_cm, weight_kg)) is not None]
    if not estimates:
        return {}
    if len(estimates) == 1:
        return estimates[0]
    mixed: dict[Dimension, Estimate] = {}
    for dim in estimates[0]:
        parts = [e[dim] for e in estimates]
        mean = sum(p.mean_cm for p in parts) / len(parts)
        # Variance of an equal mixture: the average spread plus the spread of the means.
        variance = sum(p.sd_cm**2 + (p.mean_cm - mean) ** 2 for p in parts) / len(parts)
        mixed[dim] = Estimate(
            mean_cm=mean, sd_cm=math.sqrt(variance), extrapolated=any(p.extrapolated for p in parts)
        )
    return mixed
