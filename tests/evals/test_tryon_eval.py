"""``evals.tryon.run`` on one VITON-HD pair: every figure present and in range."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.training import TrainingPaths
from evals.tryon import run

pytestmark = pytest.mark.unit


def test_one_pair(tmp_path: Path) -> None:
    data = TrainingPaths().research_data_dir
    if not (data / "viton_hd_sample" / "test").is_dir():
        pytest.skip(f"VITON-HD sample not found under {data}; set IK_RESEARCH_DATA_DIR")
    result = run(data, limit=1, out_dir=tmp_path, timing_all=False)
    json.dumps(result)
    assert len(result["pairs"]) == 1
    pair = result["pairs"][0]
    assert pair["person"] == "08909_00.jpg"
    assert 0.85 < pair["preservation_ssim"] <= 1.0  # measured 0.90
    assert 0.5 < pair["placement_iou"] <= 1.0  # measured 0.60 (0.49 before the fitted warp)
    assert pair["colour_delta_e"] < pair["colour_delta_e_if_unchanged"]
    assert 0 < result["seconds_per_image"]["p50"] < 10
    checks = result["person_checks"]
    assert checks["accepted"] == checks["real_photos"] == 11
    assert checks["bad_inputs_correct"] == 3
    assert result["lpips"]["value"] is None
    assert "not_measured" in result["lpips"]["reason"]
    assert result["anchors"]["Leffa"]["ssim"] == 0.899
    assert (tmp_path / "tryon_contact_sheet.png").is_file()
