"""Chat for the signed-in person: one turn per request (JSON, or Server-Sent Events while the reply
is produced), their sessions, and a WebSocket that carries turns and whatever support sends later.

WebSocket ``/chat/ws``: authenticate with ``?token=<access token>`` or with a first frame
``{"type": "auth", "token": ...}`` (which keeps the token out of URLs and server logs); a missing
or bad token closes the socket with code 4401. The server answers ``{"event": "ready", ...}``, then
takes ``{"type": "message", "text": ..., "session_id": ..., "locale": "zh"|"en"}`` frames, and
``{"type": "watch", "session_id": ...}`` to follow one of the person's sessions without sending
anything (a second tab or device; answered ``{"event": "watching", ...}``). It sends
``{"event": <name>, "session_id": ..., "data": {...}}`` for each event of a turn and for everything
published later on any session this socket has used (support replies, hand-back); a frame it
cannot use gets ``{"event": "error", "data": {"detail": ...}}`` and the socket stays open (with
``code`` and ``retry_after`` when a store is down: nothing was changed and the frame may be sent
again; a sign-in that cannot be checked for that reason closes with 1013, try again later). The
token is checked again before every turn (a disabled account is closed out at once) and the socket
is closed with 4401 when the token expires, unless the client sends a new ``auth`` frame for the same
account first (``ready`` carries ``expires_at``, a Unix time).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response, WebSocket, WebSocketDisconnect
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from agent.memory import SessionInfo
from agent.service import ChatEvent, ChatService, SessionNotFound
from agent.turns import TurnRunner
from api.deps import AccountsDep, ChatDep, CurrentUser, OwnSession, TokensDep, TurnsDep
from api.errors import RETRY_AFTER_S, SESSION_NOT_FOUND, outage
from api.sockets import (
    AuthFrame,
    SignedIn,
    authenticate_socket,
    close_unauthorized,
    receive_text,
    validation_summary,
)
from api.streaming import session_stream, sse_bytes
from core.telemetry import trace_of_its_own
from tools.profile.schemas import UserRead

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/chat", tags=["chat"])

#: Longer messages are refused with 422. The agent's own guard answers anything over 4,000
#: characters with a polite reply, so this only stops payloads nobody types.
MAX_MESSAGE_CHARS = 20_000
EXPIRY_CLOSE_REASON = 'token expired: send {"type": "auth", "token": ...} with a new one, or reconnect'
#: Sessions one socket relays at a time; the oldest is let go first (a new turn there re-watches it).
WATCHED_SESSIONS = 32
#: Turn events already sent whose hub copy has not come back yet; more only if the hub dropped copies.
_UNMATCHED_LIMIT = 2000
#: Events a turn yields but the hub never carries.
_TURN_FRAMING = frozenset({"session"})
_STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}

Locale = Literal["zh", "en"]
UploadId = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
MAX_ATTACHMENTS = 8


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(
        max_length=MAX_MESSAGE_CHARS,
        description="What the person wrote. Empty, junk or over-long text is answered with a polite "
        "refusal as the reply, not an HTTP error.",
    )
    session_id: str | None = Field(
        default=None, max_length=64, description="Continue this session; leave out to start a new one."
    )
    locale: Locale | None = Field(
        default=None, description='The app\'s language, for messages that do not show one ("170/60").'
    )
    attachments: list[UploadId] = Field(
        default_factory=list,
        max_length=MAX_ATTACHMENTS,
        description="Photos sent with the message: ids from `POST /api/v1/uploads`. A photo with no text "
        "is added to the wardrobe.",
    )


class ChatTurn(BaseModel):
    session_id: str
    messages: list[dict[str, Any]] = Field(description="This turn's replies: the `message` events' data.")
    events: list[ChatEvent]


class SessionDetail(SessionInfo):
    history: list[ChatEvent]


_SSE_DOC = (
    "With `Accept: text/event-stream` the turn streams as Server-Sent Events, one per `ChatEvent` "
    "(`event: <name>`, `data: <json>`, `id: <n>`): `session`, then `tool_started` / `tool_finished` / "
    "`token` / `reset` / `card` as they happen, one `message` per reply, `handoff` while support has "
    "the conversation, and `done`. Otherwise the whole turn comes back as JSON."
)


@router.post(
    "",
    response_model=ChatTurn,
    description=_SSE_DOC,
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}},
)
async def send_message(
    body: ChatRequest, request: Request, user: CurrentUser, chat: ChatDep, turns: TurnsDep
) -> ChatTurn | Response:
    events = turns.run(
        chat.turn(
            user.id,
            body.message,
            session_id=body.session_id,
            locale=body.locale,
            attachments=body.attachments,
        )
    )
    # The first event is awaited before answering so an unknown session is still a 404.
    first = await anext(events)
    if "text/event-stream" in request.headers.get("accept", "").lower():
        return EventSourceResponse(_sse_frames(first, events), headers=_STREAM_HEADERS)
    collected = [first, *[event async for event in events]]
    return ChatTurn(
        session_id=str(first.data["session_id"]),
        messages=[event.data for event in collected if event.event == "message"],
        events=collected,
    )


async def _sse_frames(first: ChatEvent, rest: AsyncIterator[ChatEvent]) -> AsyncIterator[bytes]:
    yield sse_bytes(first, 1)
    event_id = 1
    async for event in rest:
        event_id += 1
        yield sse_bytes(event, event_id)


@router.get("/sessions")
def list_my_sessions(user: CurrentUser, chat: ChatDep) -> list[SessionInfo]:
    """The caller's live sessions, most recently active first."""
    return chat.sessions.for_user(user.id)


