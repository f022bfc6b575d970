"""What a speech engine is to the rest of the system, whichever engine it is.

Recognisers take 16 kHz mono 16-bit PCM, fed as it arrives (the embedded engine decodes while the
person is still speaking, so little is left to do when they stop) and finished once per utterance.
Synthesisers turn one sentence at a time into PCM at their own rate: a reply is spoken sentence by
sentence so its first sentence plays while the rest is still being written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
from numpy.typing import NDArray

#: The rate every recogniser and the voice activity detector work at.
SAMPLE_RATE = 16_000

PCM = NDArray[np.int16]
Language = Literal["en", "zh"]

ErrorCode = Literal["unsupported_language", "unavailable", "bad_request"]


class SpeechError(Exception):
    """An engine that cannot serve this request: a language it lacks, a missing program, a server
    that is down. ``code`` tells a caller whether to say so (``unsupported_language``) or retry."""

    def __init__(self, message: str, *, code: ErrorCode = "unavailable") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Recognition:
    text: str
    language: str
    engine: str
    #: Seconds of audio the engine heard.
    duration_s: float
    #: The engine's own posterior for the whole hypothesis (0–1), where it gives one.
    confidence: float | None = None


class RecognitionStream(Protocol):
    def feed(self, pcm: PCM) -> None: ...

    def finish(self) -> Recognition:
        """The hypothesis for everything fed; the stream is spent afterwards."""
        ...

    def close(self) -> None:
        """Give the stream's resources back without a result (the person hung up)."""
        ...


class SpeechRecognizer(Protocol):
    name: str
    languages: frozenset[str]

    def stream(self, language: str) -> RecognitionStream:
        """A new utterance; raises ``SpeechError`` (``unsupported_language``) for a language it lacks."""
        ...


class SpeechSynthesizer(Protocol):
    name: str
    languages: frozenset[str]

    def synthesize(self, text: str, language: str) -> tuple[PCM, int]:
        """The sentence as mono PCM and its sample rate."""
        ...


def transcribe(recognizer: SpeechRecognizer, pcm: PCM, language: str) -> Recognition:
    """A whole recording at once."""
    stream = recognizer.stream(language)
    try:
        stream.feed(pcm)
        return stream.finish()
    finally:
        stream.close()


def require_language(engine: str, languages: frozenset[str], language: str) -> None:
    if language not in languages:
        raise SpeechError(
            f"{engine} does not handle language {language!r} (it handles {', '.join(sorted(languages))})",
            code="unsupported_language",
        )
