"""The embedded recogniser: PocketSphinx 5 with the US English acoustic model inside its wheel.

It recognises English only; Chinese needs the Whisper server (``IK_SPEECH__ASR=server``), and a
Chinese request here is answered with ``SpeechError(code="unsupported_language")`` so the person is
told, rather than transcribed as English noise.

A decoder takes ~0.4 s to load and is not thread-safe, so a small pool of them is kept; a stream
holds one from its first sample to ``finish``, decoding as the audio arrives.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from pathlib import Path
from typing import Any

from model_servers.speech.engine import PCM, SAMPLE_RATE, Recognition, SpeechError, require_language


def dictionary_words() -> frozenset[str]:
    """Every word the bundled pronunciation dictionary has (variants such as ``read(2)`` folded)."""
    import pocketsphinx

    path = Path(pocketsphinx.get_model_path()) / "en-us" / "cmudict-en-us.dict"
    words = set()
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            word = line.split(" ", 1)[0]
            words.add(word.split("(", 1)[0])
    return frozenset(words)


#: How long an utterance waits for a free decoder before the person is told recognition is busy.
_WAIT_S = 20.0


class PocketSphinxRecognizer:
    name = "pocketsphinx"
    languages = frozenset({"en"})

    def __init__(self, lm_path: Path | None = None, *, pool_size: int = 2) -> None:
        """``lm_path``: an ARPA (or binary) language model to use instead of the general one."""
        self.lm_path = lm_path
        self._pool: queue.LifoQueue[Any] = queue.LifoQueue()
        self._created = 0
        self._pool_size = pool_size
        self._lock = threading.Lock()

    def _decoder(self) -> Any:
        from pocketsphinx import Decoder

        options: dict[str, Any] = {"samprate": SAMPLE_RATE, "loglevel": "FATAL"}
        if self.lm_path is not None:
            options["lm"] = str(self.lm_path)
        try:
            return Decoder(**options)
        except (RuntimeError, ValueError) as exc:
            raise SpeechError(f"PocketSphinx could not start: {exc}") from exc

    def warm(self) -> None:
        """Load one decoder now, so the first utterance does not wait for it."""
        self._release(self._acquire())

    def _acquire(self) -> Any:
        try:
            return self._pool.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if self._created < self._pool_size:
                self._created += 1
                try:
                    return self._decoder()
                except Exception:
                    self._created -= 1
                    raise
        try:
            return self._pool.get(timeout=_WAIT_S)
        except queue.Empty:
            raise SpeechError(
                f"all {self._pool_size} speech decoders stayed busy for {_WAIT_S:.0f} s "
                "(raise IK_SPEECH__ASR_POOL)"
            ) from None

    def _release(self, decoder: Any) -> None:
        self._pool.put(decoder)

    def stream(self, language: str) -> _SphinxStream:
        require_language(self.name, self.languages, language)
        return _SphinxStream(self)


class _SphinxStream:
    def __init__(self, engine: PocketSphinxRecognizer) -> None:
        self._engine = engine
        self._decoder: Any = None
        self._samples = 0

    def feed(self, pcm: PCM) -> None:
        if len(pcm) == 0:
            return
        if self._decoder is None:
            self._decoder = self._engine._acquire()
            self._decoder.start_utt()
        self._decoder.process_raw(pcm.astype("<i2").tobytes(), False, False)
        self._samples += len(pcm)

    def finish(self) -> Recognition:
        text, confidence = "", None
        if self._decoder is not None:
            self._decoder.end_utt()
            hypothesis = self._decoder.hyp()
            if hypothesis is not None:
                text = " ".join(hypothesis.hypstr.split())
                confidence = min(max(float(hypothesis.prob), 0.0), 1.0) if text else None
            decoder, self._decoder = self._decoder, None
            self._engine._release(decoder)
        return Recognition(text, "en", self._engine.name, self._samples / SAMPLE_RATE, confidence)

    def close(self) -> None:
        decoder, self._decoder = self._decoder, None
        if decoder is not None:
            with contextlib.suppress(RuntimeError):
                decoder.end_utt()
            self._engine._release(decoder)
