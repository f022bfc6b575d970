"""The text-to-image server's FastAPI application."""

from __future__ import annotations

from fastapi import FastAPI

from model_servers.imagegen.pipeline import TextToImage
from model_servers.imagegen.router import add_exception_handlers, router
from model_servers.imagegen.serving import ImageGenServing
from model_servers.serve import app_telemetry


def create_app(pipeline: TextToImage, *, max_batch: int = 1, max_wait_ms: float = 10.0) -> FastAPI:
    """A server for ``pipeline``; the caller builds it (real weights, or random for tests),
    because there is no useful CPU default for text-to-image."""
    app = FastAPI(title="Innovation-kun text-to-image server", version="0.1.0", telemetry=app_telemetry())
    app.state.serving = ImageGenServing(pipeline, max_batch=max_batch, max_wait_ms=max_wait_ms)
    app.include_router(router)
    add_exception_handlers(app)
    return app
