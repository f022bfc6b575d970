"""The worker commands' shared process: tracing as the API has it, threads, a clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from core import telemetry
from core.config import Settings
from storage.stores import Stores
from tests.conftest import make_settings
from tools.worker_process import run_workers

pytestmark = pytest.mark.unit


class _Worker:
    """Records what it saw, then asks the process to stop as an orchestrator would (SIGTERM)."""

    def __init__(self, sends_sigterm: bool) -> None:
        self.sends_sigterm = sends_sigterm
        self.traced = False
        self.stopped = False

    def run_until(self, stop: threading.Event) -> None:
        self.traced = telemetry.current_provider() is not None
        if self.sends_sigterm:
            os.kill(os.getpid(), signal.SIGTERM)
        self.stopped = stop.wait(10)


def test_workers_run_traced_on_threads_until_sigterm(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, telemetry={"traces": "console"})
    workers = [_Worker(sends_sigterm=False), _Worker(sends_sigterm=True)]
    seen: list[Stores] = []

    def open_workers(got: Settings, stores: Stores) -> list[_Worker]:
        assert got is settings
        seen.append(stores)
        return workers

    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        run_workers("test-worker", settings, open_workers)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    assert [(w.traced, w.stopped) for w in workers] == [(True, True), (True, True)]
    assert len(seen) == 1
    assert telemetry.current_provider() is None  # tracing was shut down with the process
