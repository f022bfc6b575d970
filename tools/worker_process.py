"""What the worker commands (``python -m tools.tryon worker``, ``python -m tools.imagegen worker``)
share: logging and tracing set up as the API sets them up, the stores, and worker threads that stop
cleanly on SIGINT/SIGTERM (the job in hand is finished; a killed process's job is handed out again
by the bus)."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

from core.config import Settings
from core.logging import configure_logging
from core.telemetry import setup_tracing, shutdown_tracing
from storage.stores import Stores, build_stores

logger = logging.getLogger(__name__)

#: How long a worker may take to finish the job in hand once told to stop.
STOP_WAIT_S = 30.0


class Worker(Protocol):
    def run_until(self, stop: threading.Event) -> None: ...


def run_workers(
    name: str, settings: Settings, open_workers: Callable[[Settings, Stores], Sequence[Worker]]
) -> None:
    """Run the workers ``open_workers`` builds, one thread each, until SIGINT or SIGTERM.

    Tracing starts from ``IK_TELEMETRY__*`` like the API's, so a worker's calls to the model
    servers carry their own client spans and ``traceparent``.
    """
    configure_logging(settings.log_level, json_lines=settings.log_json)
    provider = setup_tracing(settings)
    stores = build_stores(settings)
    try:
        workers = open_workers(settings, stores)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        threads = [
            threading.Thread(target=worker.run_until, args=(stop,), name=f"{name}-{index}")
            for index, worker in enumerate(workers)
        ]
        for thread in threads:
            thread.start()
        logger.info("%s started", name, extra={"workers": len(threads)})
        stop.wait()
        for thread in threads:
            thread.join(STOP_WAIT_S)
    finally:
        stores.close()
        shutdown_tracing(provider)
