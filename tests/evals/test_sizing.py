"""The sizing suite: its metrics, the training CLI and a small end-to-end run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.tools.sizing.conftest import data_path
from tools.sizing.train import scores

pytestmark = pytest.mark.unit

LIMIT = 20_000


def test_scores_on_known_predictions() -> None:
    labels = np.array([0, 1, 2, 1, 1, 0, 2, 1])
    perfect = np.eye(3)[labels]
    result = scores(perfect, labels)
    assert result["macro_auc"] == 1.0
    assert result["accuracy"] == 1.0
    assert result["top_label_ece"] == 0.0
    assert result["macro_ece"] == 0.0
    flat = np.full((len(labels), 3), 1 / 3)
    result = scores(flat, labels)
    assert result["macro_auc"] == 0.5
    # confidence 1/3 everywhere, hit rate 2/8 / 4/8 / 2/8 per class
    assert result["ece"]["fit"] == pytest.approx(abs(1 / 3 - 0.5), abs=1e-4)


def test_train_cli_writes_a_version_and_if_missing_skips(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tools.sizing.__main__ import main
    from tools.sizing.model import load_model

    data = data_path()
    assert main(["train", "--out", str(tmp_path), "--data", str(data), "--limit", str(LIMIT)]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    model = load_model(tmp_path)
    assert model is not None
    assert model.version == summary["version"]
    assert model.manifest["training_data"]["limit"] == LIMIT
    assert model.manifest["split"]["sizes"] == {"train": 16_000, "validation": 2_000, "test": 2_000}
    assert main(["train", "--out", str(tmp_path), "--data", str(data), "--if-missing"]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert len([p for p in tmp_path.iterdir() if p.is_dir()]) == 1


def test_suite_reports_model_and_baselines(tmp_path: Path) -> None:
    from evals.sizing import run, table

    result = run(data_path=data_path(), model_dir=tmp_path, limit=LIMIT)
    assert set(result["results"]) == {"fit_model", "one_lv", "logistic"}
    assert result["results"]["fit_model"]["source"] == "trained"
    for r in result["results"].values():
        for split in ("validation", "test"):
            assert r[split]["macro_auc"] > 0.5
            assert set(r[split]["ece"]) == {"small", "fit", "large"}
    assert result["split"] == {"train": 16_000, "validation": 2_000, "test": 2_000}
    assert "fit_model" in table(result)
    json.dumps(result)
