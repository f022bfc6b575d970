"""The vision server's FastAPI application."""

from __future__ import annotations

from fastapi import FastAPI

from model_servers.errors import add_refusal_handlers
from model_servers.serve import app_telemetry
from model_servers.vision.router import router
from model_servers.vision.serving import VisionServing
from tools.wardrobe.segment import Segmenter, default_segmenter


def create_app(segmenter: Segmenter | None = None, name: str = "embedded") -> FastAPI:
    """A server for ``segmenter`` (by default the embedded GrabCut + MediaPipe one).

    A deployment with a stronger segmentation model passes it here; the wire protocol, and so the
    API's ``HttpSegmenter``, stay the same.
    """
    app = FastAPI(title="Innovation-kun vision server", version="0.1.0", telemetry=app_telemetry())
    app.state.serving = VisionServing(segmenter or default_segmenter(), name)
    app.include_router(router)
    add_refusal_handlers(app)
    return app
