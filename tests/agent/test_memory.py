"""The session registry's figures for the admin view, on both SQL backends."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from agent.memory import LiveCounts, SessionRegistry
from storage.sql.database import Database
from storage.sql.models import ChatSession
from storage.sql.types import utcnow


def test_live_counts_split_sessions_by_where_support_stands(
    database_with_users: tuple[Database, str, str],
) -> None:
    database, ann, bob = database_with_users
    registry = SessionRegistry(database, ttl=timedelta(hours=1))
    plain = registry.create(ann)
    waiting = registry.create(ann)
    taken = registry.create(bob)
    stale = registry.create(bob)
    expired = registry.create(bob)
    registry.set_handoff(waiting.id, True)
    registry.set_handoff(taken.id, True, staff_id=ann)
    registry.set_handoff(stale.id, True)
    with database.session() as session:
        session.execute(
            update(ChatSession)
            .where(ChatSession.id == stale.id)
            .values(last_active_at=utcnow() - timedelta(hours=2))
        )
        session.execute(update(ChatSession).where(ChatSession.id == expired.id).values(expired_at=utcnow()))
    assert registry.live_counts() == LiveCounts(live=3, with_support=2, waiting_for_support=1, taken_over=1)
    assert {s.id for s in registry.active()} == {plain.id, waiting.id, taken.id}
