"""The fit model: better than chance on held-out rows, sane probabilities, safe artefacts."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tools.sizing import rtr
from tools.sizing.model import FEATURE_NAMES, FitModel, ModelArtifactError, Priors, features, load_model
from tools.sizing.schemas import FitQuery
from tools.sizing.train import scores

pytestmark = pytest.mark.unit


def test_beats_chance_on_held_out_rows(prepared: rtr.Prepared, small_model: FitModel) -> None:
    rows = prepared.split.test
    result = scores(small_model.predict_proba(prepared.queries(rows)), prepared.labels(rows))
    assert result["macro_auc"] > 0.6
    assert small_model.manifest["validation"]["macro_auc"] > 0.6


def test_probabilities_sum_to_one(prepared: rtr.Prepared, small_model: FitModel) -> None:
    proba = small_model.predict_proba(prepared.queries(prepared.split.validation[:500]))
    assert proba.shape == (500, 3)
    assert np.all(proba >= 0)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert small_model.predict_proba([]).shape == (0, 3)


def test_a_roomier_size_raises_large_against_small(prepared: rtr.Prepared, small_model: FitModel) -> None:
    queries = prepared.queries(prepared.split.validation[:1000])
    tighter = small_model.predict_proba([replace(q, offset_cm=q.offset_cm - 4) for q in queries])
    roomier = small_model.predict_proba([replace(q, offset_cm=q.offset_cm + 4) for q in queries])

    def log_ratio(p: np.ndarray) -> float:
        return float(np.mean(np.log(p[:, 2]) - np.log(p[:, 0])))

    assert log_ratio(roomier) > log_ratio(tighter)


def test_bare_query_works() -> None:
    """A shop with no feedback and a person with no measurements still gets an answer."""
    query = FitQuery(offset_cm=0.0, group="top")
    row = features([query], _priors())
    assert row.shape == (1, len(FEATURE_NAMES))


def _priors() -> Priors:
    return Priors(small_rate=0.13, large_rate=0.13, offset_mean_cm=0.0)


def test_forest_matches_sklearn(prepared: rtr.Prepared) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    from tools.sizing.model import Forest

    priors = _priors()
    x = features(prepared.queries(prepared.split.train[:3000]), priors)
    x[::7, 2] = np.nan  # missing values take the learned side
    y = prepared.labels(prepared.split.train[:3000])
    small = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(x, y == 0)
    large = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(x, y == 2)
    raw = Forest.from_sklearn([small, large]).raw(x)
    assert np.allclose(raw[:, 0], small.decision_function(x), atol=1e-9)
    assert np.allclose(raw[:, 1], large.decision_function(x), atol=1e-9)


def test_save_load_round_trip(tmp_path: Path, prepared: rtr.Prepared, small_model: FitModel) -> None:
    model = replace(small_model, manifest=dict(small_model.manifest))
    folder = model.save(tmp_path)
    assert folder.name == model.version
    loaded = load_model(tmp_path)
    assert loaded is not None
    assert loaded.version == model.version
    queries = prepared.queries(prepared.split.validation[:300])
    assert np.array_equal(loaded.predict_proba(queries), small_model.predict_proba(queries))
    manifest = loaded.manifest
    for key in ("created_at", "seed", "split", "validation", "rtr_conversion", "model_sha256"):
        assert key in manifest
    assert manifest["training_data"]["sha256"] == prepared.data.sha256
    assert load_model(tmp_path, model.version) is not None


def test_newest_version_wins(tmp_path: Path, small_model: FitModel) -> None:
    older = replace(small_model, version="fit-hgb-20200101000000-00000000", manifest={})
    newer = replace(small_model, version="fit-hgb-20300101000000-00000000", manifest={})
    newer.save(tmp_path)
    older.save(tmp_path)
    loaded = load_model(tmp_path)
    assert loaded is not None
    assert loaded.version == newer.version


def test_tampered_model_file_is_refused(tmp_path: Path, small_model: FitModel) -> None:
    model = replace(small_model, manifest={})
    folder = model.save(tmp_path)
    blob = bytearray((folder / "model.npz").read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    (folder / "model.npz").write_bytes(bytes(blob))
    with pytest.raises(ModelArtifactError, match="sha256"):
        load_model(tmp_path)


def test_corrupt_manifest_and_missing_version(tmp_path: Path, small_model: FitModel) -> None:
    folder = replace(small_model, manifest={}).save(tmp_path)
    with pytest.raises(ModelArtifactError, match="not found"):
        load_model(tmp_path, "fit-hgb-20000101000000-00000000")
    (folder / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelArtifactError, match="manifest"):
        load_model(tmp_path)


def test_no_model_gives_none(tmp_path: Path) -> None:
    assert load_model(tmp_path) is None
    assert load_model(tmp_path / "absent") is None
