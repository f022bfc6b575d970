"""The API on a loopback port in a background thread, for browser tests and the web benchmark.

In-process so the caller can still reach ``app.state`` (seed data, read what a page left behind);
a real socket so a real browser can connect.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serving(app: FastAPI, *, start_timeout_s: float = 180.0) -> Iterator[str]:
    """Run ``app`` until the block ends; yields its base URL once the lifespan has finished starting."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="api-background", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the API stopped while starting (see its log above)")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise TimeoutError(f"the API did not start within {start_timeout_s:.0f} s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
