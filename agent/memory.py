"""Conversation memory: the LangGraph checkpointer and the registry of chat sessions.

Short-term memory is the thread's checkpoint (messages, pending questions, cards shown),
in SQLite embedded and PostgreSQL in production. A session's id is its thread id; a
session expires ``agent.session_ttl_hours`` after its last message, and expiry deletes the
checkpoint. Long-term memory is the profile, changed only through the profile tools.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from pydantic import BaseModel
from sqlalchemy import ColumnElement, func, select, update

from core.config import Settings
from storage.sql.database import Database
from storage.sql.models import ChatSession
from storage.sql.types import utcnow

CHECKPOINT_FILE = "checkpoints.sqlite3"
#: Seconds a turn waits for a checkpoint connection before giving up (the database is down).
CHECKPOINT_POOL_TIMEOUT_S = 5.0
#: Characters of the first message kept as the session's title.
TITLE_CHARS = 80


@asynccontextmanager
async def open_checkpointer(settings: Settings) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """The checkpointer for the configured SQL backend, with its tables created."""
    if settings.sql.backend == "postgresql":
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        from psycopg.rows import dict_row
        from psycopg_pool import AsyncConnectionPool

        url = settings.sql_url.replace("postgresql+psycopg://", "postgresql://", 1)
        async with AsyncConnectionPool(
            url,
            min_size=1,
            max_size=settings.sql.pool_size,
            kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
            open=False,
            # A connection broken by a database restart is replaced when taken, not handed to a
            # turn; and a turn waits at most CHECKPOINT_POOL_TIMEOUT_S for one while the database
            # is down, then fails with an error the API reports as a 503 instead of hanging.
            check=AsyncConnectionPool.check_connection,
            timeout=CHECKPOINT_POOL_TIMEOUT_S,
        ) as pool:
            postgres = AsyncPostgresSaver(conn=pool)  # type: ignore[arg-type]
            await postgres.setup()
            yield postgres
        return
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    path = settings.resolve(settings.sql.sqlite_path).parent / CHECKPOINT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    async with AsyncSqliteSaver.from_conn_string(str(path)) as sqlite:
        yield sqlite


class SessionInfo(BaseModel):
    id: str
    user_id: str
    created_at: datetime
    last_active_at: datetime
    expires_at: datetime
    expired: bool
    handoff: bool
    handoff_since: datetime | None
    staff_id: str | None
    turns: int
    #: The start of the person's first message (null until one with words arrives).
    title: str | None = None


@dataclass
class LiveCounts:
    live: int = 0
    #: Handed to support: asked for (``waiting_for_support``) or taken by staff (``taken_over``).
    with_support: int = 0
    waiting_for_support: int = 0
    taken_over: int = 0


class SessionRegistry:
    """Who owns which thread, when it was last used, and whether support has it."""

    def __init__(self, database: Database, ttl: timedelta) -> None:
        self._db = database
        self.ttl = ttl

    def _info(self, row: ChatSession) -> SessionInfo:
        expires_at = row.last_active_at + self.ttl
        return SessionInfo(
            id=row.id,
            user_id=row.user_id,
            created_at=row.created_at,
            last_active_at=row.last_active_at,
            expires_at=expires_at,
            expired=row.expired_at is not None or expires_at <= utcnow(),
            handoff=row.handoff,
            handoff_since=row.handoff_since,
            staff_id=row.staff_id,
            turns=row.turns,
            title=row.title,
        )

    def create(self, user_id: str) -> SessionInfo:
        with self._db.session() as session:
            row = ChatSession(user_id=user_id, handoff=False, turns=0)
            session.add(row)
            session.flush()
            return self._info(row)

    def get(self, session_id: str) -> SessionInfo | None:
        with self._db.session() as session:
            row = session.get(ChatSession, session_id)
            return self._info(row) if row is not None else None

    def touch(self, session_id: str, said: str = "") -> None:
        """One more turn; the first message with words in it names the session."""
        title = " ".join(said.split())[:TITLE_CHARS]
        with self._db.session() as session:
            session.execute(
                update(ChatSession)
                .where(ChatSession.id == session_id)
                .values(
                    last_active_at=utcnow(),
                    turns=ChatSession.turns + 1,
                    title=func.coalesce(ChatSession.title, title or None),
                )
            )

    def set_handoff(self, session_id: str, active: bool, staff_id: str | None = None) -> None:
        with self._db.session() as session:
            row = session.get(ChatSession, session_id)
            if row is None:
                return
            if active and not row.handoff:
                row.handoff_since = utcnow()
            row.handoff = active
            row.staff_id = staff_id if active else None
            if not active:
                row.handoff_since = None

    def for_user(self, user_id: str, limit: int = 50) -> list[SessionInfo]:
        with self._db.session() as session:
            rows = session.scalars(
                select(ChatSession)
                .where(ChatSession.user_id == user_id, ChatSession.expired_at.is_(None))
                .order_by(ChatSession.last_active_at.desc())
                .limit(limit)
            ).all()
            return [info for info in map(self._info, rows) if not info.expired]

    def _live(self) -> tuple[ColumnElement[bool], ...]:
        """What makes a session live: not expired, and used within the TTL."""
        return ChatSession.expired_at.is_(None), ChatSession.last_active_at > utcnow() - self.ttl

    def active(self, *, handoff_only: bool = False, limit: int = 100) -> list[SessionInfo]:
        """Live sessions for the support console, most recently active first."""
        query = select(ChatSession).where(*self._live())
        if handoff_only:
            query = query.where(ChatSession.handoff.is_(True))
        with self._db.session() as session:
            rows = session.scalars(query.order_by(ChatSession.last_active_at.desc()).limit(limit)).all()
            return [self._info(row) for row in rows]

    def live_counts(self) -> LiveCounts:
        """How many sessions are live, and where support stands with them: one grouped count, so
        the admin view's figures hold however many sessions there are."""
        taken = ChatSession.staff_id.is_not(None)
        counts = LiveCounts()
        with self._db.session() as session:
            rows = session.execute(
                select(ChatSession.handoff, taken, func.count())
                .where(*self._live())
                .group_by(ChatSession.handoff, taken)
            )
            for handoff, has_staff, n in rows:
                counts.live += n
                if handoff:
                    counts.with_support += n
                    if has_staff:
                        counts.taken_over += n
                    else:
                        counts.waiting_for_support += n
        return counts

    def expire_due(self, now: datetime | None = None) -> list[str]:
        """Mark sessions idle for longer than the TTL as expired; returns their ids to forget."""
        now = now or utcnow()
        with self._db.session() as session:
            rows = session.scalars(
                select(ChatSession).where(
                    ChatSession.expired_at.is_(None), ChatSession.last_active_at <= now - self.ttl
                )
            ).all()
            for row in rows:
                row.expired_at = now
            return [row.id for row in rows]
