"""Speech engines behind HTTP: any OpenAI-compatible audio server used as if it were embedded.

vLLM serving Whisper, ``python -m model_servers.speech``, or a hosted OpenAI-compatible voice all
speak ``/v1/audio/transcriptions`` and ``/v1/audio/speech``, so ``HttpRecognizer`` and
``HttpSynthesizer`` implement the engine protocols once and the rest of the system never learns
which it talks to. Failures become ``SpeechError``: ``unsupported_language`` (tell the person),
``bad_request`` (our request was wrong; retrying will not help) or ``unavailable`` (down, timed
out, or a server error; worth retrying or falling back).

The clients are synchronous because engines are called from worker threads; one ``httpx.Client``
per engine is shared by those threads, which httpx allows.
"""

from __future__ import annotations

import io
import wave
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any, Self

import httpx
import numpy as np

from core.telemetry import TracedTransport
from model_servers.http_errors import quote, server_error
from model_servers.speech.audio import pcm_from_bytes, to_wav
from model_servers.speech.engine import PCM, SAMPLE_RATE, Recognition, SpeechError, require_language

#: How much of a server's error body a message quotes.
_QUOTE_CHARS = 300


class _HttpEngine:
    """The connection and the error mapping both clients share."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None,
        timeout_s: float,
        transport: httpx.BaseTransport | None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout_s = timeout_s
        self.name = f"server:{model}"
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(
            base_url=self.base_url + "/",
            headers=headers,
            timeout=httpx.Timeout(timeout_s),
            # a client span and a traceparent header per request while tracing is on
            transport=TracedTransport(transport, "speech"),
        )

    def _post(self, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.post(path, **kwargs)
        except httpx.TimeoutException as exc:
            raise SpeechError(
                f"the speech server at {self.base_url} timed out after {self.timeout_s:g} s"
            ) from exc
        except httpx.HTTPError as exc:
            raise SpeechError(f"cannot reach the speech server at {self.base_url}: {exc!r}") from exc
        if response.is_success:
            return response
        code, message = server_error(response, limit=_QUOTE_CHARS)
        explanation = f"the speech server answered HTTP {response.status_code}: {message}"
        if response.is_client_error and response.status_code not in (408, 429):
            if code == "unsupported_language":
                raise SpeechError(explanation, code="unsupported_language")
            raise SpeechError(explanation, code="bad_request")
        raise SpeechError(explanation, code="unavailable")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class HttpRecognizer(_HttpEngine):
    """Transcription by ``POST {base_url}/audio/transcriptions``; ``base_url`` ends in ``/v1``.

    ``languages`` are those the deployment promises (Whisper: many; this project's server with
    PocketSphinx: ``en``); others are refused before any request, as the embedded engine does.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        languages: Iterable[str],
        *,
        api_key: str | None = None,
        timeout_s: float = 20.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(base_url, model, api_key=api_key, timeout_s=timeout_s, transport=transport)
        self.languages = frozenset(languages)

    def stream(self, language: str) -> HttpRecognitionStream:
        require_language(self.name, self.languages, language)
        return HttpRecognitionStream(self, language)

    def recognize(self, pcm: PCM, language: str) -> Recognition:
        """One whole utterance of 16 kHz mono PCM."""
        duration_s = len(pcm) / SAMPLE_RATE
        if len(pcm) == 0:
            # Nothing said: what the embedded engine answers, without a request the server would refuse.
            return Recognition("", language, self.name, 0.0, None)
        response = self._post(
            "audio/transcriptions",
            files={"file": ("utterance.wav", to_wav(pcm, SAMPLE_RATE), "audio/wav")},
            data={"model": self.model, "language": language, "response_format": "json"},
        )
        try:
            body = response.json()
            text = body["text"]
        except (ValueError, KeyError, TypeError):
            raise SpeechError(
                f"the speech server sent an unexpected transcription: {quote(response.text, _QUOTE_CHARS)}"
            ) from None
        if not isinstance(text, str):
            raise SpeechError(
                f"the speech server sent an unexpected transcription: {quote(response.text, _QUOTE_CHARS)}"
            )
        return Recognition(" ".join(text.split()), language, self.name, duration_s, None)


class HttpRecognitionStream:
    """Collects the utterance; a server transcribes whole recordings, so the request waits for
    ``finish``."""

    def __init__(self, engine: HttpRecognizer, language: str) -> None:
        self._engine = engine
        self._language = language
        self._chunks: list[PCM] = []

    def feed(self, pcm: PCM) -> None:
        if len(pcm):
            self._chunks.append(np.asarray(pcm, dtype=np.int16))

    def finish(self) -> Recognition:
        chunks, self._chunks = self._chunks, []
        pcm = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
        return self._engine.recognize(pcm, self._language)

    def close(self) -> None:
        self._chunks = []


class HttpSynthesizer(_HttpEngine):
    """Speech by ``POST {base_url}/audio/speech``, WAV back; ``voices`` maps each language the
    deployment speaks to the server's voice for it (``{"en": "en", "zh": "zh"}`` for this project's
    server, Piper or OpenAI voice names elsewhere)."""

    def __init__(
        self,
        base_url: str,
        model: str,
        voices: Mapping[str, str],
        *,
        api_key: str | None = None,
        timeout_s: float = 20.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(base_url, model, api_key=api_key, timeout_s=timeout_s, transport=transport)
        self.voices = dict(voices)
        self.languages = frozenset(self.voices)

    def synthesize(self, text: str, language: str) -> tuple[PCM, int]:
        require_language(self.name, self.languages, language)
        if not text.strip():
            return np.zeros(0, np.int16), SAMPLE_RATE
        response = self._post(
            "audio/speech",
            json={
                "model": self.model,
                "input": text,
                "voice": self.voices[language],
                "response_format": "wav",
            },
        )
        return _read_wav(response.content)


def _read_wav(data: bytes) -> tuple[PCM, int]:
    try:
        with wave.open(io.BytesIO(data)) as reader:
            rate, channels, width = reader.getframerate(), reader.getnchannels(), reader.getsampwidth()
            # Streaming writers leave the frame count unset; read to the end.
            raw = reader.readframes(2**31 - 1)
    except (wave.Error, EOFError) as exc:
        raise SpeechError(f"the speech server sent audio that is not WAV ({exc})") from None
    if width != 2:
        raise SpeechError(f"the speech server sent {8 * width}-bit audio; 16-bit WAV is expected")
    pcm = pcm_from_bytes(raw)
    if channels > 1:
        usable = len(pcm) - len(pcm) % channels
        pcm = pcm[:usable].reshape(-1, channels).astype(np.int32).mean(axis=1).astype(np.int16)
    return pcm, rate
