"""``python -m tools.imagegen worker``: outfit-picture workers as a process of their own.

The API runs these workers on threads when ``IK_IMAGEGEN__WORKER_IN_PROCESS`` is true (the
embedded default). A deployment that scales them apart from the API sets it to false and runs this
instead: ``IK_IMAGEGEN__WORKERS`` threads consuming ``image-generation-tasks`` as the
``image-workers`` group, calling the text-to-image server at ``IK_IMAGEGEN__MODEL_SERVER_URL``.
It stops cleanly on SIGINT/SIGTERM, like ``python -m tools.tryon worker``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from core.config import Settings, get_settings
from core.logging import configure_logging
from storage.stores import Stores
from tools.catalog.service import CatalogService
from tools.imagegen.runtime import open_image_workers, open_imagegen
from tools.imagegen.worker import ImageGenWorker
from tools.wardrobe.runtime import open_wardrobe
from tools.worker_process import run_workers

logger = logging.getLogger(__name__)


def _workers(settings: Settings, stores: Stores) -> list[ImageGenWorker]:
    wardrobe, _ = open_wardrobe(settings, stores)
    service = open_imagegen(settings, stores, CatalogService(stores.db, settings.catalog), wardrobe)
    return open_image_workers(settings, stores, service)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.imagegen", description=__doc__)
    parser.add_argument("command", choices=["worker"])
    parser.parse_args(argv)
    settings = get_settings()
    if settings.imagegen.engine != "model_server":
        configure_logging(settings.log_level, json_lines=settings.log_json)
        logger.error("IK_IMAGEGEN__ENGINE is not model_server: there is no image job to take")
        return 2
    run_workers("image-worker", settings, _workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
