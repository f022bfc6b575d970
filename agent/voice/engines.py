"""The speech engines a deployment uses, chosen by settings, and the embedded recogniser's domain model."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from agent.router import INTENT_DATA_DIR
from core.config import Settings
from core.datasets import catalog_file
from model_servers.speech.engine import SpeechRecognizer, SpeechSynthesizer
from model_servers.speech.lm import build_arpa, in_vocabulary_runs, spoken_words
from model_servers.speech.vad import SileroVad

logger = logging.getLogger(__name__)

#: Bumped when the corpus or the estimator changes, so an old model file is not reused.
LM_VERSION = 1


@dataclass
class SpeechEngines:
    recognizer: SpeechRecognizer
    synthesizer: SpeechSynthesizer
    vad: SileroVad

    def close(self) -> None:
        for engine in (self.recognizer, self.synthesizer):
            close = getattr(engine, "close", None)
            if close is not None:
                close()


def _domain_sources(settings: Settings) -> list[Path]:
    return [INTENT_DATA_DIR / "train.jsonl", catalog_file(settings)]


def domain_sentences(settings: Settings, vocabulary: frozenset[str]) -> Iterator[list[str]]:
    """How people talk to the assistant (the router's English training sentences: the training split
    only, the evaluation's utterances are not in it) and what the shop sells (product names)."""
    intents, catalog = _domain_sources(settings)
    with intents.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if row.get("lang") == "en":
                yield from in_vocabulary_runs(spoken_words(row["text"]), vocabulary)
    with gzip.open(catalog, "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            name = row.get("productDisplayName") or ""
            yield from in_vocabulary_runs(spoken_words(name), vocabulary)


def domain_lm(settings: Settings) -> Path:
    """The domain model's file, built if this version of its sources has none yet."""
    from model_servers.speech.pocketsphinx_engine import dictionary_words

    digest = hashlib.sha256(f"v{LM_VERSION}".encode())
    for source in _domain_sources(settings):
        digest.update(source.read_bytes())
    path = settings.speech.lm_dir / f"domain-en-{digest.hexdigest()[:16]}.arpa"
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    arpa = build_arpa(domain_sentences(settings, dictionary_words()))
    # Written beside and renamed, so a process starting at the same time never reads half a file.
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as out:
        out.write(arpa)
    os.replace(out.name, path)
    logger.info("built the speech domain language model", extra={"path": str(path)})
    return path


def open_recognizer(settings: Settings) -> SpeechRecognizer:
    speech = settings.speech
    if speech.asr == "server":
        from model_servers.speech.client import HttpRecognizer

        assert speech.asr_url is not None  # the settings' validator
        return HttpRecognizer(
            speech.asr_url,
            speech.asr_model,
            speech.asr_languages,
            api_key=speech.api_key.get_secret_value() if speech.api_key else None,
            timeout_s=speech.timeout_s,
        )
    if speech.asr == "whisper":
        # imported here: torch and transformers take seconds to import and the embedded path needs neither
        from model_servers.speech.whisper_engine import WhisperRecognizer

        assert speech.whisper_path is not None  # the settings' validator
        return WhisperRecognizer(
            speech.whisper_path, device=speech.whisper_device, languages=speech.asr_languages
        )
    from model_servers.speech.pocketsphinx_engine import PocketSphinxRecognizer

    lm = domain_lm(settings) if speech.asr_lm == "domain" else None
    return PocketSphinxRecognizer(lm, pool_size=speech.asr_pool)


def open_synthesizer(settings: Settings) -> SpeechSynthesizer:
    speech = settings.speech
    if speech.tts == "server":
        from model_servers.speech.client import HttpSynthesizer

        assert speech.tts_url is not None
        return HttpSynthesizer(
            speech.tts_url,
            speech.tts_model,
            {"en": speech.tts_voice_en, "zh": speech.tts_voice_zh},
            api_key=speech.api_key.get_secret_value() if speech.api_key else None,
            timeout_s=speech.timeout_s,
        )
    from model_servers.speech.espeak_engine import EspeakSynthesizer

    return EspeakSynthesizer()


def open_speech(settings: Settings) -> SpeechEngines:
    """Raises ``SpeechError`` when an engine cannot start (espeak-ng missing, a bad model file)."""
    engines = SpeechEngines(open_recognizer(settings), open_synthesizer(settings), SileroVad())
    warm = getattr(engines.recognizer, "warm", None)
    if warm is not None:
        warm()
    return engines


class LazySpeech:
    """The engines, opened on first use: loading a recogniser (and building its language model the
    first time) costs seconds that a server whose users never speak should not pay at start-up."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._engines: SpeechEngines | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> SpeechEngines:
        """Raises ``SpeechError`` when an engine cannot start; the next call tries again."""
        async with self._lock:
            if self._engines is None:
                self._engines = await asyncio.to_thread(open_speech, self._settings)
            return self._engines

    def close(self) -> None:
        if self._engines is not None:
            self._engines.close()
            self._engines = None
