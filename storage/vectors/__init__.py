"""Vector store: the ``VectorStore`` protocol, the Milvus adapter and the settings-driven builder."""

from __future__ import annotations

from core.config import Settings
from storage.errors import CollectionConflict, CollectionNotFound, DimensionMismatch
from storage.vectors.base import Metric, VectorHit, VectorRecord, VectorStore
from storage.vectors.milvus import MilvusVectorStore

__all__ = [
    "CollectionConflict",
    "CollectionNotFound",
    "DimensionMismatch",
    "Metric",
    "MilvusVectorStore",
    "VectorHit",
    "VectorRecord",
    "VectorStore",
    "build_vector_store",
]


def build_vector_store(settings: Settings) -> VectorStore:
    """Milvus Lite or a Milvus server, as ``settings.vectors`` says; connects on first use."""
    token = settings.vectors.token.get_secret_value() if settings.vectors.token else None
    return MilvusVectorStore(settings.vectors_uri, token=token)
