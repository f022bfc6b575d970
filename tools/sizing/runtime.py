"""Build the sizing service once per process, the same way for the API, the CLI and evals."""

from __future__ import annotations

import logging

from core.config import Settings
from storage.sql import Database
from tools.sizing.chartbook import ChartBook
from tools.sizing.model import FitModel, ModelArtifactError, load_model
from tools.sizing.service import SizingService

logger = logging.getLogger(__name__)


def load_fit_model(settings: Settings) -> FitModel | None:
    """The configured fit model, or None (charts alone then answer, and the advice says so).

    A pinned version that is missing or damaged is a deployment error and stops start-up;
    an unpinned one that is absent only degrades the advice, with a warning.
    """
    pinned = settings.sizing.model_version
    try:
        model = load_model(settings.sizing.model_dir, pinned)
    except ModelArtifactError:
        if pinned is not None:
            raise
        logger.exception(
            "the fit model in %s cannot be loaded; sizing falls back to charts", settings.sizing.model_dir
        )
        return None
    if model is None:
        if pinned is not None:
            raise ModelArtifactError(f"fit model {pinned!r} is not in {settings.sizing.model_dir}")
        logger.warning(
            "no fit model in %s: size advice uses charts only; run `python -m tools.sizing train`",
            settings.sizing.model_dir,
        )
    else:
        logger.info("fit model %s loaded", model.version)
    return model


def open_sizing(settings: Settings, db: Database) -> SizingService:
    return SizingService(db, ChartBook(db), load_fit_model(settings))
