"""Start-up and background work of the catalog, shared by the API, the CLI chat and evaluations.

Start-up loads the shipped catalog (idempotent) and the full-text index, which takes
seconds, so search works as soon as the process is ready. Vectors take minutes the
first time (MiniLM on CPU) and come from a cache after that, so they are built on a
background thread; until they are ready, vector and hybrid search answer from the
full-text index and say so (``SearchPage.mode``). A second thread consumes
``inventory-updates`` to keep the indexes and caches current.
"""

from __future__ import annotations

import logging
import threading
import time

from threadpoolctl import ThreadpoolController

from core.config import Settings
from rag.search import build_search_service
from storage.cache.base import Namespaces
from storage.events import Topic
from storage.events.consumer import CacheProcessedIds, Consumer
from storage.stores import Stores
from tools.catalog.service import CatalogService
from tools.catalog.store import CatalogStore

logger = logging.getLogger(__name__)

#: The consumer group that keeps this process's search indexes current.
INDEXER_GROUP = "catalog-indexer"


def open_catalog(settings: Settings, stores: Stores) -> CatalogStore:
    """Blocking: load the catalog if asked, build the search service and fill the full-text index."""
    catalog = CatalogService(stores.db, settings.catalog)
    if settings.catalog.load_on_start:
        started = time.perf_counter()
        report = catalog.load_shipped(settings.catalog_dir, settings.catalog.limit)
        logger.info(
            "catalog loaded",
            extra={
                "inserted": report.inserted,
                "unchanged": report.unchanged,
                "seconds": round(time.perf_counter() - started, 2),
            },
        )
    search = build_search_service(settings, stores.vectors)
    store = CatalogStore(catalog, search, stores.cache, Namespaces.create(stores.cache, settings.cache.ttl))
    started = time.perf_counter()
    marker = settings.resolve(settings.search.sqlite_path).with_suffix(".synced")
    fingerprint = catalog.fingerprint()
    current = marker.is_file() and marker.read_text(encoding="utf-8") == fingerprint
    indexed = search.fulltext.count()
    if current and indexed == catalog.count_products():
        logger.info("full-text index is current", extra={"products": indexed})
        return store
    indexed = store.sync_all()
    marker.write_text(fingerprint, encoding="utf-8")
    logger.info(
        "full-text index ready",
        extra={"products": indexed, "seconds": round(time.perf_counter() - started, 2)},
    )
    return store


class CatalogBackground:
    """The catalog's threads: vector indexing once, and the ``inventory-updates`` consumer."""

    def __init__(self, store: CatalogStore, stores: Stores, settings: Settings) -> None:
        self.store = store
        self._stop = threading.Event()
        processed = CacheProcessedIds.for_group(stores.cache, Topic.INVENTORY_UPDATES.value, INDEXER_GROUP)
        self.consumer = Consumer(
            stores.events,
            Topic.INVENTORY_UPDATES.value,
            INDEXER_GROUP,
            store.on_inventory_event,
            processed=processed,
            max_attempts=settings.events.max_attempts,
            poll_timeout_s=0.5,
        )
        self._threads: list[threading.Thread] = []
        self._semantic = settings.search.semantic and store.search_service.semantic is not None

    def start(self) -> None:
        self._threads.append(
            threading.Thread(target=self.consumer.run_until, args=(self._stop,), daemon=True)
        )
        if self._semantic:
            self._threads.append(threading.Thread(target=self._index_vectors, daemon=True))
        for thread in self._threads:
            thread.start()

    def _index_vectors(self) -> None:
        started = time.perf_counter()
        last_log = [started]

        def progress(done: int) -> None:
            if self._stop.is_set():
                raise _Stopped
            now = time.perf_counter()
            if now - last_log[0] > 30:
                last_log[0] = now
                logger.info("indexing product vectors", extra={"products": done})

        try:
            # One BLAS thread: on a 2-core machine the other core keeps serving requests (and the
            # embedded LLM) while the catalogue is encoded the first time.
            with ThreadpoolController().limit(limits=1, user_api="blas"):
                done = self.store.index_semantic(progress)
        except _Stopped:
            return
        except Exception:
            logger.exception("vector indexing failed; search stays full-text only")
            return
        logger.info(
            "vector index ready",
            extra={"products": done, "seconds": round(time.perf_counter() - started, 1)},
        )

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout_s)


class _Stopped(Exception):
    """Raised from the progress callback to end vector indexing at shutdown."""
