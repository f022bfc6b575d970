"""The try-on server's FastAPI application."""

from __future__ import annotations

from fastapi import FastAPI

from model_servers.errors import add_refusal_handlers
from model_servers.serve import app_telemetry
from model_servers.tryon.router import router
from model_servers.tryon.serving import TryOnServing
from tools.tryon.engine import TryOnEngine


def create_app(
    engine: TryOnEngine | None = None, *, max_batch: int = 1, max_wait_ms: float = 10.0
) -> FastAPI:
    """A server for ``engine``; by default the embedded geometric CPU engine.

    A GPU deployment passes its diffusion engine here; the wire protocol, and so the API's
    ``HttpTryOnEngine``, stay the same.
    """
    if engine is None:
        from tools.tryon.geometric import GeometricEngine

        engine = GeometricEngine()
    app = FastAPI(title="Innovation-kun try-on server", version="0.1.0", telemetry=app_telemetry())
    app.state.serving = TryOnServing(engine, max_batch=max_batch, max_wait_ms=max_wait_ms)
    app.include_router(router)
    add_refusal_handlers(app)
    return app
