"""``python -m tools.tryon worker``: a try-on worker process (production runs several).

It consumes ``tryon-task-queue`` as the ``tryon-workers`` group with the stores and engine the
settings name (``IK_TRYON__ENGINE``), and stops cleanly on SIGINT/SIGTERM: the job in hand is
finished or, if the process is killed, handed out again by the bus.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from core.config import Settings, get_settings
from storage.stores import Stores
from tools.catalog.service import CatalogService
from tools.tryon.runtime import open_tryon, open_worker
from tools.tryon.worker import TryOnWorker
from tools.wardrobe.runtime import open_wardrobe
from tools.worker_process import run_workers

logger = logging.getLogger(__name__)


def _workers(settings: Settings, stores: Stores) -> list[TryOnWorker]:
    wardrobe, _ = open_wardrobe(settings, stores)
    service = open_tryon(settings, stores, CatalogService(stores.db, settings.catalog), wardrobe)
    worker = open_worker(settings, stores, service)
    logger.info("try-on engine", extra={"engine": worker.engine.name})
    return [worker]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.tryon", description=__doc__)
    parser.add_argument("command", choices=["worker"])
    parser.parse_args(argv)
    run_workers("tryon-worker", get_settings(), _workers)


if __name__ == "__main__":
    main()
