"""The speech server's wire format: OpenAI's audio endpoints, the subset the assistant needs.

Shaped after OpenAI's (and vLLM's) ``/v1/audio/transcriptions`` and ``/v1/audio/speech`` so that
``model_servers.speech.client`` talks to this server, to vLLM serving Whisper and to any
OpenAI-compatible voice server alike. Refusals carry ``{code, detail}`` like the other model
servers, so a client can tell "not a language I know" from a failure worth retrying.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

TRANSCRIPTIONS_PATH = "/v1/audio/transcriptions"
SPEECH_PATH = "/v1/audio/speech"
#: The rate of a ``pcm`` answer, which has no header of its own to say it.
SAMPLE_RATE_HEADER = "X-Sample-Rate"
#: The largest upload read: two minutes of 48 kHz stereo WAV, with room to spare.
MAX_UPLOAD_BYTES = 32 * 1024 * 1024
#: OpenAI's own limit on ``input``.
MAX_INPUT_CHARS = 4096
DEFAULT_MAX_SECONDS = 120.0

TranscriptionFormat = Literal["json", "text", "verbose_json"]
SpeechFormat = Literal["wav", "pcm"]


class Transcription(BaseModel):
    text: str


class VerboseTranscription(BaseModel):
    task: Literal["transcribe"] = "transcribe"
    language: str
    #: Seconds of audio heard.
    duration: float
    text: str


class SpeechRequest(BaseModel):
    # OpenAI clients send fields this server has no use for (``speed``, ``instructions``); they
    # are ignored rather than refused, so those clients work unchanged.
    model_config = ConfigDict(extra="ignore")

    model: str = ""
    input: str = Field(min_length=1, max_length=MAX_INPUT_CHARS)
    #: A language (``en``, ``zh``) or a voice named after one (``en-us``, ``zh_female``).
    voice: str = "en"
    response_format: SpeechFormat = "wav"
    #: Overrides the language the voice implies.
    language: str | None = None


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    owned_by: str = "innovation-kun"
    #: What the model is for here: ``transcription`` (speech to text) or ``speech`` (text to speech).
    task: Literal["transcription", "speech"]


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class Health(BaseModel):
    status: str
    asr: str
    tts: str
    asr_languages: list[str]
    tts_languages: list[str]
    max_seconds: float
