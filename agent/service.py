"""Running conversations for a host (the API, the terminal chat, evaluations).

``ChatService`` owns the compiled graph, the session registry and a small in-process
hub that pushes events to whoever watches a session (the person's WebSocket, the
support console). A turn is streamed as ``ChatEvent``s: ``session``, then ``tool_started``
/ ``tool_finished`` / ``token`` / ``reset`` / ``card`` as they happen, then one ``message``
per reply, ``handoff`` while support has the thread, and ``done``.

Turns on one session are serialised with a per-session lock, which holds within one
process; several API pods need sticky sessions (or a Redis lock) for the same guarantee.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any, Literal

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.types import Command
from pydantic import BaseModel, Field

from agent.deps import ChatContext
from agent.graph import Graph
from agent.memory import SessionInfo, SessionRegistry
from agent.nodes.guard import message_text
from agent.nodes.handoff import start_handoff, support_message
from agent.prompts import say
from agent.state import Handoff
from core.telemetry import set_attributes, span

logger = logging.getLogger(__name__)

EventName = Literal[
    "session",
    "tool_started",
    "tool_finished",
    "token",
    "reset",
    "card",
    "message",
    "handoff",
    "error",
    "done",
]


class ChatEvent(BaseModel):
    event: EventName
    data: dict[str, Any] = Field(default_factory=dict)


class SessionNotFound(Exception):
    """Unknown, expired-and-forgotten, or someone else's session (indistinguishable on purpose)."""


class HandoffConflict(Exception):
    """A support action that does not fit the session's state (e.g. replying when nobody took it)."""


def message_event(message: BaseMessage) -> ChatEvent:
    extra = message.additional_kwargs
    return ChatEvent(
        event="message",
        data={
            "id": message.id,
            "role": "support" if message.name == "support" else "assistant",
            "text": message_text(message),
            "source": extra.get("source"),
            "cards": extra.get("cards", []),
            "intents": extra.get("intents", []),
            "tools": extra.get("tools", []),
            "llm_attempted": extra.get("llm_attempted", False),
        },
    )


class SessionHub:
    """Fan-out of a session's events to its live subscribers (in-process)."""

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[ChatEvent]]] = defaultdict(set)

    def publish(self, session_id: str, event: ChatEvent) -> None:
        for queue in list(self._queues.get(session_id, ())):
            with suppress(asyncio.QueueFull):
                queue.put_nowait(event)

    @contextmanager
    def listen(self, session_id: str) -> Iterator[AsyncIterator[ChatEvent]]:
        """Receive the session's events from the moment this is entered (not from the first read),
        so a caller can subscribe, then start a turn, and miss nothing."""
        queue: asyncio.Queue[ChatEvent] = asyncio.Queue(maxsize=1000)
        self._queues[session_id].add(queue)

        async def events() -> AsyncIterator[ChatEvent]:
            while True:
                yield await queue.get()

        try:
            yield events()
        finally:
            self._queues[session_id].discard(queue)
            if not self._queues[session_id]:
                del self._queues[session_id]

    async def subscribe(self, session_id: str) -> AsyncIterator[ChatEvent]:
        with self.listen(session_id) as events:
            async for event in events:
                yield event