@router.get("/sessions/{session_id}")
async def read_my_session(session: OwnSession, chat: ChatDep) -> SessionDetail:
    return SessionDetail(**session.model_dump(), history=await chat.history(session.id))


@router.get("/sessions/{session_id}/events", response_class=EventSourceResponse)
async def watch_my_session(session: OwnSession, chat: ChatDep) -> AsyncIterator[ServerSentEvent]:
    """Server-Sent Events for everything said in the session from now on, support's replies included.

    Opens with a `: subscribed` comment; `: ping` comments keep a quiet stream alive.
    """
    async for item in session_stream(chat.hub, session.id):
        yield item


# --- WebSocket ------------------------------------------------------------------------------


class _WatchFrame(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["watch"]
    session_id: str = Field(max_length=64)


class _MessageFrame(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["message"]
    text: str = Field(max_length=MAX_MESSAGE_CHARS)
    session_id: str | None = Field(default=None, max_length=64)
    locale: Locale | None = None
    attachments: list[UploadId] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)


_Frame: TypeAdapter[_WatchFrame | _MessageFrame] = TypeAdapter(
    Annotated[_WatchFrame | _MessageFrame, Field(discriminator="type")]
)


@router.websocket("/ws")
async def chat_socket(
    websocket: WebSocket,
    chat: ChatDep,
    turns: TurnsDep,
    tokens: TokensDep,
    accounts: AccountsDep,
    token: Annotated[str | None, Query(max_length=8192)] = None,
) -> None:
    await websocket.accept()
    try:
        signed_in = await authenticate_socket(websocket, token, tokens, accounts)
        if signed_in is None:
            return
        socket = _ChatSocket(websocket, chat, turns, signed_in)
        try:
            await socket.serve()
        finally:
            socket.close()
    except WebSocketDisconnect:
        return


class _ChatSocket:
    """One authenticated socket: runs its turns and relays the hub for the sessions it used.

    A turn's events reach this socket twice: yielded by the turn, and published on the hub it
    watches (the service publishes the very object it yields). The turn's copy is the one sent,
    in the turn's order; hub copies are matched by identity and dropped, whichever comes first.
    Hub events that arrive during a turn on the same session and are not the turn's own (another
    device, support) are held and sent after its ``done``. The echo of the person's own message
    is not sent back.
    """

    def __init__(
        self, websocket: WebSocket, chat: ChatService, turns: TurnRunner, signed_in: SignedIn
    ) -> None:
        self._ws = websocket
        self._chat = chat
        self._turns = turns
        self._signed_in = signed_in
        self._expiry: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()  # one sender at a time, and the bookkeeping below with it
        self._watchers: dict[str, asyncio.Task[None]] = {}
        self._turn_session: str | None = None
        self._held: list[ChatEvent] = []
        self._unmatched: OrderedDict[int, ChatEvent] = OrderedDict()
        self._echoes: deque[tuple[str, str]] = deque(maxlen=64)

    @property
    def _user(self) -> UserRead:
        return self._signed_in.user

    async def serve(self) -> None:
        await self._ready()
        while True:
            text = await receive_text(self._ws)
            try:
                renewal = AuthFrame.model_validate_json(text)
            except ValidationError:
                renewal = None
            if renewal is not None:
                # A fresh access token keeps the socket open past the first one's expiry.
                if not await self._recheck(renewal.token):
                    return
                await self._ready()
                continue
            try:
                frame = _Frame.validate_json(text)
            except ValidationError as exc:
                await self._error(validation_summary(exc))
                continue
            try:
                if not await self._recheck():
                    return
                if isinstance(frame, _WatchFrame):
                    await self._follow(frame.session_id)
                else:
                    # Each message is a trace of its own, linked to the connection's long span.
                    with trace_of_its_own("WS /api/v1/chat/ws message", **{"ik.frame": "message"}):
                        await self._run_turn(frame)
            except SessionNotFound:
                await self._error(SESSION_NOT_FOUND)
            except Exception as exc:
                # A store that is down refuses this frame, politely and retryably; the socket stays.
                found = outage(exc)
                if found is None:
                    raise
                logger.warning("chat frame refused: %s", found[0], extra={"error": str(exc)[:500]})
                await self._error(found[1], code=found[0], retry_after=RETRY_AFTER_S)

    async def _ready(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        self._expiry = asyncio.create_task(self._close_at_expiry())
        async with self._lock:
            await self._ws.send_json(
                {
                    "event": "ready",
                    "data": {"user_id": self._user.id, "expires_at": self._signed_in.expires_at},
                }
            )

    async def _recheck(self, token: str | None = None) -> bool:
        """False once the socket is closed because its token or account no longer holds."""
        try:
            await self._signed_in.recheck(token)
        except HTTPException as exc:
            async with self._lock:
                await close_unauthorized(self._ws, exc.detail)
            return False
        return True

    async def _close_at_expiry(self) -> None:
        await asyncio.sleep(max(0.0, self._signed_in.expires_at - time.time()))
        async with self._lock:
            await close_unauthorized(
                self._ws, 'token expired: send {"type": "auth", "token": ...} or reconnect'
            )

    def close(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        for task in self._watchers.values():
            task.cancel()

    async def _follow(self, session_id: str) -> None:
        """Relay a session's events from now on; a tab opening a conversation asks for this."""
        info = await self._chat.owned(self._user.id, session_id)
        await self._watch(info.id)
        async with self._lock:
            await self._ws.send_json({"event": "watching", "session_id": info.id, "data": {}})

    async def _run_turn(self, frame: _MessageFrame) -> None:
        # The session is opened first so the hub is watched before the turn publishes anything.
        info, replaced = await self._chat.open_session(self._user.id, frame.session_id)
        await self._watch(info.id)
        self._echoes.append((info.id, frame.text))
        self._turn_session, self._held = info.id, []
        try:
            turn = self._chat.turn(
                self._user.id,
                frame.text,
                session_id=info.id,
                locale=frame.locale,
                attachments=frame.attachments,
            )
            async with aclosing(self._turns.run(turn)) as events:
                async for event in events:
                    if event.event == "session" and replaced:
                        event = ChatEvent(event="session", data={**event.data, "replaces": replaced})
                    await self._from_turn(info.id, event)
            async with self._lock:
                held, self._held, self._turn_session = self._held, [], None
                for event in held:
                    await self._send(info.id, event)
        finally:
            self._turn_session, self._held = None, []

    async def _from_turn(self, session_id: str, event: ChatEvent) -> None:
        async with self._lock:
            for index, held in enumerate(self._held):
                if held is event:
                    del self._held[index]
                    break
            else:
                if event.event not in _TURN_FRAMING:
                    self._unmatched[id(event)] = event
                    if len(self._unmatched) > _UNMATCHED_LIMIT:
                        self._unmatched.popitem(last=False)
            await self._send(session_id, event)

    async def _from_hub(self, session_id: str, event: ChatEvent) -> None:
        async with self._lock:
            if self._unmatched.pop(id(event), None) is not None:
                return  # the stored object keeps its id unique, so this is the turn's own copy
            if event.event == "message" and event.data.get("role") == "user":
                echo = (session_id, str(event.data.get("text")))
                if echo in self._echoes:
                    self._echoes.remove(echo)
                    return
            if session_id == self._turn_session:
                self._held.append(event)
                return
            await self._send(session_id, event)

    async def _watch(self, session_id: str) -> None:
        if session_id in self._watchers:
            return
        if len(self._watchers) >= WATCHED_SESSIONS:
            self._watchers.pop(next(iter(self._watchers))).cancel()
        ready = asyncio.Event()
        self._watchers[session_id] = asyncio.create_task(self._forward(session_id, ready))
        await ready.wait()

    async def _forward(self, session_id: str, ready: asyncio.Event) -> None:
        try:
            with self._chat.hub.listen(session_id) as events:
                ready.set()
                async for event in events:
                    await self._from_hub(session_id, event)
        except (WebSocketDisconnect, RuntimeError):
            return  # the socket is gone; serve() notices that on its own
        finally:
            ready.set()

    async def _send(self, session_id: str, event: ChatEvent) -> None:
        frame = {
            "event": event.event,
            "session_id": session_id,
            "data": event.model_dump(mode="json")["data"],
        }
        await self._ws.send_json(frame)

    async def _error(self, detail: str, **extra: object) -> None:
        async with self._lock:
            await self._ws.send_json({"event": "error", "data": {"detail": detail, **extra}})
