"""Object store in a local folder: the development default.

Files are named by the SHA-256 of the key, not by the key itself. A key-shaped
tree cannot hold both ``a`` and ``a/b`` (a file and a folder of the same name), which
S3 allows, and it would make keys differing only in case collide on macOS; hashing
keeps the local store's behaviour identical to S3's for every valid key.

Each file holds one JSON header line (key, content type, etag, size) followed by
the bytes, written to a temporary file and moved into place with ``os.replace``:
readers see the old object or the new one, never a mix, and the content type can
never disagree with the data it describes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from storage.errors import ObjectNotFound, StorageError
from storage.objects.base import (
    DEFAULT_CONTENT_TYPE,
    ObjectInfo,
    check_content_type,
    check_data,
    check_expires,
    check_key,
)

_FORMAT = 1
#: Header lines are short (a key is at most 1 KiB); the cap stops a corrupt file being read whole.
_MAX_HEADER = 16 * 1024


class LocalObjectStore:
    """The ``ObjectStore`` protocol over a folder; safe for threads and processes on one host."""

    def __init__(self, root: Path) -> None:
        self._root = Path(root)
        self._root.mkdir(parents=True, exist_ok=True)

    @property
    def root(self) -> Path:
        return self._root

    def _path(self, key: str) -> Path:
        digest = hashlib.sha256(check_key(key).encode()).hexdigest()
        return self._root / digest[:2] / digest

    @staticmethod
    def _read_header(handle: BinaryIO, path: Path) -> dict[str, Any]:
        line = handle.readline(_MAX_HEADER)
        try:
            header = json.loads(line)
        except ValueError:
            header = None
        if not isinstance(header, dict) or header.get("format") != _FORMAT:
            raise StorageError(f"corrupt object file {path}")
        return header

    @staticmethod
    def _info(header: dict[str, Any], mtime: float, *, with_type: bool) -> ObjectInfo:
        return ObjectInfo(
            key=header["key"],
            size=header["size"],
            etag=header["etag"],
            last_modified=datetime.fromtimestamp(mtime, UTC),
            content_type=header["content_type"] if with_type else None,
        )

    def put(self, key: str, data: bytes, content_type: str = DEFAULT_CONTENT_TYPE) -> ObjectInfo:
        path = self._path(key)
        payload = check_data(data)
        header = {
            "format": _FORMAT,
            "key": key,
            "content_type": check_content_type(content_type),
            "etag": hashlib.md5(payload, usedforsecurity=False).hexdigest(),
            "size": len(payload),
        }
        path.parent.mkdir(exist_ok=True)
        # The temporary name starts with '.', which list() skips, and lives in the target's
        # folder so os.replace never crosses a filesystem boundary.
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(json.dumps(header, ensure_ascii=False).encode() + b"\n")
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
                mtime = os.fstat(handle.fileno()).st_mtime
            os.replace(tmp_name, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        return self._info(header, mtime, with_type=True)

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            with path.open("rb") as handle:
                self._read_header(handle, path)
                return handle.read()
        except FileNotFoundError:
            raise ObjectNotFound(key) from None

    def stat(self, key: str) -> ObjectInfo:
        path = self._path(key)
        try:
            with path.open("rb") as handle:
                header = self._read_header(handle, path)
                return self._info(header, os.fstat(handle.fileno()).st_mtime, with_type=True)
        except FileNotFoundError:
            raise ObjectNotFound(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Reads every object's header: fine for a development folder, which is why S3 is production's."""
        found: list[ObjectInfo] = []
        for path in self._root.glob("??/*"):
            if path.name.startswith("."):
                continue
            try:
                with path.open("rb") as handle:
                    header = self._read_header(handle, path)
                    mtime = os.fstat(handle.fileno()).st_mtime
            except FileNotFoundError:  # deleted while we listed
                continue
            if header["key"].startswith(prefix):
                found.append(self._info(header, mtime, with_type=False))
        # S3 lists in UTF-8 byte order; code-point order is the same order.
        found.sort(key=lambda info: info.key)
        yield from found

    def presigned_url(self, key: str, expires_s: int = 3600) -> str | None:
        """Always ``None``: a folder has no URL of its own, so the API serves these objects."""
        check_key(key)
        check_expires(expires_s)
        return None

    def ping(self) -> bool:
        return self._root.is_dir() and os.access(self._root, os.W_OK | os.X_OK)
