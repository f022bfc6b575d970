"""The one on-disk format of our trained models, shared by the fit model, the ranker and the
compatibility model.

Each version lives in its own folder ``<model_dir>/<version>/`` with ``model.npz`` (plain numpy
arrays) and ``manifest.json``, which holds the npz's sha256. Models are copied to and from
machines and caches, so a file is trusted only when its bytes match the manifest, and it is
loaded with ``allow_pickle=False`` so that reading a model can never run code. The manifest is
written last, through a temporary file, so a folder with a manifest is a complete one and an
interrupted save leaves a folder that listing ignores.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import zipfile
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np

logger = logging.getLogger(__name__)


class Versioned(Protocol):
    @property
    def version(self) -> str: ...


T = TypeVar("T", bound=Versioned)

MODEL_FILE = "model.npz"
MANIFEST_FILE = "manifest.json"


class ModelArtifactError(RuntimeError):
    """A saved model cannot be trusted: missing or corrupt files, or a hash that does not match."""


def write_artifact(
    folder: Path, arrays: Mapping[str, np.ndarray[Any, Any]], manifest: Mapping[str, Any]
) -> dict[str, Any]:
    """Create ``folder`` and save a version into it; returns the manifest as written (with the
    model file's name and sha256), which the caller keeps so that memory and disk agree.

    The folder must not exist yet: a version is never overwritten, so a hash once published
    keeps naming the same bytes.
    """
    folder.mkdir(parents=True, exist_ok=False)
    buffer = io.BytesIO()
    named: dict[str, Any] = dict(arrays)
    np.savez(buffer, **named)
    blob = buffer.getvalue()
    (folder / MODEL_FILE).write_bytes(blob)
    written = {**manifest, "model_file": MODEL_FILE, "model_sha256": hashlib.sha256(blob).hexdigest()}
    tmp = folder / (MANIFEST_FILE + ".tmp")
    tmp.write_text(json.dumps(written, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(folder / MANIFEST_FILE)
    return written


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest alone, for choosing among versions without reading their arrays."""
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ModelArtifactError(f"unreadable manifest in {folder}: {error}") from error
    if not isinstance(manifest, dict):
        raise ModelArtifactError(f"manifest in {folder} is not an object")
    return manifest


def read_artifact(
    folder: Path, feature_version: str | None = None
) -> tuple[dict[str, np.ndarray[Any, Any]], dict[str, Any]]:
    """The arrays and manifest of the version saved in ``folder``.

    The hash (and, when given, the manifest's ``feature_version``) is checked before the npz is
    parsed, so a tampered or foreign file is refused without being read as numpy data. Raises
    ``ModelArtifactError`` for a missing or unreadable manifest or model file, a sha256 that
    differs from the manifest's, another feature version, or an npz numpy cannot read.
    """
    manifest = read_manifest(folder)
    try:
        blob = (folder / str(manifest.get("model_file", MODEL_FILE))).read_bytes()
    except OSError as error:
        raise ModelArtifactError(f"cannot read the model file of {folder.name}: {error}") from error
    if hashlib.sha256(blob).hexdigest() != manifest.get("model_sha256"):
        raise ModelArtifactError(f"model file of {folder.name} does not match its manifest's sha256")
    if feature_version is not None and manifest.get("feature_version") != feature_version:
        raise ModelArtifactError(
            f"{folder.name} has features {manifest.get('feature_version')!r}, this code {feature_version!r}"
        )
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as stored:
            arrays = {name: np.asarray(stored[name]) for name in stored.files}
    except (ValueError, OSError, zipfile.BadZipFile) as error:
        raise ModelArtifactError(f"corrupt model file in {folder}: {error}") from error
    return arrays, manifest


def version_name(prefix: str, fingerprint: str, now: datetime | None = None) -> str:
    """``<prefix>-<UTC yyyymmddHHMMSS>-<8 hex of fingerprint>``: names sort by time (so the newest
    is the last), and the same inputs at the same second give the same name."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S")
    return f"{prefix}-{stamp}-{hashlib.sha256(fingerprint.encode()).hexdigest()[:8]}"


def list_versions(model_dir: Path, pattern: re.Pattern[str]) -> list[str]:
    """Versions under ``model_dir`` whose name matches ``pattern`` and that have a manifest (so
    were saved completely), oldest first: version names start with their kind and a UTC stamp."""
    if not model_dir.is_dir():
        return []
    return sorted(
        p.name for p in model_dir.iterdir() if pattern.match(p.name) and (p / MANIFEST_FILE).is_file()
    )


def version_folder(model_dir: Path, version: str | None, pattern: re.Pattern[str], what: str) -> Path | None:
    """The folder of ``version``, or of the newest version when it is None; None when
    ``model_dir`` holds no version. An asked-for version that is missing raises
    ``ModelArtifactError`` instead, since a pinned model that is absent is a deployment error."""
    if version is None:
        found = list_versions(model_dir, pattern)
        if not found:
            return None
        version = found[-1]
    folder = model_dir / version
    if not (folder / MANIFEST_FILE).is_file():
        raise ModelArtifactError(f"{what} version {version!r} not found in {model_dir}")
    return folder


def artifact_folder(path: Path, version: str | None, pattern: re.Pattern[str], what: str) -> Path | None:
    """``version_folder``, except that ``path`` may itself be one version's folder (a model handed
    over by its own path, as evaluations and tests do) when no version is asked for."""
    if version is None and (path / MANIFEST_FILE).is_file():
        return path
    return version_folder(path, version, pattern, what)


def load_configured(
    load: Callable[[Path, str | None], T | None],
    model_dir: Path,
    version: str | None,
    *,
    what: str,
    without: str,
    train: str,
) -> T | None:
    """The model a service starts with, as the settings name it.

    A pinned ``version`` that is missing or damaged is a deployment error and raises. An unpinned
    model that is absent or unreadable only degrades the service: the log says how (``without``)
    and what to run (``train``), and ``None`` comes back.
    """
    try:
        model = load(model_dir, version)
    except ModelArtifactError:
        if version is not None:
            raise
        logger.exception("the %s in %s cannot be loaded; %s", what, model_dir, without)
        return None
    if model is None:
        if version is not None:
            raise ModelArtifactError(f"{what} {version!r} is not in {model_dir}")
        logger.warning("no %s in %s: %s; run `%s`", what, model_dir, without, train)
    else:
        logger.info("%s %s loaded", what, model.version)
    return model
