"""The object-store contract: user photos, try-on results and generated images.

Keys are validated strictly and identically for every adapter, so a key that works
against the local folder in development also works against S3 in production, and
no key can climb out of the local store's folder.

Do not store one key "below" another (``a`` and ``a/b``): S3 allows it, but MinIO keeps
objects as files and refuses the pair. Give files extensions (``a.jpg``, ``a/b.jpg``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from storage.errors import InvalidObjectKey

#: S3's limit on a key, in UTF-8 bytes.
MAX_KEY_BYTES = 1024
#: S3's limit on a presigned URL's lifetime (seven days).
MAX_PRESIGN_S = 7 * 24 * 3600
DEFAULT_CONTENT_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class ObjectInfo:
    """What a store knows about an object without reading it."""

    key: str
    size: int
    #: Opaque; changes whenever the content does (an MD5 hex digest for single-part uploads).
    etag: str
    last_modified: datetime
    #: ``None`` in ``list`` results: S3 listings do not carry it, so neither adapter gives it there.
    content_type: str | None


@runtime_checkable
class ObjectStore(Protocol):
    """Named blobs with a content type. Writes replace whole objects atomically."""

    def put(self, key: str, data: bytes, content_type: str = DEFAULT_CONTENT_TYPE) -> ObjectInfo:
        """Store ``data`` under ``key``, replacing any previous object."""
        ...

    def get(self, key: str) -> bytes:
        """The object's bytes; raises ``ObjectNotFound``."""
        ...

    def stat(self, key: str) -> ObjectInfo:
        """The object's size, etag, time and content type; raises ``ObjectNotFound``."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove the object; a missing key is not an error (as in S3), so retries are safe."""
        ...

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Objects whose key starts with ``prefix`` (a plain string prefix), in key order."""
        ...

    def presigned_url(self, key: str, expires_s: int = 3600) -> str | None:
        """A URL a browser can GET the object from for ``expires_s`` seconds.

        ``None`` means the store has no URL of its own (the local folder): the API must
        serve the object itself. No existence check is made, as with S3 presigning.
        """
        ...

    def ping(self) -> bool:
        """Whether the store is usable; for health checks, never raises."""
        ...


def check_key(key: str) -> str:
    """Return ``key`` if every adapter can store it unambiguously, else raise ``InvalidObjectKey``.

    Refused: empty or over-long keys, a leading or trailing ``/``, empty, ``.`` and
    ``..`` segments (a filesystem would resolve them, S3 would not), backslashes
    (a separator on Windows) and control characters (they break logs and headers).
    """
    if not isinstance(key, str) or not key:
        raise InvalidObjectKey("object keys must be non-empty strings")
    if len(key.encode("utf-8", errors="surrogatepass")) > MAX_KEY_BYTES:
        raise InvalidObjectKey(f"object keys are at most {MAX_KEY_BYTES} UTF-8 bytes")
    if key.startswith("/") or key.endswith("/"):
        raise InvalidObjectKey(f"object keys may not start or end with '/': {key!r}")
    if "\\" in key:
        raise InvalidObjectKey(f"object keys may not contain backslashes: {key!r}")
    for char in key:
        category = unicodedata.category(char)
        if category == "Cc" or category == "Cs":
            raise InvalidObjectKey(f"object keys may not contain control characters: {key!r}")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidObjectKey(f"object keys may not contain empty, '.' or '..' segments: {key!r}")
    return key


def check_content_type(content_type: str) -> str:
    """Refuse content types that cannot travel as an HTTP header (or that would inject one)."""
    if (
        not isinstance(content_type, str)
        or "/" not in content_type
        or len(content_type) > 255
        or not content_type.isascii()
        or any(not char.isprintable() for char in content_type)
    ):
        raise ValueError(f"not a valid content type: {content_type!r}")
    return content_type


def check_expires(expires_s: int) -> int:
    """Presigned URLs live between one second and S3's seven-day maximum."""
    if isinstance(expires_s, bool) or not 1 <= expires_s <= MAX_PRESIGN_S:
        raise ValueError(f"expires_s must be between 1 and {MAX_PRESIGN_S}, got {expires_s!r}")
    return int(expires_s)


def check_data(data: bytes) -> bytes:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"object data must be bytes, got {type(data).__name__}")
    return bytes(data)
