"""A stand-in fit model for tests whose subject is not the model (service rules, tools, dialogue)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from tools.sizing.schemas import FitQuery


class LogisticFitModel:
    """P(small) rises as the garment gets tighter than the body and with the person's 'small' reports."""

    version = "test-logistic"
    manifest: ClassVar[dict[str, Any]] = {"version": "test-logistic"}

    def predict_proba(self, queries: Sequence[FitQuery]) -> np.ndarray:
        rows = []
        for q in queries:
            person_small = q.person.small / q.person.n if q.person.n else 0.0
            person_large = q.person.large / q.person.n if q.person.n else 0.0
            small = -q.offset_cm / 2 - 2 + 3 * person_small
            large = q.offset_cm / 2 - 2 + 3 * person_large
            z = [math.exp(small), 1.0, math.exp(large)]
            rows.append([v / sum(z) for v in z])
        return np.array(rows)
