"""S3 adapter (MinIO or any S3-compatible service): the production object store.

All objects live in one bucket, created on first use if missing so a fresh
deployment needs no manual step; nothing is sent at construction, so a process
starts (and reports itself unready) while S3 is down. The HTTP client gets short timeouts and few
retries: MinIO's defaults (five-minute timeouts, five retries) would hang an API
worker for many minutes when the store is down instead of failing the request.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import certifi
import urllib3
from minio import Minio
from minio.error import InvalidResponseError, S3Error, ServerError
from urllib3.util import Retry, Timeout

from storage.errors import ObjectNotFound, StorageError, StoreUnavailable
from storage.objects.base import (
    DEFAULT_CONTENT_TYPE,
    ObjectInfo,
    check_content_type,
    check_data,
    check_expires,
    check_key,
)

_NOT_FOUND = frozenset({"NoSuchKey", "NoSuchObject", "ResourceNotFound"})


def http_client(*, connect_s: float = 5.0, read_s: float = 60.0, retries: int = 2) -> urllib3.PoolManager:
    """A pool with bounded timeouts; retries only idempotent failures the server reports as transient."""
    return urllib3.PoolManager(
        timeout=Timeout(connect=connect_s, read=read_s),
        maxsize=16,
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        retries=Retry(total=retries, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
    )


@contextmanager
def _translated(key: str | None = None) -> Iterator[None]:
    try:
        yield
    except S3Error as exc:
        if key is not None and exc.code in _NOT_FOUND:
            raise ObjectNotFound(key) from exc
        raise StorageError(f"S3 error {exc.code}: {exc.message}") from exc
    except (ServerError, InvalidResponseError, urllib3.exceptions.HTTPError) as exc:
        raise StoreUnavailable(f"S3 is unavailable: {exc}") from exc


def _utc(value: datetime | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class S3ObjectStore:
    """The ``ObjectStore`` protocol over one S3 bucket."""

    def __init__(
        self, client: Minio, bucket: str, *, region: str | None = None, create_bucket: bool = True
    ) -> None:
        self._client = client
        self._bucket = bucket
        self._region = region
        #: Whether the bucket is known to exist; until then each call checks (and maybe creates) it.
        self._ready = not create_bucket
        self._lock = threading.Lock()

    @classmethod
    def connect(
        cls,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        *,
        region: str | None = None,
        secure: bool = True,
        create_bucket: bool = True,
    ) -> S3ObjectStore:
        """``endpoint`` is ``host:port`` without a scheme (``secure`` picks https), as MinIO expects."""
        client = Minio(
            endpoint,
            access_key=access_key,
            secret_key=secret_key,
            secure=secure,
            region=region,
            http_client=http_client(),
        )
        return cls(client, bucket, region=region, create_bucket=create_bucket)

    @property
    def bucket(self) -> str:
        return self._bucket

    @property
    def client(self) -> Minio:
        """The MinIO client, for administration outside the protocol (tests, migrations)."""
        return self._client

    def ensure_bucket(self) -> None:
        """Create the bucket if it is missing; another pod creating it first is fine."""
        if self._ready:
            return
        with self._lock, _translated():
            if self._ready:
                return
            if not self._client.bucket_exists(self._bucket):
                try:
                    self._client.make_bucket(self._bucket, location=self._region)
                except S3Error as exc:
                    if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise
            self._ready = True

    def put(self, key: str, data: bytes, content_type: str = DEFAULT_CONTENT_TYPE) -> ObjectInfo:
        check_key(key)
        payload = check_data(data)
        check_content_type(content_type)
        self.ensure_bucket()
        with _translated(key):
            result = self._client.put_object(
                self._bucket, key, io.BytesIO(payload), len(payload), content_type=content_type
            )
        # A PUT response has no Last-Modified; its Date is the server's time of the write.
        date = result.http_headers.get("date")
        try:
            written = parsedate_to_datetime(date) if date else None
        except (TypeError, ValueError):
            written = None
        return ObjectInfo(
            key=key,
            size=len(payload),
            etag=result.etag or "",
            last_modified=_utc(result.last_modified or written),
            content_type=content_type,
        )

    def get(self, key: str) -> bytes:
        check_key(key)
        self.ensure_bucket()
        with _translated(key):
            response = self._client.get_object(self._bucket, key)
            try:
                return bytes(response.read())
            finally:
                response.close()
                response.release_conn()

    def stat(self, key: str) -> ObjectInfo:
        check_key(key)
        self.ensure_bucket()
        with _translated(key):
            found = self._client.stat_object(self._bucket, key)
        return ObjectInfo(
            key=key,
            size=found.size or 0,
            etag=found.etag or "",
            last_modified=_utc(found.last_modified),
            content_type=found.content_type or DEFAULT_CONTENT_TYPE,
        )

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
        except ObjectNotFound:
            return False
        return True

    def delete(self, key: str) -> None:
        check_key(key)
        self.ensure_bucket()
        with _translated(key):
            self._client.remove_object(self._bucket, key)

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        self.ensure_bucket()
        with _translated():
            for found in self._client.list_objects(self._bucket, prefix=prefix or None, recursive=True):
                if found.is_dir or found.object_name is None:
                    continue
                yield ObjectInfo(
                    key=found.object_name,
                    size=found.size or 0,
                    etag=found.etag or "",
                    last_modified=_utc(found.last_modified),
                    content_type=None,
                )

    def presigned_url(self, key: str, expires_s: int = 3600) -> str | None:
        """A presigned GET for the endpoint the store was built with, which browsers must be able to reach.

        Signing is local (no request), but MinIO asks the server for the bucket's region
        the first time unless ``region`` was given.
        """
        check_key(key)
        expires = timedelta(seconds=check_expires(expires_s))
        with _translated(key):
            return str(self._client.presigned_get_object(self._bucket, key, expires=expires))

    def ping(self) -> bool:
        """Checks (and on first use creates) the bucket, so 'ready' means objects can be written."""
        try:
            self.ensure_bucket()
            with _translated():
                return bool(self._client.bucket_exists(self._bucket))
        except StorageError:
            return False
