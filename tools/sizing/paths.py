"""Where sizing's training and evaluation code finds its data and writes its models."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings

from core.config import Settings, SizingSettings


class SizingPaths(BaseSettings):
    """The two paths training needs, read from the same ``IK_*`` variables and ``.env`` as
    ``core.config.Settings`` but without its start-up checks: training needs no secrets, and
    ``Settings`` refuses to load in production with development secrets."""

    model_config = Settings.model_config

    research_data_dir: Path = Settings.model_fields["research_data_dir"].default
    sizing: SizingSettings = SizingSettings()
