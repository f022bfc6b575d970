"""A spoken conversation: audio in, the same agent as typed chat, spoken sentences out.

``VoiceSession`` is transport-free: the WebSocket endpoint, ``python -m agent voice`` and the voice
evaluation all feed it 16 kHz PCM and read ``VoiceEvent``s from it.

- **Hands-free**: Silero VAD finds where speech starts and stops; a pause of ``end_silence_ms``
  ends the utterance. **Push-to-talk**: the client says where it starts and ends.
- The recogniser decodes while the person speaks (in a thread of its own, in order), so little is
  left to do when they stop.
- The transcript becomes a chat turn like a typed one (kept with the conversation, marked as
  spoken); the reply is spoken sentence by sentence as the agent writes it.
- **Barge-in**: speech from the person while a reply plays stops it (``barge_in``: the client
  drops what it has buffered) and nothing more of it is synthesised. The turn itself still
  finishes and is kept, as when a typed-chat client goes away mid-reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from agent.prompts import Language, say
from agent.service import ChatEvent, ChatService
from agent.turns import TurnRunner
from agent.voice.engines import SpeechEngines
from agent.voice.speech_text import SentenceSplitter, language_of, sentences
from model_servers.speech.audio import clipped_fraction
from model_servers.speech.engine import PCM, SAMPLE_RATE, Recognition, RecognitionStream, SpeechError
from model_servers.speech.vad import EndpointConfig, Endpointer, EndpointEvent

logger = logging.getLogger(__name__)

Mode = Literal["hands_free", "push_to_talk"]
#: Over this share of full-scale samples the person is told the microphone is too loud.
CLIPPED_WARNING = 0.01
#: A reply is spoken up to about this many characters (~20 s); the rest, with its cards, is on
#: screen. Three outfits read out with every item and price would take over a minute.
MAX_SPOKEN_CHARS = 320


@dataclass
class VoiceEvent:
    event: str
    data: dict[str, Any] = field(default_factory=dict)
    #: ``audio`` events: 16-bit little-endian mono PCM at ``data["sample_rate"]``.
    audio: bytes | None = None


@dataclass
class _Utterance:
    stream: RecognitionStream | None
    samples: int = 0
    clipped: int = 0
    error: SpeechError | None = None


class _Speaker:
    """Speaks one reply, sentence by sentence in order; ``cancel`` stops it where it is."""

    def __init__(self, session: VoiceSession, reply_id: str, language: Language) -> None:
        self.session = session
        self.reply_id = reply_id
        self.language = language
        self.splitter = SentenceSplitter()
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.cancelled = False
        self.spoken_chars = 0
        self.cut_short = False
        self.chunks = 0
        self.first_audio_at: float | None = None
        self.task = asyncio.create_task(self._run())

    def text(self, text: str) -> None:
        self._queue(self.splitter.add(text))

    def whole(self, text: str) -> None:
        self._queue(sentences(text))

    def end_of_message(self) -> None:
        self._queue(self.splitter.flush())

    def _queue(self, parts: list[str]) -> None:
        for sentence in parts:
            if self.cut_short:
                return
            if self.spoken_chars and self.spoken_chars + len(sentence) > MAX_SPOKEN_CHARS:
                self.cut_short = True
                self.queue.put_nowait(say("voice_more_on_screen", language_of(sentence, self.language)))
                return
            self.spoken_chars += len(sentence)
            self.queue.put_nowait(sentence)

    def reset(self) -> None:
        """What was written so far is withdrawn (it failed the fact check): drop what is unspoken."""
        self.splitter.clear()
        while not self.queue.empty():
            self.queue.get_nowait()
        self.spoken_chars = 0
        self.cut_short = False
        self.session._emit(VoiceEvent("audio_reset", {"reply_id": self.reply_id}))

    def close(self) -> None:
        self.end_of_message()
        self.queue.put_nowait(None)

    def cancel(self) -> None:
        self.cancelled = True
        self.task.cancel()

    async def _run(self) -> None:
        synthesizer = self.session.engines.synthesizer
        while (sentence := await self.queue.get()) is not None:
            language = language_of(sentence, self.language)
            if language not in synthesizer.languages:
                continue
            try:
                pcm, rate = await asyncio.to_thread(synthesizer.synthesize, sentence, language)
            except SpeechError as exc:
                logger.warning("speech synthesis failed", extra={"error": exc.message})
                self.session._emit(VoiceEvent("notice", {"code": "tts_unavailable", "text": exc.message}))
                return
            now = self.session._clock()
            if self.first_audio_at is None:
                self.first_audio_at = now
            self.session._playing(self.reply_id, now, len(pcm) / rate)
            self.session._emit(
                VoiceEvent(
                    "audio",
                    {
                        "reply_id": self.reply_id,
                        "seq": self.chunks,
                        "sample_rate": rate,
                        "format": "pcm16",
                        "text": sentence,
                    },
                    audio=np.ascontiguousarray(pcm, "<i2").tobytes(),
                )
            )
            self.chunks += 1


class VoiceSession:
    def __init__(
        self,
        engines: SpeechEngines,
        chat: ChatService,
        user_id: str,
        *,
        session_id: str | None = None,
        locale: Literal["zh", "en"] | None = None,
        mode: Mode = "hands_free",
        end_silence_ms: int = 350,
        max_utterance_s: float = 30.0,
        turns: TurnRunner | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.engines = engines
        self.chat = chat
        self.user_id = user_id
        self.session_id = session_id
        self.locale = locale
        self.language: Literal["zh", "en"] = locale or "en"
        self.mode = mode
        self.turns = turns or TurnRunner()
        self._clock = clock
        self._config = EndpointConfig(end_silence_s=end_silence_ms / 1000, max_utterance_s=max_utterance_s)
        self._endpointer = Endpointer(engines.vad, self._config)
        self._events: asyncio.Queue[VoiceEvent | None] = asyncio.Queue()
        # One thread per session feeds the recogniser, so audio reaches it in order.
        self._asr = ThreadPoolExecutor(max_workers=1, thread_name_prefix="asr")
        self._utterance: _Utterance | None = None
        self._ptt_open = False
        self._speaker: _Speaker | None = None
        self._replies: set[asyncio.Task[None]] = set()
        self._reply_lock = asyncio.Lock()
        self._closed = False
        # The client plays audio in real time while it arrives in milliseconds, so a reply is
        # "playing" until the client would have finished it, not until it was sent.
        self._playing_reply: str | None = None
        self._playing_until = 0.0

    # --- what the transport calls ---------------------------------------------------------------

    async def events(self) -> AsyncIterator[VoiceEvent]:
        """Everything to send back, in order, until ``close``."""
        while (event := await self._events.get()) is not None:
            yield event

    async def feed(self, pcm: PCM) -> None:
        """16 kHz mono PCM, in any chunk size."""
        if self._closed or len(pcm) == 0:
            return
        if self.mode == "push_to_talk":
            if not self._ptt_open:
                return  # audio outside a press is not the person talking to us
            for event in self._endpointer.feed(pcm):
                await self._on_endpoint(event)
            utterance = self._utterance
            if utterance is not None:
                if utterance.stream is not None:
                    self._to_recognizer(utterance, pcm)
                if utterance.samples >= self._config.max_utterance_s * SAMPLE_RATE:
                    # Held for too long: answered as if released, the rest ignored until pressed again.
                    self._ptt_open = False
                    self._utterance = None
                    self._start_reply(utterance, reason="max_length")
            return
        for event in self._endpointer.feed(pcm):
            await self._on_endpoint(event)
        utterance = self._utterance
        if utterance is not None and utterance.stream is not None:
            self._to_recognizer(utterance, self._endpointer.take_fresh())

    async def start_talking(self) -> None:
        """Push-to-talk pressed: a new utterance starts now (and whatever is playing stops)."""
        self.mode = "push_to_talk"
        self._ptt_open = True
        self._endpointer = Endpointer(self.engines.vad, self._config)
        self._barge_in()
        if self._utterance is not None:  # pressed twice without a release: the first press is dropped
            self._discard(self._utterance)
        self._begin_utterance(np.zeros(0, np.int16))

    async def stop_talking(self) -> None:
        """Push-to-talk released (or a recording ended): answer what was said."""
        if not self._ptt_open:
            return
        self._ptt_open = False
        self._endpointer.flush()
        utterance, self._utterance = self._utterance, None
        if utterance is None:
            return
        if self._endpointer.speech_frames == 0:
            self._discard(utterance)
            await self._notice("no_speech")
            return
        self._start_reply(utterance, reason="released")

    async def cancel_reply(self) -> None:
        """The client's stop button: the same as talking over the reply."""
        self._barge_in()

    async def drain(self) -> None:
        """Wait for the replies in progress to be spoken (a recording's turn, an evaluation)."""
        while self._replies:
            await asyncio.gather(*list(self._replies), return_exceptions=True)

    async def close(self) -> None:
        """The person left: stop speaking, drop a half-heard utterance; turns already sent finish."""
        if self._closed:
            return
        self._closed = True
        if self._speaker is not None:
            self._speaker.cancel()
        for task in list(self._replies):
            task.cancel()
        await asyncio.gather(*list(self._replies), return_exceptions=True)
        if self._utterance is not None:
            self._discard(self._utterance)
            self._utterance = None
        # Queued work still runs (a discarded stream's ``close`` gives its decoder back to the pool).
        self._asr.shutdown(wait=False)
        self._events.put_nowait(None)

    # --- internals --------------------------------------------------------------------------------

    def _emit(self, event: VoiceEvent) -> None:
        if not self._closed or event.event == "error":
            self._events.put_nowait(event)

    async def _notice(self, code: str, **values: Any) -> None:
        """Tell the person, in words and in their language's voice."""
        text = say(f"voice_{code}", self.language, **values)
        self._emit(VoiceEvent("notice", {"code": code, "text": text}))
        speaker = _Speaker(self, f"notice-{uuid.uuid4().hex[:8]}", self.language)
        speaker.whole(text)
        speaker.close()
        self._speaker = speaker
        with contextlib.suppress(asyncio.CancelledError):
            await speaker.task
        self._emit(
            VoiceEvent(
                "audio_done",
                {"reply_id": speaker.reply_id, "chunks": speaker.chunks, "interrupted": speaker.cancelled},
            )
        )

    def _begin_utterance(self, head: PCM) -> None:
        stream: RecognitionStream | None = None
        error: SpeechError | None = None
        try:
            stream = self.engines.recognizer.stream(self.language)
        except SpeechError as exc:
            error = exc
        self._utterance = _Utterance(stream, error=error)
        if stream is not None and len(head):
            self._to_recognizer(self._utterance, head)

    def _to_recognizer(self, utterance: _Utterance, pcm: PCM) -> None:
        if len(pcm) == 0:
            return
        utterance.samples += len(pcm)
        utterance.clipped += round(clipped_fraction(pcm) * len(pcm))
        stream = utterance.stream
        assert stream is not None
        self._asr.submit(stream.feed, pcm.copy())

    def _discard(self, utterance: _Utterance) -> None:
        if utterance.stream is not None:
            self._asr.submit(utterance.stream.close)

    def _playing(self, reply_id: str, now: float, seconds: float) -> None:
        if self._playing_reply != reply_id:
            self._playing_until = now
        self._playing_reply = reply_id
        self._playing_until = max(self._playing_until, now) + seconds

    def _barge_in(self) -> None:
        """The person speaks over the reply: stop synthesising it and tell the client to stop playing."""
        speaker, self._speaker = self._speaker, None
        interrupted: str | None = None
        if speaker is not None and not speaker.task.done():
            speaker.cancel()
            interrupted = speaker.reply_id
        elif self._playing_reply is not None and self._clock() < self._playing_until:
            interrupted = self._playing_reply
        if interrupted is not None:
            if speaker is not None and speaker.reply_id == interrupted:
                speaker.cancelled = True
            self._playing_reply, self._playing_until = None, 0.0
            self._emit(VoiceEvent("barge_in", {"reply_id": interrupted}))

    async def _on_endpoint(self, event: EndpointEvent) -> None:
        if event.kind == "speech_started":
            self._emit(VoiceEvent("speech_started", {"at_s": round(event.at_s, 3)}))
            self._barge_in()
            if self.mode == "hands_free":
                self._begin_utterance(event.head)
            return
        self._emit(
            VoiceEvent(
                "speech_ended",
                {
                    "at_s": round(event.at_s, 3),
                    "reason": event.reason,
                    "duration_s": len(event.pcm) / SAMPLE_RATE,
                },
            )
        )
        if self.mode == "hands_free" and self._utterance is not None:
            utterance, self._utterance = self._utterance, None
            if utterance.stream is not None:
                self._to_recognizer(utterance, event.tail)
            self._start_reply(utterance, reason=event.reason or "silence")

    def _start_reply(self, utterance: _Utterance, *, reason: str) -> None:
        task = asyncio.create_task(self._reply(utterance, reason))
        self._replies.add(task)
        task.add_done_callback(self._replies.discard)

    async def _recognize(self, utterance: _Utterance) -> Recognition | None:
        if utterance.error is not None or utterance.stream is None:
            return None
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._asr, utterance.stream.finish)

    async def _reply(self, utterance: _Utterance, reason: str) -> None:
        ended_at = self._clock()
        try:
            if utterance.error is not None:
                code = (
                    "language_unsupported"
                    if utterance.error.code == "unsupported_language"
                    else "asr_unavailable"
                )
                await self._notice(code)
                return
            try:
                recognition = await self._recognize(utterance)
            except SpeechError as exc:
                logger.warning("speech recognition failed", extra={"error": exc.message})
                await self._notice("asr_unavailable")
                return
            recognized_at = self._clock()
            if recognition is None or not recognition.text.strip():
                await self._notice("not_understood")
                return
            clipped = utterance.clipped / max(utterance.samples, 1)
            voice = {
                "engine": recognition.engine,
                "duration_s": round(recognition.duration_s, 2),
                "confidence": recognition.confidence,
                "language": recognition.language,
            }
            self._emit(
                VoiceEvent(
                    "transcript",
                    {
                        **voice,
                        "text": recognition.text,
                        "clipped": round(clipped, 4),
                        "cut_off": reason == "max_length",
                    },
                )
            )
            if reason == "max_length":
                await self._notice("too_long", seconds=str(round(self._config.max_utterance_s)))
            elif clipped > CLIPPED_WARNING:
                self._emit(
                    VoiceEvent("notice", {"code": "clipped", "text": say("voice_clipped", self.language)})
                )
            async with self._reply_lock:  # one reply speaks at a time, in the order they were asked
                await self._answer(recognition, voice, ended_at, recognized_at)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # one failed turn must not end the conversation
            logger.exception("voice turn failed")
            self._emit(VoiceEvent("error", {"detail": f"{type(exc).__name__}: {exc}"}))

    async def _answer(
        self, recognition: Recognition, voice: dict[str, Any], ended_at: float, recognized_at: float
    ) -> None:
        reply_id = uuid.uuid4().hex
        speaker = _Speaker(self, reply_id, self.language)
        self._speaker = speaker
        first_token_at: float | None = None
        streamed = False
        turn = self.chat.turn(
            self.user_id, recognition.text, session_id=self.session_id, locale=self.locale, voice=voice
        )
        async for event in self.turns.run(turn):
            self._emit_chat(event)
            if event.event == "session":
                self.session_id = str(event.data["session_id"])
            elif event.event == "token" and not speaker.cancelled:
                first_token_at = first_token_at or self._clock()
                streamed = True
                speaker.text(str(event.data.get("text", "")))
            elif event.event == "reset" and not speaker.cancelled:
                speaker.reset()
                streamed = False
            elif event.event == "message" and not speaker.cancelled:
                if streamed:
                    speaker.end_of_message()
                else:
                    speaker.whole(str(event.data.get("text", "")))
                streamed = False
        speaker.close()
        with contextlib.suppress(asyncio.CancelledError):
            await speaker.task
        timings = {
            "recognize_ms": round((recognized_at - ended_at) * 1000, 1),
            "first_token_ms": None
            if first_token_at is None
            else round((first_token_at - ended_at) * 1000, 1),
            "first_audio_ms": None
            if speaker.first_audio_at is None
            else round((speaker.first_audio_at - ended_at) * 1000, 1),
        }
        self._emit(
            VoiceEvent(
                "audio_done",
                {"reply_id": reply_id, "chunks": speaker.chunks, "interrupted": speaker.cancelled, **timings},
            )
        )

    def _emit_chat(self, event: ChatEvent) -> None:
        self._emit(VoiceEvent(event.event, event.model_dump(mode="json")["data"]))
