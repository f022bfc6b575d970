"""What every benchmark reports alongside its figures: percentiles, and the machine they came from."""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from typing import Any

import numpy as np
from threadpoolctl import threadpool_info


def percentile(values: Sequence[float], q: float, *, digits: int = 2) -> float | None:
    return round(float(np.percentile(values, q)), digits) if values else None


def _blas_threads() -> list[dict[str, Any]]:
    """Threads of each BLAS numpy uses: on a busy machine a multi-threaded BLAS makes small matrix
    products far slower, so the figures mean little without it."""
    return [
        {"api": info.get("internal_api"), "threads": info.get("num_threads")} for info in threadpool_info()
    ]


def machine() -> dict[str, Any]:
    affinity = getattr(os, "sched_getaffinity", None)
    return {
        "blas": _blas_threads(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(affinity(0)) if affinity else os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "python": platform.python_version(),
        "system": platform.system(),
    }
