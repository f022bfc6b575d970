"""Support's internal notes on a conversation: written by staff, read by staff, never sent to the person.

The router checks who may call (staff) and that the session exists; this only keeps the notes.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select

from storage.sql.database import Database
from storage.sql.models import SupportNote, User


class NoteRead(BaseModel):
    id: str
    session_id: str
    #: Null when the author's account was deleted since.
    author_id: str | None
    author_email: str | None
    text: str
    created_at: datetime


class SupportNotes:
    def __init__(self, database: Database) -> None:
        self._db = database

    def add(self, session_id: str, author_id: str, text: str) -> NoteRead:
        with self._db.session() as session:
            row = SupportNote(session_id=session_id, author_id=author_id, text=text)
            session.add(row)
            session.flush()
            author = session.get(User, author_id)
            return _read(row, author.email if author is not None else None)

    def for_session(self, session_id: str, limit: int = 500) -> list[NoteRead]:
        """Oldest first, as a conversation reads."""
        with self._db.session() as session:
            rows = session.execute(
                select(SupportNote, User.email)
                .outerjoin(User, User.id == SupportNote.author_id)
                .where(SupportNote.session_id == session_id)
                .order_by(SupportNote.created_at, SupportNote.id)
                .limit(limit)
            ).all()
            return [_read(note, email) for note, email in rows]


def _read(row: SupportNote, author_email: str | None) -> NoteRead:
    return NoteRead(
        id=row.id,
        session_id=row.session_id,
        author_id=row.author_id,
        text=row.text,
        author_email=author_email,
        created_at=row.created_at,
    )
