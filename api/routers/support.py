"""The support console: see live conversations, take one over, answer as a person, hand it back.

Support's replies reach the person through the session's subscribers (their WebSocket or the
``/chat/sessions/{id}/events`` stream); the console follows the same session here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response, status
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, Field

from agent.memory import SessionInfo
from agent.service import ChatEvent
from api.deps import (
    AccountsDep,
    ChatDep,
    ProfilesDep,
    SessionIdPath,
    StaffSession,
    StaffUser,
    StoresDep,
    WardrobeDep,
)
from api.routers.chat import SessionDetail
from api.streaming import session_stream
from tools.profile.schemas import ProfileRead, StrictModel, UserRead
from tools.support import queries
from tools.support.notes import NoteRead, SupportNotes
from tools.wardrobe.schemas import WardrobeItemRead

router = APIRouter(prefix="/support", tags=["support"])

#: How many wardrobe items the console shows beside a conversation.
WARDROBE_SHOWN = 50


class SupportReply(StrictModel):
    text: str = Field(min_length=1, max_length=4000)


class HandBack(StrictModel):
    answer_waiting: bool = Field(
        default=True,
        description="Let the assistant answer the message the person left while support had the thread.",
    )


class ConsoleSession(SessionInfo):
    """A live session as the console lists it: who is talking, not just their id."""

    user_email: str | None = Field(description="Null if the account was deleted meanwhile.")
    user_name: str | None


class Person(BaseModel):
    """What support may see of the person behind a conversation."""

    user: UserRead
    profile: ProfileRead
    wardrobe: list[WardrobeItemRead] = Field(description=f"The newest {WARDROBE_SHOWN} items, newest first.")


class NoteIn(StrictModel):
    text: str = Field(min_length=1, max_length=2000)


def _notes(stores: StoresDep) -> SupportNotes:
    return SupportNotes(stores.db)


NotesDep = Annotated[SupportNotes, Depends(_notes)]
ItemIdPath = Annotated[str, Path(min_length=1, max_length=36, description="The wardrobe item's id")]


class SupportAction(BaseModel):
    session: SessionInfo
    events: list[ChatEvent] = Field(description="What the person was sent as a result.")


@router.get("/sessions")
def list_sessions(
    staff: StaffUser,
    chat: ChatDep,
    stores: StoresDep,
    handoff_only: Annotated[
        bool, Query(description="Only conversations waiting for or with support")
    ] = False,
) -> list[ConsoleSession]:
    """Live sessions, most recently active first, each with the person's email and name."""
    sessions = chat.sessions.active(handoff_only=handoff_only)
    who = queries.people(stores.db, {s.user_id for s in sessions})
    return [
        ConsoleSession(
            **s.model_dump(),
            user_email=who.get(s.user_id, (None, None))[0],
            user_name=who.get(s.user_id, (None, None))[1],
        )
        for s in sessions
    ]


@router.get("/sessions/{session_id}")
async def read_session(session: StaffSession, chat: ChatDep) -> SessionDetail:
    return SessionDetail(**session.model_dump(), history=await chat.history(session.id))


@router.get("/sessions/{session_id}/person")
def read_person(
    session: StaffSession, accounts: AccountsDep, profiles: ProfilesDep, wardrobe: WardrobeDep
) -> Person:
    """The person's account, profile and newest wardrobe items, to answer them without asking again."""
    return Person(
        user=accounts.get_user(session.user_id),
        profile=profiles.get(session.user_id),
        wardrobe=wardrobe.all_items(session.user_id)[:WARDROBE_SHOWN],
    )


@router.get("/sessions/{session_id}/wardrobe/{item_id}/photo")
def read_wardrobe_photo(
    session: StaffSession,
    item_id: ItemIdPath,
    wardrobe: WardrobeDep,
    variant: Literal["photo", "cutout"] = "photo",
) -> Response:
    """A photo from the wardrobe of the person in this conversation (the person's own photo route
    serves only the caller's items); an item that is not theirs is a 404."""
    photo = wardrobe.photo(session.user_id, item_id, variant)
    return Response(
        photo.data, media_type=photo.content_type, headers={"Cache-Control": "private, max-age=3600"}
    )


@router.get("/sessions/{session_id}/notes")
def list_notes(session: StaffSession, notes: NotesDep) -> list[NoteRead]:
    """Support's internal notes on the conversation, oldest first; the person never sees them."""
    return notes.for_session(session.id)


@router.post("/sessions/{session_id}/notes", status_code=status.HTTP_201_CREATED)
def add_note(session: StaffSession, body: NoteIn, staff: StaffUser, notes: NotesDep) -> NoteRead:
    return notes.add(session.id, staff.id, body.text)


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
