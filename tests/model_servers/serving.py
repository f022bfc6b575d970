"""A model server's app run by uvicorn on a free loopback port, for clients that speak real HTTP."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

#: How long a lifespan may take to build its engines before the test gives up.
STARTUP_TIMEOUT_S = 60.0


@contextlib.contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` until the block ends; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    # The lifespan builds the engines (decoders, VAD, voices); on a loaded two-core CI machine that
    # has taken over 10 s, so wait generously but stop at once if the server thread died.
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert thread.is_alive(), "the server stopped while starting (its lifespan failed; see the log)"
    assert server.started, f"the server did not start within {STARTUP_TIMEOUT_S:.0f} s"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()


def free_port() -> int:
    """A port nothing listens on (for clients that must find the server down)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
