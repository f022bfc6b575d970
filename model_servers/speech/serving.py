"""The serving class: one recogniser and one synthesiser, and the checks in front of them.

The language is checked before the audio is decoded, so a request the recogniser cannot serve is
refused at once rather than after seconds of decoding. Engine calls block (PocketSphinx decodes,
espeak-ng runs as a process); the router runs them in a thread pool, and the engines themselves
are safe to call from several threads at once.
"""

from __future__ import annotations

import logging

from model_servers.speech.audio import decode
from model_servers.speech.engine import (
    PCM,
    Recognition,
    SpeechError,
    SpeechRecognizer,
    SpeechSynthesizer,
    require_language,
    transcribe,
)
from model_servers.speech.protocol import DEFAULT_MAX_SECONDS

logger = logging.getLogger(__name__)


def normalise_language(language: str) -> str:
    """``en-US`` and ``EN`` mean ``en``: clients send locale tags where Whisper expects ISO 639-1."""
    return language.strip().lower().replace("_", "-").split("-", 1)[0]


class SpeechServing:
    def __init__(
        self,
        recognizer: SpeechRecognizer,
        synthesizer: SpeechSynthesizer,
        *,
        max_seconds: float = DEFAULT_MAX_SECONDS,
    ) -> None:
        if max_seconds <= 0:
            raise ValueError("max_seconds must be positive")
        self.recognizer = recognizer
        self.synthesizer = synthesizer
        self.max_seconds = max_seconds

    @property
    def asr_name(self) -> str:
        return self.recognizer.name

    @property
    def tts_name(self) -> str:
        return self.synthesizer.name

    def transcribe(self, data: bytes, language: str) -> Recognition:
        """Raises ``SpeechError`` for a language the recogniser lacks, ``AudioError`` for unusable audio."""
        language = normalise_language(language)
        require_language(self.recognizer.name, self.recognizer.languages, language)
        clip = decode(data, max_seconds=self.max_seconds)
        recognition = transcribe(self.recognizer, clip.pcm, language)
        logger.debug(
            "transcribed %.2f s of %s audio (from %d Hz, %d channels)",
            clip.duration_s,
            language,
            clip.source_rate,
            clip.channels,
        )
        return recognition

    def speech_language(self, voice: str, language: str | None) -> str:
        """The language to speak in: the explicit one, else the one the voice is named after."""
        if language:
            return normalise_language(language)
        wanted = voice.strip().lower()
        for known in sorted(self.synthesizer.languages, key=len, reverse=True):
            if wanted.startswith(known):
                return known
        raise SpeechError(
            f"voice {voice!r} names no language {self.synthesizer.name} speaks "
            f"(use one of {', '.join(sorted(self.synthesizer.languages))}, or set `language`)",
            code="unsupported_language",
        )

    def synthesize(self, text: str, language: str) -> tuple[PCM, int]:
        return self.synthesizer.synthesize(text, language)

    def close(self) -> None:
        """Give back what the engines hold (the HTTP clients' connections, when the engines are remote)."""
        for engine in (self.recognizer, self.synthesizer):
            close = getattr(engine, "close", None)
            if callable(close):
                try:
                    close()
                except Exception:
                    logger.warning("closing %s failed", engine.name, exc_info=True)
