"""A small RentTheRunway sample, converted and trained once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.training import TrainingPaths
from tests.tools.catalog.conftest import (  # noqa: F401 - the catalog's fixtures, found by name
    accounts,
    catalog,
    catalog_settings,
    empty_catalog,
    user_id,
)
from tools.sizing import rtr
from tools.sizing.model import FitModel
from tools.sizing.train import train_model

SAMPLE = 20_000


def data_path() -> Path:
    """The RentTheRunway file; tests that need it skip, saying so, on a machine without it."""
    path = rtr.default_path(TrainingPaths().research_data_dir)
    if not path.exists():
        pytest.skip(f"RentTheRunway research data absent at {path}")
    return path


@pytest.fixture(scope="session")
def prepared() -> rtr.Prepared:
    return rtr.prepare(rtr.load(data_path(), limit=SAMPLE))


@pytest.fixture(scope="session")
def small_model(prepared: rtr.Prepared) -> FitModel:
    return train_model(prepared, limit=SAMPLE)
