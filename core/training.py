"""Where training and evaluation code finds research data and writes trained models."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings

from core.config import RecommendSettings, Settings, SizingSettings


class TrainingPaths(BaseSettings):
    """The paths training needs, read from the same ``IK_*`` variables and ``.env`` as
    ``core.config.Settings`` but without its start-up checks: training needs no secrets, and
    ``Settings`` refuses to load in production with development secrets."""

    model_config = Settings.model_config

    research_data_dir: Path = Settings.model_fields["research_data_dir"].default
    sizing: SizingSettings = SizingSettings()
    recommend: RecommendSettings = RecommendSettings()
