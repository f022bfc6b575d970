"""Voice chat over a WebSocket: the person's audio in, the agent's events and spoken reply out.

``/voice/ws``: sign in as on the chat socket (``?token=`` or a first ``{"type": "auth", ...}``
frame; 4401 otherwise). The server answers ``{"event": "ready", "data": {...}}`` once the speech
engines are loaded (``languages_heard``/``languages_spoken`` say what they can do), or closes with
1011 and the reason when they cannot start.

Client frames:

- binary: audio in the configured format (default 16-bit little-endian mono PCM at 16 kHz);
- ``{"type": "config", "format": "pcm16"|"webm"|"ogg", "sample_rate": 48000, "mode":
  "hands_free"|"push_to_talk", "locale": "en"|"zh", "session_id": ...}``: any subset, any time
  between utterances. ``pcm16`` works in both modes at 8–192 kHz; Opus in WebM or Ogg (a browser's
  MediaRecorder) is decoded when push-to-talk is released, so it needs ``push_to_talk``;
- ``{"type": "start"}`` / ``{"type": "end"}``: push-to-talk pressed and released;
- ``{"type": "cancel"}``: stop the reply that is playing;
- ``{"type": "auth", "token": ...}``: a fresh token before the current one expires.

Server frames are ``{"event": <name>, "data": {...}}``: ``speech_started``, ``speech_ended``,
``transcript``, the chat turn's own events (``session``, ``token``, ``card``, ``message``, ``done``,
...), ``notice`` (``no_speech``, ``not_understood``, ``language_unsupported``, ``too_long``,
``clipped``, ...), ``barge_in`` (stop playing ``reply_id`` now), ``audio_reset`` (drop the unplayed
audio of the reply: its wording was withdrawn), ``audio_done`` and ``error``. Each ``audio`` event
(``sample_rate``, ``seq``, ``text``) is followed by one binary frame of 16-bit mono PCM.
A socket quiet for ``IK_SPEECH__IDLE_TIMEOUT_S`` is closed (1000); a disconnect mid-utterance
drops that utterance, and a reply already being written still finishes and is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Annotated, Literal

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.service import ChatService, SessionNotFound
from agent.turns import TurnRunner
from agent.voice.engines import LazySpeech
from agent.voice.session import VoiceSession
from api.deps import AccountsDep, ChatDep, SettingsDep, SpeechDep, TokensDep, TurnsDep
from api.errors import SESSION_NOT_FOUND
from api.sockets import (
    AuthFrame,
    SignedIn,
    authenticate_socket,
    close_unauthorized,
)
from core.config import SpeechSettings
from model_servers.speech.audio import AudioError, Resampler, check_rate, decode, pcm_from_bytes
from model_servers.speech.engine import SpeechError

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/voice", tags=["voice"])

#: Encoded audio held for one push-to-talk utterance; far above a minute of Opus at any bitrate.
MAX_ENCODED_BYTES = 16 * 1024 * 1024
WS_ENGINES_DOWN = 1011


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["config"]
    format: Literal["pcm16", "webm", "ogg"] | None = None
    sample_rate: int | None = Field(default=None, ge=1, le=1_000_000)
    mode: Literal["hands_free", "push_to_talk"] | None = None
    locale: Literal["en", "zh"] | None = None
    session_id: str | None = Field(default=None, max_length=64)


class _Control(BaseModel):
    type: Literal["start", "end", "cancel"]


class _VoiceSocket:
    def __init__(
        self,
        websocket: WebSocket,
        session: VoiceSession,
        signed_in: SignedIn,
        settings: SpeechSettings,
    ) -> None:
        self._ws = websocket
        self._session = session
        self._signed_in = signed_in
        self._settings = settings
        self._format: Literal["pcm16", "webm", "ogg"] = "pcm16"
        self._resampler = Resampler(16_000)
        self._encoded = bytearray()
        self._send_lock = asyncio.Lock()

    async def send(self, event: str, data: dict[str, object], audio: bytes | None = None) -> None:
        async with self._send_lock:  # an audio header and its bytes go out together
            await self._ws.send_json({"event": event, "data": data})
            if audio is not None:
                await self._ws.send_bytes(audio)

    async def relay(self) -> None:
        async for event in self._session.events():
            try:
                await self.send(event.event, event.data, event.audio)
            except (WebSocketDisconnect, RuntimeError):
                return  # the person left; the receiver closes the session

    async def serve(self) -> None:
        idle = self._settings.idle_timeout_s
        while True:
            try:
                async with asyncio.timeout(min(idle, max(self._signed_in.expires_at - time.time(), 0.1))):
                    message = await self._ws.receive()
            except TimeoutError:
                if time.time() >= self._signed_in.expires_at:
                    await close_unauthorized(self._ws, "token expired: reconnect with a new one")
                else:
                    await self._ws.close(1000, f"nothing heard for {idle:.0f} s")
                return
            if message["type"] == "websocket.disconnect":
                return
            if message.get("bytes") is not None:
                await self._audio(message["bytes"])
            elif message.get("text") is not None and not await self._frame(message["text"]):
                return

    async def _audio(self, data: bytes) -> None:
        if self._format != "pcm16":
            if len(self._encoded) + len(data) > MAX_ENCODED_BYTES:
                self._encoded.clear()
                await self.send("error", {"code": "too_long", "detail": "the recording is too large"})
                return
            self._encoded.extend(data)
            return
        await self._session.feed(self._resampler(pcm_from_bytes(data)))

    async def _frame(self, text: str) -> bool:
        """Handle a text frame; ``False`` when the socket has been closed."""
        try:
            renewal = AuthFrame.model_validate_json(text)
        except ValidationError:
            renewal = None
        if renewal is not None:
            try:
                await self._signed_in.recheck(renewal.token)
            except Exception as exc:  # HTTPException: bad or someone else's token
                await close_unauthorized(self._ws, getattr(exc, "detail", exc))
                return False
            await self.send("ready", {"expires_at": self._signed_in.expires_at})
            return True
        try:
            control = _Control.model_validate_json(text)
        except ValidationError:
            control = None
        if control is not None:
            await self._control(control.type)
            return True
        try:
            config = _Config.model_validate_json(text)
        except ValidationError as exc:
            detail = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'frame'}: {e['msg']}" for e in exc.errors()[:3]
            )
            await self.send("error", {"code": "bad_frame", "detail": f"invalid frame: {detail}"})
            return True
        await self._configure(config)
        return True

    async def _control(self, kind: Literal["start", "end", "cancel"]) -> None:
        if kind == "cancel":
            await self._session.cancel_reply()
        elif kind == "start":
            self._encoded.clear()
            await self._session.start_talking()
        else:
            if self._format != "pcm16":
                data, self._encoded = bytes(self._encoded), bytearray()
                if data:
                    try:
                        clip = await asyncio.to_thread(
                            decode, data, max_seconds=self._settings.max_recording_s
                        )
                    except AudioError as exc:
                        await self.send("error", {"code": exc.code, "detail": exc.message})
                        clip = None
                    if clip is not None:
                        await self._session.feed(clip.pcm)
            else:
                await self._session.feed(self._resampler.flush())
            await self._session.stop_talking()

    async def _configure(self, config: _Config) -> None:
        fmt = config.format or self._format
        mode = config.mode or self._session.mode
        if fmt != "pcm16" and mode == "hands_free":
            await self.send(
                "error",
                {
                    "code": "bad_frame",
                    "detail": f"{fmt} audio is decoded when push-to-talk is released: "
                    'send {"mode": "push_to_talk"} with it, or stream pcm16 for hands-free',
                },
            )
            return
        if config.sample_rate is not None:
            try:
                check_rate(config.sample_rate)
            except AudioError as exc:
                await self.send("error", {"code": exc.code, "detail": exc.message})
                return
            self._resampler = Resampler(config.sample_rate)
        self._format = fmt
        self._session.mode = mode
        if config.locale is not None:
            self._session.locale = config.locale
            self._session.language = config.locale
        if config.session_id is not None:
            try:
                await self._session.chat.owned(self._signed_in.user.id, config.session_id)
            except SessionNotFound:
                await self.send("error", {"code": "session_not_found", "detail": SESSION_NOT_FOUND})
                return
            self._session.session_id = config.session_id
        await self.send(
            "configured",
            {
                "format": self._format,
                "sample_rate": self._resampler.rate,
                "mode": self._session.mode,
                "locale": self._session.locale,
                "session_id": self._session.session_id,
            },
        )


async def _serve(
    websocket: WebSocket,
    signed_in: SignedIn,
    chat: ChatService,
    turns: TurnRunner,
    speech: LazySpeech,
    settings: SpeechSettings,
) -> None:
    try:
        engines = await speech.get()
    except SpeechError as exc:
        logger.warning("voice chat unavailable", extra={"error": exc.message})
        await websocket.close(WS_ENGINES_DOWN, f"voice chat is unavailable: {exc.message}"[:120])
        return
    session = VoiceSession(
        engines,
        chat,
        signed_in.user.id,
        end_silence_ms=settings.end_silence_ms,
        max_utterance_s=settings.max_utterance_s,
        turns=turns,
    )
    socket = _VoiceSocket(websocket, session, signed_in, settings)
    await socket.send(
        "ready",
        {
            "user_id": signed_in.user.id,
            "expires_at": signed_in.expires_at,
            "asr": engines.recognizer.name,
            "tts": engines.synthesizer.name,
            "languages_heard": sorted(engines.recognizer.languages),
            "languages_spoken": sorted(engines.synthesizer.languages),
            "format": "pcm16",
            "sample_rate": 16_000,
            "mode": session.mode,
        },
    )
    relay = asyncio.create_task(socket.relay())
    try:
        await socket.serve()
    finally:
        await session.close()
        with contextlib.suppress(asyncio.CancelledError):
            await relay


@router.websocket("/ws")
async def voice_socket(
    websocket: WebSocket,
    chat: ChatDep,
    turns: TurnsDep,
    tokens: TokensDep,
    accounts: AccountsDep,
    speech: SpeechDep,
    settings: SettingsDep,
    token: Annotated[str | None, Query(max_length=8192)] = None,
) -> None:
    await websocket.accept()
    try:
        signed_in = await authenticate_socket(websocket, token, tokens, accounts)
        if signed_in is None:
            return
        await _serve(websocket, signed_in, chat, turns, speech, settings.speech)
    except WebSocketDisconnect:
        return
