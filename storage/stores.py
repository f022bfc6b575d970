"""All stores of one process, built together from the settings.

The API's lifespan, workers, evaluation runs and tests build a ``Stores`` once
and pass it down; nothing else constructs adapters, so the backend switch in the
settings is the only thing that decides embedded versus production.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from core.config import Settings
from storage.cache import Cache, build_cache
from storage.events import EventBus, build_event_bus
from storage.objects import ObjectStore, build_object_store
from storage.sql import Database, build_database
from storage.vectors import VectorStore, build_vector_store

logger = logging.getLogger(__name__)


@dataclass
class Stores:
    db: Database
    cache: Cache
    objects: ObjectStore
    events: EventBus
    vectors: VectorStore

    def check(self) -> dict[str, dict[str, Any]]:
        """Ping every store; each entry says ok, how long it took, and the error if any."""
        results: dict[str, dict[str, Any]] = {}
        for name, ping in (
            ("sql", self.db.ping),
            ("cache", self.cache.ping),
            ("objects", self.objects.ping),
            ("events", self.events.ping),
            ("vectors", self.vectors.ping),
        ):
            started = time.perf_counter()
            try:
                ok, error = bool(ping()), None
            except Exception as exc:  # a readiness probe reports failures, it does not raise them
                ok, error = False, f"{type(exc).__name__}: {exc}"
            results[name] = {"ok": ok, "ms": round((time.perf_counter() - started) * 1000, 1)}
            if error:
                results[name]["error"] = error
        return results

    def close(self) -> None:
        for name, closer in (
            ("vectors", self.vectors.close),
            ("events", self.events.close),
            ("cache", self.cache.close),
            ("sql", self.db.close),
        ):
            try:
                closer()
            except Exception:
                logger.exception("closing a store failed", extra={"store": name})


def build_stores(settings: Settings, *, migrate: bool = True) -> Stores:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = build_database(settings)
    if migrate:
        db.migrate()
    return Stores(
        db=db,
        cache=build_cache(settings),
        objects=build_object_store(settings),
        events=build_event_bus(settings),
        vectors=build_vector_store(settings),
    )
