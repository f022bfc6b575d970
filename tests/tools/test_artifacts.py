"""The shared model-artefact format: what is saved is what is loaded, and nothing else is."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from tools.artifacts import (
    MANIFEST_FILE,
    MODEL_FILE,
    ModelArtifactError,
    list_versions,
    load_configured,
    read_artifact,
    read_manifest,
    version_folder,
    version_name,
    write_artifact,
)

_PATTERN = re.compile(r"^demo-\d{14}$")


def _arrays() -> dict[str, np.ndarray]:
    return {
        "weights": np.arange(12, dtype=np.float32).reshape(3, 4),
        "ids": np.array([3, 1, 2], np.int64),
        "empty": np.zeros(0, np.float64),
    }


def _save(folder: Path, **manifest: object) -> dict[str, object]:
    return write_artifact(folder, _arrays(), {"version": folder.name, "feature_version": "f1", **manifest})


def test_round_trip(tmp_path: Path) -> None:
    folder = tmp_path / "demo-20260101000000"
    written = _save(folder, priors={"a": 1.5})
    assert sorted(p.name for p in folder.iterdir()) == [MANIFEST_FILE, MODEL_FILE]
    assert written["model_file"] == MODEL_FILE
    assert written == json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    arrays, manifest = read_artifact(folder, "f1")
    assert manifest == written
    assert manifest["priors"] == {"a": 1.5}
    assert arrays.keys() == _arrays().keys()
    for name, expected in _arrays().items():
        assert arrays[name].dtype == expected.dtype
        assert np.array_equal(arrays[name], expected)


def test_a_version_is_never_overwritten(tmp_path: Path) -> None:
    folder = tmp_path / "demo-20260101000000"
    _save(folder)
    with pytest.raises(FileExistsError):
        _save(folder)


def test_tampered_npz_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "demo-20260101000000"
    _save(folder)
    blob = bytearray((folder / MODEL_FILE).read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    (folder / MODEL_FILE).write_bytes(bytes(blob))
    with pytest.raises(ModelArtifactError, match="sha256"):
        read_artifact(folder)


def test_missing_or_broken_files_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "demo-20260101000000"
    _save(folder)
    (folder / MODEL_FILE).unlink()
    with pytest.raises(ModelArtifactError, match="cannot read the model file"):
        read_artifact(folder)
    (folder / MANIFEST_FILE).unlink()
    with pytest.raises(ModelArtifactError, match="unreadable manifest"):
        read_artifact(folder)
    (folder / MANIFEST_FILE).write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ModelArtifactError, match="not an object"):
        read_manifest(folder)


def test_another_feature_version_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "demo-20260101000000"
    _save(folder)
    with pytest.raises(ModelArtifactError, match="has features 'f1', this code 'f2'"):
        read_artifact(folder, "f2")
    arrays, _ = read_artifact(folder)  # no feature version asked: any is read
    assert "weights" in arrays


def test_pickled_arrays_are_refused_even_with_a_matching_hash(tmp_path: Path) -> None:
    folder = tmp_path / "demo-20260101000000"
    write_artifact(folder, {"objects": np.array([{"a": 1}], dtype=object)}, {})
    with pytest.raises(ModelArtifactError, match="corrupt model file"):
        read_artifact(folder)


def test_versions_are_sorted_and_filtered(tmp_path: Path) -> None:
    assert list_versions(tmp_path / "absent", _PATTERN) == []
    for name in ("demo-20300101000000", "demo-20200101000000", "demo-20250101000000"):
        _save(tmp_path / name)
    _save(tmp_path / "other-20990101000000")  # another kind of model
    (tmp_path / "demo-20990101000000").mkdir()  # an interrupted save: no manifest
    (tmp_path / "demo-20980101000000.txt").write_text("x", encoding="utf-8")
    assert list_versions(tmp_path, _PATTERN) == [
        "demo-20200101000000",
        "demo-20250101000000",
        "demo-20300101000000",
    ]


def test_version_folder(tmp_path: Path) -> None:
    assert version_folder(tmp_path, None, _PATTERN, "demo model") is None
    _save(tmp_path / "demo-20200101000000")
    _save(tmp_path / "demo-20300101000000")
    assert version_folder(tmp_path, None, _PATTERN, "demo model") == tmp_path / "demo-20300101000000"
    older = version_folder(tmp_path, "demo-20200101000000", _PATTERN, "demo model")
    assert older == tmp_path / "demo-20200101000000"
    with pytest.raises(ModelArtifactError, match="demo model version 'demo-20000101000000' not found"):
        version_folder(tmp_path, "demo-20000101000000", _PATTERN, "demo model")


def test_version_names_sort_by_time_and_name_their_inputs() -> None:
    early = version_name("demo", "inputs", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    late = version_name("demo", "inputs", datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC))
    assert re.fullmatch(r"demo-20260102030405-[0-9a-f]{8}", early)
    assert early < late
    assert early.rsplit("-", 1)[1] == late.rsplit("-", 1)[1]
    assert version_name("demo", "other", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) != early


@dataclass(frozen=True)
class Demo:
    version: str
    arrays: dict[str, np.ndarray]


def _load_demo(model_dir: Path, version: str | None) -> Demo | None:
    folder = version_folder(model_dir, version, _PATTERN, "demo model")
    return None if folder is None else Demo(folder.name, read_artifact(folder)[0])


def _configured(model_dir: Path, version: str | None) -> Demo | None:
    return load_configured(
        _load_demo, model_dir, version, what="demo model", without="no demo", train="make demo"
    )


def test_a_missing_or_damaged_model_degrades_unless_a_version_is_pinned(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tools.artifacts")
    assert _configured(tmp_path, None) is None
    assert "no demo model in" in caplog.text
    assert "make demo" in caplog.text
    with pytest.raises(ModelArtifactError, match="demo-20260101000000"):
        _configured(tmp_path, "demo-20260101000000")
    _save(tmp_path / "demo-20260101000000")
    loaded = _configured(tmp_path, None)
    assert loaded is not None
    assert loaded.arrays["ids"].tolist() == [3, 1, 2]
    assert "demo model demo-20260101000000 loaded" in caplog.text
    (tmp_path / "demo-20260101000000" / MODEL_FILE).write_bytes(b"tampered")
    assert _configured(tmp_path, None) is None  # unpinned: logged, not raised
    with pytest.raises(ModelArtifactError, match="sha256"):
        _configured(tmp_path, "demo-20260101000000")
