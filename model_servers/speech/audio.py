"""Audio in and out: whatever a person or a browser sends becomes 16 kHz mono PCM, or a clear refusal.

WAV is read with the standard library; everything else (Opus in WebM or Ogg from a browser's
MediaRecorder, MP3, FLAC, ...) through PyAV, whose wheel carries FFmpeg's decoders.
"""

from __future__ import annotations

import io
import struct
import wave
from dataclasses import dataclass
from typing import Literal

import numpy as np

from model_servers.speech.engine import PCM, SAMPLE_RATE

AudioErrorCode = Literal["unreadable", "empty", "too_long", "unsupported_rate"]

MIN_RATE = 8_000
MAX_RATE = 192_000
#: A sample this close to full scale counts as clipped.
_CLIP_LEVEL = 32_000


class AudioError(ValueError):
    """Audio that cannot be used, with a ``code`` a client can act on."""

    def __init__(self, code: AudioErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Clip:
    pcm: PCM
    #: What the recording came at, before resampling to 16 kHz.
    source_rate: int
    channels: int

    @property
    def duration_s(self) -> float:
        return len(self.pcm) / SAMPLE_RATE


def check_rate(rate: int) -> None:
    if not MIN_RATE <= rate <= MAX_RATE:
        raise AudioError(
            "unsupported_rate", f"sample rate {rate} Hz is not supported (use {MIN_RATE}–{MAX_RATE} Hz)"
        )


def clipped_fraction(pcm: PCM) -> float:
    """The share of samples at full scale: over ~1 % the recording was too loud to recognise well."""
    if len(pcm) == 0:
        return 0.0
    return float(np.count_nonzero(np.abs(pcm.astype(np.int32)) >= _CLIP_LEVEL) / len(pcm))


class Resampler:
    """Streaming conversion of mono int16 PCM from ``rate`` to ``target`` (16 kHz by default), keeping
    the filter's state between chunks so chunk edges do not click."""

    def __init__(self, rate: int, target: int = SAMPLE_RATE) -> None:
        check_rate(rate)
        self.rate = rate
        self.target = target
        self._resampler = None
        if rate != target:
            from av.audio.resampler import AudioResampler

            self._resampler = AudioResampler(format="s16", layout="mono", rate=target)

    def __call__(self, pcm: PCM) -> PCM:
        if self._resampler is None or len(pcm) == 0:
            return pcm
        return self._run(_frame(pcm, self.rate))

    def flush(self) -> PCM:
        if self._resampler is None:
            return np.zeros(0, np.int16)
        return self._run(None)

    def _run(self, frame: object) -> PCM:
        assert self._resampler is not None
        frames = self._resampler.resample(frame)  # type: ignore[arg-type]  # None flushes
        if not frames:
            return np.zeros(0, np.int16)
        out: PCM = np.concatenate([f.to_ndarray().reshape(-1) for f in frames]).astype(np.int16)
        return out


def _frame(pcm: PCM, rate: int) -> object:
    import av

    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm, np.int16).reshape(1, -1), "s16", "mono")
    frame.sample_rate = rate
    return frame


def resample(pcm: PCM, rate: int, target: int = SAMPLE_RATE) -> PCM:
    resampler = Resampler(rate, target)
    return np.concatenate([resampler(pcm), resampler.flush()])


def pcm_from_bytes(data: bytes) -> PCM:
    """Little-endian 16-bit samples; an odd trailing byte (a frame cut mid-sample) is dropped."""
    return np.frombuffer(data[: len(data) - len(data) % 2], dtype="<i2").astype(np.int16)


def decode(data: bytes, *, max_seconds: float) -> Clip:
    """Any supported recording as 16 kHz mono; raises ``AudioError``.

    Longer than ``max_seconds`` is refused rather than cut, so nobody is answered on half of what
    they said.
    """
    if not data:
        raise AudioError("empty", "the recording is empty")
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        try:
            pcm, rate, channels = _read_wav(data)
        except (wave.Error, EOFError, ValueError, RuntimeError, struct.error):  # a malformed header
            pcm, rate, channels = _read_av(data)  # WAV flavours the standard library does not read
    else:
        pcm, rate, channels = _read_av(data)
    check_rate(rate)
    if len(pcm) == 0:
        raise AudioError("empty", "the recording has no sound in it")
    if len(pcm) / rate > max_seconds:
        raise AudioError(
            "too_long", f"the recording is {len(pcm) / rate:.0f} s long; the limit is {max_seconds:.0f} s"
        )
    return Clip(resample(pcm, rate), rate, channels)


def _read_wav(data: bytes) -> tuple[PCM, int, int]:
    with wave.open(io.BytesIO(data)) as reader:
        rate, channels, width = reader.getframerate(), reader.getnchannels(), reader.getsampwidth()
        # espeak-ng and other streaming writers leave the frame count unset; read to the end.
        raw = reader.readframes(2**31 - 1)
    if width == 1:
        samples = (np.frombuffer(raw, np.uint8).astype(np.int16) - 128) << 8
    elif width == 2:
        samples = pcm_from_bytes(raw)
    elif width in (3, 4):
        usable = len(raw) - len(raw) % width
        as_bytes = np.frombuffer(raw[:usable], np.uint8).reshape(-1, width)
        samples = as_bytes[:, -2:].copy().view("<i2").reshape(-1)  # the two most significant bytes
    else:
        raise ValueError(f"{width}-byte samples")
    return _mono(samples, channels), rate, channels


def _mono(samples: PCM, channels: int) -> PCM:
    if channels <= 1:
        return samples.astype(np.int16)
    usable = len(samples) - len(samples) % channels
    mixed: PCM = samples[:usable].reshape(-1, channels).astype(np.int32).mean(axis=1).astype(np.int16)
    return mixed


def _read_av(data: bytes) -> tuple[PCM, int, int]:
    import av

    chunks: list[PCM] = []
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                raise AudioError("unreadable", "the file has no audio in it")
            stream = container.streams.audio[0]
            rate = stream.rate or stream.codec_context.sample_rate
            channels = stream.codec_context.channels or 1
            check_rate(int(rate))
            resampler = av.audio.resampler.AudioResampler(format="s16", layout="mono", rate=rate)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1).astype(np.int16))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1).astype(np.int16))
    except AudioError:
        raise
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        raise AudioError("unreadable", f"the audio could not be decoded ({exc})") from None
    pcm = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
    return pcm, int(rate), int(channels)


def to_wav(pcm: PCM, rate: int) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(np.ascontiguousarray(pcm, "<i2").tobytes())
    return out.getvalue()
