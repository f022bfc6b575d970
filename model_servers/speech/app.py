"""The speech server's FastAPI application.

Engines passed in are served as they are (tests share them across apps, a deployment may pass
others); otherwise the embedded ones are built once, in the lifespan, so ``/health`` answering
means the first request will not wait for a decoder to load.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from model_servers.serve import app_telemetry
from model_servers.speech.engine import SpeechRecognizer, SpeechSynthesizer
from model_servers.speech.protocol import DEFAULT_MAX_SECONDS
from model_servers.speech.router import add_speech_handlers, router
from model_servers.speech.serving import SpeechServing

logger = logging.getLogger(__name__)


def embedded_serving(
    *, max_seconds: float = DEFAULT_MAX_SECONDS, lm_path: Path | None = None, asr_pool: int = 2
) -> SpeechServing:
    """PocketSphinx and espeak-ng, with one decoder loaded ahead of the first request."""
    from model_servers.speech.espeak_engine import EspeakSynthesizer
    from model_servers.speech.pocketsphinx_engine import PocketSphinxRecognizer

    recognizer = PocketSphinxRecognizer(lm_path, pool_size=asr_pool)
    recognizer.warm()
    return SpeechServing(recognizer, EspeakSynthesizer(), max_seconds=max_seconds)


def create_app(
    recognizer: SpeechRecognizer | None = None,
    synthesizer: SpeechSynthesizer | None = None,
    *,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    lm_path: Path | None = None,
    asr_pool: int = 2,
) -> FastAPI:
    """A server for ``recognizer`` and ``synthesizer``, or, when neither is given, the embedded pair.

    ``lm_path`` and ``asr_pool`` configure the embedded PocketSphinx recogniser only.
    """
    if (recognizer is None) != (synthesizer is None):
        raise ValueError("pass both engines, or neither for the embedded ones")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if recognizer is not None:
            yield
            return
        serving = await asyncio.to_thread(
            embedded_serving, max_seconds=max_seconds, lm_path=lm_path, asr_pool=asr_pool
        )
        logger.info(
            "speech server ready: %s (%s), %s (%s), at most %g s a recording",
            serving.asr_name,
            ", ".join(sorted(serving.recognizer.languages)),
            serving.tts_name,
            ", ".join(sorted(serving.synthesizer.languages)),
            max_seconds,
        )
        app.state.serving = serving
        try:
            yield
        finally:
            serving.close()

    app = FastAPI(
        title="Innovation-kun speech server",
        summary="OpenAI-compatible transcriptions and speech on the embedded engines",
        version="0.1.0",
        lifespan=lifespan,
        telemetry=app_telemetry(),
    )
    if recognizer is not None and synthesizer is not None:
        # Set now, not in the lifespan: httpx's ASGITransport does not run lifespans.
        app.state.serving = SpeechServing(recognizer, synthesizer, max_seconds=max_seconds)
    app.include_router(router)
    add_speech_handlers(app)
    return app
