"""``python -m agent voice``: one spoken turn from a recording, the spoken reply written as WAV.

The recording is one utterance, as if push-to-talk were held for its whole length: a pause in the
middle of a question does not split it into two turns.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TextIO

import numpy as np

from agent.service import ChatService
from agent.voice.engines import open_speech
from agent.voice.session import VoiceEvent, VoiceSession
from core.config import Settings
from model_servers.speech.audio import AudioError, decode, pcm_from_bytes, resample, to_wav
from model_servers.speech.engine import SAMPLE_RATE, SpeechError

#: Audio is handed over in chunks of this many samples (0.1 s), as a microphone would send it.
_CHUNK = SAMPLE_RATE // 10


def join_audio(events: list[VoiceEvent]) -> tuple[np.ndarray, int]:
    """Every spoken chunk, in order, at the first chunk's rate (engines may differ per language)."""
    chunks = [e for e in events if e.event == "audio" and e.audio is not None]
    if not chunks:
        return np.zeros(0, np.int16), SAMPLE_RATE
    rate = int(chunks[0].data["sample_rate"])
    parts = []
    for chunk in chunks:
        assert chunk.audio is not None
        pcm = pcm_from_bytes(chunk.audio)
        chunk_rate = int(chunk.data["sample_rate"])
        parts.append(pcm if chunk_rate == rate else resample(pcm, chunk_rate, rate))
        # A breath between sentences: synthesisers trim their output tightly.
        parts.append(np.zeros(rate // 8, np.int16))
    return np.concatenate(parts), rate


def _show(event: VoiceEvent, sink: TextIO) -> None:
    data = event.data
    if event.event == "transcript":
        sink.write(f"you (heard) › {data['text']}\n")
    elif event.event == "message" and data.get("role") != "user":
        sink.write(f"{data.get('role', 'assistant')} › {data.get('text', '')}\n")
    elif event.event == "notice":
        sink.write(f"  ({data['code']}: {data['text']})\n")
    elif event.event == "error":
        sink.write(f"  (error: {data.get('detail')})\n")
    sink.flush()


async def speak_turn(
    chat: ChatService, user_id: str, settings: Settings, args: argparse.Namespace, sink: TextIO
) -> int:
    try:
        data = await asyncio.to_thread(Path(args.wav).read_bytes)
    except OSError as exc:
        sys.stderr.write(f"error: cannot read {args.wav}: {exc.strerror}\n")
        return 2
    try:
        clip = await asyncio.to_thread(decode, data, max_seconds=settings.speech.max_recording_s)
    except AudioError as exc:
        sys.stderr.write(f"error: {args.wav}: {exc.message}\n")
        return 2
    try:
        engines = await asyncio.to_thread(open_speech, settings)
    except SpeechError as exc:
        sys.stderr.write(f"error: speech engines unavailable: {exc.message}\n")
        return 1
    session = VoiceSession(
        engines,
        chat,
        user_id,
        session_id=args.session,
        locale=args.locale,
        end_silence_ms=settings.speech.end_silence_ms,
        max_utterance_s=settings.speech.max_recording_s,
    )
    events: list[VoiceEvent] = []

    async def collect() -> None:
        async for event in session.events():
            events.append(event)
            _show(event, sink)

    collector = asyncio.create_task(collect())
    try:
        await session.start_talking()
        for start in range(0, len(clip.pcm), _CHUNK):
            await session.feed(clip.pcm[start : start + _CHUNK])
        await session.stop_talking()
        await session.drain()
    finally:
        await session.close()
        await collector
        engines.close()
    pcm, rate = join_audio(events)
    if len(pcm) == 0:
        sys.stderr.write("error: no spoken reply was produced\n")
        return 1
    await asyncio.to_thread(Path(args.out).write_bytes, to_wav(pcm, rate))
    session_ids = [e.data["session_id"] for e in events if e.event == "session"]
    where = f" · session {session_ids[-1]}" if session_ids else ""
    sink.write(f"  (reply: {args.out}, {len(pcm) / rate:.1f} s{where})\n")
    return 0
