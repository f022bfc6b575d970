from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from core.datasets import ResearchDataMissing, catalog_file, research_dataset
from tests.conftest import make_settings

pytestmark = pytest.mark.unit


def test_the_catalog_ships_with_the_repository(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    with gzip.open(catalog_file(settings), "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    assert len(rows) == 44_446
    assert {"id", "gender", "articleType", "baseColour", "productDisplayName"} <= set(rows[0])
    thumbnails = settings.catalog_dir / "thumbnails"
    index = [json.loads(line) for line in (thumbnails / "index.jsonl").read_text().splitlines()]
    assert len(index) == 300
    assert all((settings.catalog_dir / "thumbnails" / Path(row["image"]).name).is_file() for row in index)
    assert (settings.catalog_dir / "PROVENANCE.md").is_file()


def test_a_missing_research_dataset_says_where_it_looked(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, research_data_dir=tmp_path / "nowhere")
    with pytest.raises(
        ResearchDataMissing, match=r"not found at .*nowhere/renttherunway_fit.*IK_RESEARCH_DATA_DIR"
    ):
        research_dataset("renttherunway_fit", settings)


def test_unknown_research_datasets_are_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="unknown research dataset"):
        research_dataset("imagenet", make_settings(tmp_path))
