"""HTTP routes of the speech server, and the status each refusal gets.

A refusal is answered as ``{code, detail}`` with the status the API itself would give (413 too
long, 415 not audio, 422 anything else the caller must change), so a client retries only what is
worth retrying: 503 when an engine is down.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from model_servers.errors import ErrorBody, add_coded_error_handler
from model_servers.speech.audio import AudioError, to_wav
from model_servers.speech.engine import SpeechError
from model_servers.speech.protocol import (
    MAX_UPLOAD_BYTES,
    SAMPLE_RATE_HEADER,
    SPEECH_PATH,
    TRANSCRIPTIONS_PATH,
    Health,
    ModelCard,
    ModelList,
    SpeechRequest,
    Transcription,
    TranscriptionFormat,
    VerboseTranscription,
)
from model_servers.speech.serving import SpeechServing

router = APIRouter()

_AUDIO_STATUS = {"unreadable": 415, "too_long": 413, "empty": 422, "unsupported_rate": 422}
_SPEECH_STATUS = {"unsupported_language": 422, "bad_request": 422, "unavailable": 503}
_REFUSALS: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorBody, "description": "The recording is longer than the server takes"},
    415: {"model": ErrorBody, "description": "Not audio the server can decode"},
    422: {"model": ErrorBody, "description": "A language the engine lacks, or empty audio"},
    503: {"model": ErrorBody, "description": "The engine is unavailable; worth retrying"},
}


def _serving(request: Request) -> SpeechServing:
    serving: SpeechServing = request.app.state.serving
    return serving


@router.get("/health")
def health(request: Request) -> Health:
    serving = _serving(request)
    return Health(
        status="ok",
        asr=serving.asr_name,
        tts=serving.tts_name,
        asr_languages=sorted(serving.recognizer.languages),
        tts_languages=sorted(serving.synthesizer.languages),
        max_seconds=serving.max_seconds,
    )


@router.get("/v1/models")
def models(request: Request) -> ModelList:
    serving = _serving(request)
    return ModelList(
        data=[
            ModelCard(id=serving.asr_name, task="transcription"),
            ModelCard(id=serving.tts_name, task="speech"),
        ]
    )


@router.post(
    TRANSCRIPTIONS_PATH,
    response_model=Transcription | VerboseTranscription,
    responses={200: {"content": {"text/plain": {}}}, **_REFUSALS},
    max_body_size=MAX_UPLOAD_BYTES + 64 * 1024,
)
async def create_transcription(
    request: Request,
    file: Annotated[UploadFile, File()],
    model: Annotated[str, Form()] = "",
    language: Annotated[str, Form()] = "en",
    response_format: Annotated[TranscriptionFormat, Form()] = "json",
) -> Response:
    """``model`` is accepted for OpenAI clients' sake; the server has one recogniser."""
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise AudioError("too_long", f"the upload is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB")
    recognition = await run_in_threadpool(_serving(request).transcribe, data, language)
    if response_format == "text":
        return PlainTextResponse(recognition.text)
    if response_format == "verbose_json":
        body: Transcription | VerboseTranscription = VerboseTranscription(
            language=recognition.language, duration=round(recognition.duration_s, 3), text=recognition.text
        )
    else:
        body = Transcription(text=recognition.text)
    return JSONResponse(body.model_dump())


@router.post(
    SPEECH_PATH,
    response_class=Response,
    responses={200: {"content": {"audio/wav": {}, "audio/pcm": {}}}, **_REFUSALS},
)
async def create_speech(request: Request, body: SpeechRequest) -> Response:
    serving = _serving(request)
    language = serving.speech_language(body.voice, body.language)
    started = time.perf_counter()
    pcm, rate = await run_in_threadpool(serving.synthesize, body.input, language)
    headers = {
        SAMPLE_RATE_HEADER: str(rate),
        "X-Speech-Engine": serving.tts_name,
        "X-Speech-Ms": f"{(time.perf_counter() - started) * 1000:.0f}",
    }
    if body.response_format == "pcm":
        return Response(pcm.astype("<i2").tobytes(), media_type="audio/pcm", headers=headers)
    wav = await run_in_threadpool(to_wav, pcm, rate)
    return Response(wav, media_type="audio/wav", headers=headers)


def add_speech_handlers(app: FastAPI) -> None:
    add_coded_error_handler(app, AudioError, _AUDIO_STATUS)
    add_coded_error_handler(app, SpeechError, _SPEECH_STATUS, default=503)
