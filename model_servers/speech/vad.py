"""Where speech starts and stops: Silero VAD (its ONNX model ships in the ``silero-vad`` wheel) run
with ONNX Runtime, and an endpointer that turns its per-frame probabilities into utterances.

The ``silero_vad`` package itself imports torch; only its model file is used here, found without
importing the package, so the API does not load torch for a 2 MB model.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from model_servers.speech.engine import PCM, SAMPLE_RATE, SpeechError

#: Silero's frame at 16 kHz (32 ms), and the samples of the previous frame it is given as context.
FRAME = 512
_CONTEXT = 64
FRAME_S = FRAME / SAMPLE_RATE


def silero_model_path() -> Path:
    spec = importlib.util.find_spec("silero_vad")
    if spec is None or not spec.submodule_search_locations:
        raise SpeechError("the silero-vad package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "silero_vad.onnx"
    if not path.is_file():
        raise SpeechError(f"Silero VAD's model is missing from its package ({path})")
    return path


class SileroVad:
    """The model, loaded once and shared; each ``VadStream`` keeps its own recurrent state."""

    def __init__(self, model_path: Path | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        # One frame is ~0.1 ms of work; more threads only add hand-offs on 2 cores.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(model_path or silero_model_path()), options, providers=["CPUExecutionProvider"]
        )
        self._lock = threading.Lock()

    def stream(self) -> VadStream:
        return VadStream(self)

    def _run(self, x: NDArray[np.float32], state: NDArray[np.float32]) -> tuple[float, NDArray[np.float32]]:
        inputs = {"input": x, "state": state, "sr": np.array(SAMPLE_RATE, dtype=np.int64)}
        with self._lock:
            out, new_state = self._session.run(None, inputs)
        return float(out[0, 0]), new_state


class VadStream:
    """Speech probability per 32 ms frame for one continuous stream of 16 kHz audio."""

    def __init__(self, vad: SileroVad) -> None:
        self._vad = vad
        self._state = np.zeros((2, 1, 128), np.float32)
        self._context = np.zeros((1, _CONTEXT), np.float32)

    def probability(self, frame: PCM) -> float:
        if len(frame) != FRAME:
            raise ValueError(f"a VAD frame is {FRAME} samples, not {len(frame)}")
        x = frame.astype(np.float32).reshape(1, -1) / 32768.0
        joined = np.concatenate([self._context, x], axis=1)
        probability, self._state = self._vad._run(joined, self._state)
        self._context = joined[:, -_CONTEXT:]
        return probability


@dataclass(frozen=True)
class EndpointConfig:
    #: A frame is speech above this probability; speech has ended below ``threshold - 0.15``.
    threshold: float = 0.5
    #: Speech this long before it counts (a cough or a click does not open an utterance).
    min_speech_s: float = 0.096
    #: Silence this long ends the utterance. Every millisecond here is a millisecond of reply latency.
    end_silence_s: float = 0.35
    #: Audio kept from before the speech started, so the first phoneme is not cut.
    pre_roll_s: float = 0.2
    #: An utterance this long is ended where it is (a monologue is answered, not buffered forever).
    max_utterance_s: float = 30.0


EventKind = Literal["speech_started", "speech_ended"]


@dataclass
class EndpointEvent:
    kind: EventKind
    #: Stream time of the event, in seconds from the first sample.
    at_s: float
    #: ``speech_ended``: why it ended.
    reason: Literal["silence", "max_length", "flush"] | None = None
    #: ``speech_ended``: the utterance's audio, pre-roll included.
    pcm: PCM = field(default_factory=lambda: np.zeros(0, np.int16))
    #: ``speech_started``: the audio so far (pre-roll and the first speech frames), for a recogniser
    #: that starts decoding at once.
    head: PCM = field(default_factory=lambda: np.zeros(0, np.int16))
    #: ``speech_ended``: the utterance's audio since the last ``take_fresh`` (what a recogniser fed
    #: from ``head`` and ``take_fresh`` has not had yet).
    tail: PCM = field(default_factory=lambda: np.zeros(0, np.int16))


class Endpointer:
    """Cuts a continuous 16 kHz stream into utterances.

    Feed it audio in any chunk size; it yields ``speech_started`` when speech has lasted
    ``min_speech_s`` and ``speech_ended`` (with the utterance) after ``end_silence_s`` of quiet, when
    the utterance reaches ``max_utterance_s``, or on ``flush``. ``speech_frames`` is how many frames
    of speech the stream held, so a caller can tell silence from speech too short to count.
    """

    def __init__(self, vad: SileroVad, config: EndpointConfig | None = None) -> None:
        self.config = config or EndpointConfig()
        self._vad = vad.stream()
        self._pending = np.zeros(0, np.int16)
        self._frames_seen = 0
        self._pre: list[PCM] = []
        self._utterance: list[PCM] = []
        self._fresh: list[PCM] = []
        self._in_speech = False
        self._speech_run = 0
        self._silence_run = 0
        self.speech_frames = 0

    @property
    def stream_s(self) -> float:
        return self._frames_seen * FRAME_S

    def feed(self, pcm: PCM) -> Iterator[EndpointEvent]:
        self._pending = np.concatenate([self._pending, pcm.astype(np.int16)])
        while len(self._pending) >= FRAME:
            frame, self._pending = self._pending[:FRAME], self._pending[FRAME:]
            event = self._frame(frame)
            if event is not None:
                yield event

    def take_fresh(self) -> PCM:
        """The utterance's audio since ``speech_started`` or the last call, for a streaming recogniser."""
        fresh, self._fresh = self._fresh, []
        return np.concatenate(fresh) if fresh else np.zeros(0, np.int16)

    def flush(self) -> EndpointEvent | None:
        """End of input: the utterance in progress, if any, ends here."""
        if self._pending.size:
            padded = np.concatenate([self._pending, np.zeros(FRAME - len(self._pending), np.int16)])
            self._pending = np.zeros(0, np.int16)
            event = self._frame(padded)
            if event is not None and event.kind == "speech_ended":
                return event
        if self._in_speech:
            return self._end("flush")
        return None

    def _frame(self, frame: PCM) -> EndpointEvent | None:
        config = self.config
        self._frames_seen += 1
        probability = self._vad.probability(frame)
        if not self._in_speech:
            self._pre.append(frame)
            if probability >= config.threshold:
                self._speech_run += 1
                self.speech_frames += 1
            else:
                self._speech_run = 0
            keep = max(round(config.pre_roll_s / FRAME_S), 0) + self._speech_run
            del self._pre[: max(len(self._pre) - keep, 0)]
            if self._speech_run * FRAME_S >= config.min_speech_s:
                self._in_speech = True
                self._silence_run = 0
                self._utterance = list(self._pre)
                self._pre = []
                return EndpointEvent("speech_started", self.stream_s, head=np.concatenate(self._utterance))
            return None
        self._utterance.append(frame)
        self._fresh.append(frame)
        if probability >= config.threshold - 0.15:
            self._silence_run = 0
            self.speech_frames += probability >= config.threshold
        else:
            self._silence_run += 1
        if self._silence_run * FRAME_S >= config.end_silence_s:
            return self._end("silence")
        if len(self._utterance) * FRAME_S >= config.max_utterance_s:
            return self._end("max_length")
        return None

    def _end(self, reason: Literal["silence", "max_length", "flush"]) -> EndpointEvent:
        pcm = np.concatenate(self._utterance) if self._utterance else np.zeros(0, np.int16)
        tail = self.take_fresh()
        self._utterance = []
        self._in_speech = False
        self._speech_run = 0
        self._silence_run = 0
        return EndpointEvent("speech_ended", self.stream_s, reason=reason, pcm=pcm, tail=tail)
