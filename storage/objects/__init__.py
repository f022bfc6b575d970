"""Object storage: the ``ObjectStore`` protocol, its adapters and the settings-driven builder."""

from __future__ import annotations

from core.config import Settings
from storage.errors import InvalidObjectKey, ObjectNotFound
from storage.objects.base import ObjectInfo, ObjectStore, check_key
from storage.objects.local import LocalObjectStore
from storage.objects.s3 import S3ObjectStore

__all__ = [
    "InvalidObjectKey",
    "LocalObjectStore",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStore",
    "S3ObjectStore",
    "build_object_store",
    "check_key",
]


def build_object_store(settings: Settings) -> ObjectStore:
    """The store ``settings.objects.backend`` names; S3 checks (and creates) its bucket on first use."""
    config = settings.objects
    if config.backend == "s3":
        # All three are guaranteed by ObjectSettings validation.
        assert config.s3_endpoint
        assert config.s3_access_key
        assert config.s3_secret_key
        return S3ObjectStore.connect(
            config.s3_endpoint,
            config.s3_access_key,
            config.s3_secret_key.get_secret_value(),
            config.s3_bucket,
            region=config.s3_region,
            secure=config.s3_secure,
        )
    return LocalObjectStore(settings.resolve(config.local_dir))
