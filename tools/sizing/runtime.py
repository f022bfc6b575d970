"""Build the sizing service once per process, the same way for the API, the CLI and evals."""

from __future__ import annotations

import logging

from core.config import Settings
from storage.sql import Database
from tools.artifacts import load_configured
from tools.sizing.chartbook import ChartBook
from tools.sizing.model import FitModel, load_model
from tools.sizing.service import SizingService

logger = logging.getLogger(__name__)


def load_fit_model(settings: Settings) -> FitModel | None:
    """The configured fit model, or None (charts alone then answer, and the advice says so)."""
    return load_configured(
        load_model,
        settings.sizing.model_dir,
        settings.sizing.model_version,
        what="fit model",
        without="size advice uses charts only",
        train="python -m tools.sizing train",
    )


def open_sizing(settings: Settings, db: Database) -> SizingService:
    return SizingService(db, ChartBook(db), load_fit_model(settings))