class ChatService:
    def __init__(self, graph: Graph, sessions: SessionRegistry) -> None:
        if graph.checkpointer is None:
            raise ValueError("the chat service needs a graph compiled with a checkpointer")
        self.graph = graph
        self.sessions = sessions
        self.hub = SessionHub()
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    # --- sessions ---------------------------------------------------------------------------

    async def open_session(
        self, user_id: str, session_id: str | None = None
    ) -> tuple[SessionInfo, str | None]:
        """The person's live session, or a new one; returns it and the id of an expired one it replaces."""
        if session_id is None:
            return await asyncio.to_thread(self.sessions.create, user_id), None
        info = await self.owned(user_id, session_id)
        if info.expired:
            await self.forget(info.id)
            return await asyncio.to_thread(self.sessions.create, user_id), info.id
        return info, None

    async def owned(self, user_id: str, session_id: str) -> SessionInfo:
        info = await self.session(session_id)
        if info.user_id != user_id:
            raise SessionNotFound(session_id)
        return info

    async def session(self, session_id: str) -> SessionInfo:
        try:
            uuid.UUID(session_id)
        except ValueError:
            raise SessionNotFound(session_id) from None
        info = await asyncio.to_thread(self.sessions.get, session_id)
        if info is None:
            raise SessionNotFound(session_id)
        return info

    async def history(self, session_id: str) -> list[ChatEvent]:
        """The conversation so far, as the events a client would have received."""
        snapshot = await self.graph.aget_state(self._config(session_id))
        events = []
        for message in snapshot.values.get("messages", []):
            if isinstance(message, HumanMessage):
                kept = {k: v for k, v in message.additional_kwargs.items() if k in ("attachments", "voice")}
                events.append(
                    ChatEvent(
                        event="message",
                        data={"id": message.id, "role": "user", "text": message_text(message), **kept},
                    )
                )
            elif isinstance(message, AIMessage):
                events.append(message_event(message))
        return events

    async def forget(self, session_id: str) -> None:
        checkpointer = self.graph.checkpointer
        assert isinstance(checkpointer, BaseCheckpointSaver)
        await checkpointer.adelete_thread(session_id)

    async def purge_expired(self) -> int:
        """Delete the checkpoints of sessions idle past the TTL; returns how many."""
        expired = await asyncio.to_thread(self.sessions.expire_due)
        for session_id in expired:
            await self.forget(session_id)
        return len(expired)

    # --- turns ------------------------------------------------------------------------------

    @staticmethod
    def _config(session_id: str) -> RunnableConfig:
        return {"configurable": {"thread_id": session_id}}

    async def turn(
        self,
        user_id: str,
        text: str,
        *,
        session_id: str | None = None,
        locale: Literal["zh", "en"] | None = None,
        attachments: Sequence[str] = (),
        voice: dict[str, Any] | None = None,
    ) -> AsyncIterator[ChatEvent]:
        """Run one turn (see ``_turn``) inside an ``agent.turn`` span: the session, locale and, at the
        end, the intents, reply sources and tool count; never the text."""
        with span(
            "agent.turn",
            **{
                "chat.locale": locale,
                "chat.attachments": len(attachments),
                "chat.voice": voice is not None,
            },
        ) as current:
            intents: list[str] = []
            sources: list[str] = []
            tools = 0
            async for event in self._turn(
                user_id, text, session_id=session_id, locale=locale, attachments=attachments, voice=voice
            ):
                if event.event == "session":
                    set_attributes(current, **{"chat.session_id": event.data.get("session_id")})
                elif event.event == "message":
                    intents.extend(str(intent) for intent in event.data.get("intents") or [])
                    sources.append(str(event.data.get("source")))
                    tools += len(event.data.get("tools") or [])
                yield event
            set_attributes(
                current,
                **{
                    "chat.intents": list(dict.fromkeys(intents)),
                    "chat.reply_sources": sources,
                    "chat.tool_calls": tools,
                },
            )

    async def _turn(
        self,
        user_id: str,
        text: str,
        *,
        session_id: str | None = None,
        locale: Literal["zh", "en"] | None = None,
        attachments: Sequence[str] = (),
        voice: dict[str, Any] | None = None,
    ) -> AsyncIterator[ChatEvent]:
        """Run one turn. ``attachments`` are upload ids (photos) sent with the text, ``voice`` what the
        recogniser said about a spoken message (engine, duration, confidence); both travel in the
        message's ``additional_kwargs`` so the graph's input stays messages only, and both are kept
        with the conversation."""
        info, replaced = await self.open_session(user_id, session_id)
        yield ChatEvent(
            event="session",
            data={
                "session_id": info.id,
                "expires_at": (info.last_active_at + self.sessions.ttl).isoformat(),
                "replaces": replaced,
            },
        )
        extra: dict[str, Any] = {"attachments": list(attachments)} if attachments else {}
        if voice is not None:
            extra["voice"] = voice
        human = HumanMessage(content=text, id=str(uuid.uuid4()), additional_kwargs=extra)
        self.hub.publish(
            info.id,
            ChatEvent(event="message", data={"id": human.id, "role": "user", "text": text, **extra}),
        )
        async with self._locks[info.id]:
            async for event in self._run(
                info.id, {"messages": [human]}, ChatContext(user_id, locale), human.id
            ):
                yield event
            await asyncio.to_thread(self.sessions.touch, info.id, text)
        # Published too, so another tab or device following the session knows the turn is over.
        done = ChatEvent(event="done", data={"session_id": info.id})
        self.hub.publish(info.id, done)
        yield done

    async def _run(
        self, session_id: str, graph_input: Any, context: ChatContext, after_id: str | None
    ) -> AsyncIterator[ChatEvent]:
        """Stream one run; yields and publishes its events, then its new replies."""
        config = self._config(session_id)
        before = {m.id for m in (await self.graph.aget_state(config)).values.get("messages", [])}
        interrupted = False
        async for mode, chunk in self.graph.astream(
            graph_input, config, context=context, stream_mode=["custom", "updates"]
        ):
            if mode == "custom":
                payload: dict[str, Any] = dict(chunk)  # type: ignore[arg-type]  # what nodes emit
                event = ChatEvent(event=payload.pop("event"), data=payload)
            elif "__interrupt__" in chunk:
                interrupted = True
                continue
            else:
                continue
            self.hub.publish(session_id, event)
            yield event
        snapshot = await self.graph.aget_state(config)
        for message in snapshot.values.get("messages", []):
            if isinstance(message, AIMessage) and message.id not in before:
                event = message_event(message)
                self.hub.publish(session_id, event)
                yield event
        handoff = Handoff.model_validate(snapshot.values.get("handoff") or {})
        await asyncio.to_thread(self.sessions.set_handoff, session_id, handoff.active, handoff.staff)
        if handoff.active:
            event = ChatEvent(event="handoff", data={"active": True, "waiting_for_support": interrupted})
            self.hub.publish(session_id, event)
            yield event

    # --- support ----------------------------------------------------------------------------

    async def _pending_interrupt(self, session_id: str) -> bool:
        snapshot = await self.graph.aget_state(self._config(session_id))
        return bool(snapshot.interrupts)

    async def take_over(self, session_id: str, staff_id: str) -> SessionInfo:
        """Support takes the thread; returns the session as it is now (handed off, with the staff id)."""
        await self._live(session_id)
        async with self._locks[session_id]:
            await self.graph.aupdate_state(
                self._config(session_id),
                {"handoff": start_handoff(reason="taken over by support", staff=staff_id)},
                as_node="handoff",
            )
            await asyncio.to_thread(self.sessions.set_handoff, session_id, True, staff_id)
        self.hub.publish(
            session_id, ChatEvent(event="handoff", data={"active": True, "waiting_for_support": False})
        )
        return await self.session(session_id)

    async def support_reply(self, session_id: str, staff_id: str, text: str) -> list[ChatEvent]:
        info = await self._live(session_id)
        if not info.handoff:
            raise HandoffConflict("take the conversation over before replying")
        if not text.strip():
            raise HandoffConflict("the reply is empty")
        async with self._locks[session_id]:
            if await self._pending_interrupt(session_id):
                resume: Command[Any] = Command(resume={"type": "response", "args": text})
                return [e async for e in self._run(session_id, resume, ChatContext(info.user_id), None)]
            message = support_message(text.strip())
            message.id = str(uuid.uuid4())
            await self.graph.aupdate_state(
                self._config(session_id), {"messages": [message]}, as_node="handoff"
            )
        event = message_event(message)
        self.hub.publish(session_id, event)
        return [event]

    async def hand_back(
        self, session_id: str, staff_id: str, *, answer_waiting: bool = True
    ) -> list[ChatEvent]:
        """Give the thread back to the assistant; it answers the waiting message unless told not to."""
        info = await self._live(session_id)
        if not info.handoff:
            raise HandoffConflict("the assistant already has this conversation")
        async with self._locks[session_id]:
            if await self._pending_interrupt(session_id):
                resume: Command[Any] = Command(
                    resume={"type": "accept" if answer_waiting else "ignore", "args": None}
                )
                return [e async for e in self._run(session_id, resume, ChatContext(info.user_id), None)]
            snapshot = await self.graph.aget_state(self._config(session_id))
            notice = AIMessage(
                content=say("handback", snapshot.values.get("language", "en")),
                id=str(uuid.uuid4()),
                additional_kwargs={"source": "template"},
            )
            await self.graph.aupdate_state(
                self._config(session_id),
                {"handoff": Handoff().model_dump(), "messages": [notice]},
                as_node="handoff",
            )
            await asyncio.to_thread(self.sessions.set_handoff, session_id, False)
        events = [message_event(notice), ChatEvent(event="handoff", data={"active": False})]
        for event in events:
            self.hub.publish(session_id, event)
        return events

    async def _live(self, session_id: str) -> SessionInfo:
        info = await self.session(session_id)
        if info.expired:
            raise SessionNotFound(session_id)
        return info
