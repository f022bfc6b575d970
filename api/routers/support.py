"""The support console: see live conversations, take one over, answer as a person, hand it back.

Support's replies reach the person through the session's subscribers (their WebSocket or the
``/chat/sessions/{id}/events`` stream); the console follows the same session here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, Field

from agent.memory import SessionInfo
from agent.service import ChatEvent
from api.deps import ChatDep, SessionIdPath, StaffSession, StaffUser
from api.routers.chat import SessionDetail
from api.streaming import session_stream
from tools.profile.schemas import StrictModel

router = APIRouter(prefix="/support", tags=["support"])


class SupportReply(StrictModel):
    text: str = Field(min_length=1, max_length=4000)


class HandBack(StrictModel):
    answer_waiting: bool = Field(
        default=True,
        description="Let the assistant answer the message the person left while support had the thread.",
    )


class SupportAction(BaseModel):
    session: SessionInfo
    events: list[ChatEvent] = Field(description="What the person was sent as a result.")


@router.get("/sessions")
def list_sessions(
    staff: StaffUser,
    chat: ChatDep,
    handoff_only: Annotated[
        bool, Query(description="Only conversations waiting for or with support")
    ] = False,
) -> list[SessionInfo]:
    """Live sessions, most recently active first."""
    return chat.sessions.active(handoff_only=handoff_only)


@router.get("/sessions/{session_id}")
async def read_session(session: StaffSession, chat: ChatDep) -> SessionDetail:
    return SessionDetail(**session.model_dump(), history=await chat.history(session.id))


@router.post("/sessions/{session_id}/takeover")
async def take_over(session_id: SessionIdPath, staff: StaffUser, chat: ChatDep) -> SupportAction:
    """Take the conversation from the assistant; it stays quiet until handed back."""
    return SupportAction(session=await chat.take_over(session_id, staff.id), events=[])


@router.post("/sessions/{session_id}/reply")
async def reply(
    session_id: SessionIdPath, body: SupportReply, staff: StaffUser, chat: ChatDep
) -> SupportAction:
    """Answer as support; 409 unless the conversation is with support (asked for, or taken over)."""
    events = await chat.support_reply(session_id, staff.id, body.text)
    return SupportAction(session=await chat.session(session_id), events=events)


@router.post("/sessions/{session_id}/handback")
async def hand_back(
    session_id: SessionIdPath, staff: StaffUser, chat: ChatDep, body: HandBack | None = None
) -> SupportAction:
    """Give the conversation back to the assistant, which answers a waiting message unless told not to."""
    answer_waiting = body.answer_waiting if body is not None else True
    events = await chat.hand_back(session_id, staff.id, answer_waiting=answer_waiting)
    return SupportAction(session=await chat.session(session_id), events=events)


@router.get("/sessions/{session_id}/events", response_class=EventSourceResponse)
async def watch_session(session: StaffSession, chat: ChatDep) -> AsyncIterator[ServerSentEvent]:
    """Server-Sent Events for everything said in the session from now on, the person's messages included.

    Opens with a `: subscribed` comment; `: ping` comments keep a quiet stream alive.
    """
    async for item in session_stream(chat.hub, session.id):
        yield item
