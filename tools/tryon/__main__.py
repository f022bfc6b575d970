"""``python -m tools.tryon worker``: a try-on worker process (production runs several).

It consumes ``tryon-task-queue`` as the ``tryon-workers`` group with the stores and engine the
settings name (``IK_TRYON__ENGINE``), and stops cleanly on SIGINT/SIGTERM: the job in hand is
finished or, if the process is killed, handed out again by the bus.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Sequence

from core.config import get_settings
from core.logging import configure_logging
from storage.stores import build_stores
from tools.catalog.service import CatalogService
from tools.tryon.runtime import open_tryon, open_worker
from tools.wardrobe.runtime import open_wardrobe

logger = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.tryon", description=__doc__)
    parser.add_argument("command", choices=["worker"])
    parser.parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    stores = build_stores(settings)
    try:
        wardrobe, _ = open_wardrobe(settings, stores)
        service = open_tryon(settings, stores, CatalogService(stores.db, settings.catalog), wardrobe)
        worker = open_worker(settings, stores, service)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        logger.info("try-on worker started", extra={"engine": worker.engine.name})
        worker.run_until(stop)
    finally:
        stores.close()


if __name__ == "__main__":
    main()
