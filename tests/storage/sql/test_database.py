"""Contract tests for the relational store, run on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from storage.sql import Base, Database
from storage.sql.models import OutboxEvent, Profile, RefreshToken, User
from storage.sql.outbox import add_event


def test_migrations_match_the_models(database: Database) -> None:
    """Alembic's head schema is exactly what the models declare: no drift, no create_all."""
    with database.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_migrate_is_idempotent(database: Database) -> None:
    database.migrate()
    assert database.ping()


def test_a_failing_unit_of_work_writes_nothing(database: Database) -> None:
    with pytest.raises(RuntimeError), database.session() as session:
        session.add(User(email="a@example.com", hashed_password="x"))
        session.flush()
        raise RuntimeError("boom")
    with database.session() as session:
        assert session.scalars(select(User)).all() == []


def test_timestamps_come_back_as_aware_utc(database: Database) -> None:
    shanghai = timezone(timedelta(hours=8))
    moment = datetime(2026, 11, 27, 20, 0, tzinfo=shanghai)
    with database.session() as session:
        user = User(email="t@example.com", hashed_password="x")
        session.add(user)
        session.flush()
        session.add(
            RefreshToken(jti="j1", user_id=user.id, family_id="f1", issued_at=moment, expires_at=moment)
        )
    with database.session() as session:
        token = session.get(RefreshToken, "j1")
        assert token is not None
        assert token.expires_at == moment
        assert token.expires_at.tzinfo is not None
        assert token.expires_at.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(database: Database) -> None:
    with pytest.raises(Exception, match="naive datetime"), database.session() as session:
        session.add(User(email="n@example.com", hashed_password="x", created_at=datetime(2026, 1, 1)))
        session.flush()


def test_deleting_a_user_cascades_to_profile_and_tokens(database: Database) -> None:
    with database.session() as session:
        user = User(email="c@example.com", hashed_password="x", profile=Profile(styles=["classic"]))
        session.add(user)
        session.flush()
        session.add(
            RefreshToken(
                jti="j2", user_id=user.id, family_id="f", expires_at=datetime.now(UTC) + timedelta(days=1)
            )
        )
        user_id = user.id
    with database.session() as session:
        session.delete(session.get(User, user_id))
    with database.session() as session:
        assert session.get(Profile, user_id) is None
        assert session.scalars(select(RefreshToken)).all() == []


def test_json_columns_round_trip_unicode(database: Database) -> None:
    with database.session() as session:
        user = User(
            email="u@example.com",
            hashed_password="x",
            profile=Profile(favourite_colours=["藏青色", "white"], consents={"marketing": False}),
        )
        session.add(user)
        session.flush()
        user_id = user.id
    with database.session() as session:
        profile = session.get(Profile, user_id)
        assert profile is not None
        assert profile.favourite_colours == ["藏青色", "white"]
        assert profile.consents == {"marketing": False}


def test_email_is_unique(database: Database) -> None:
    with database.session() as session:
        session.add(User(email="d@example.com", hashed_password="x"))
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"), database.session() as session:
        session.add(User(email="d@example.com", hashed_password="y"))


def test_outbox_rows_commit_and_roll_back_with_their_data(database: Database) -> None:
    with database.session() as session:
        add_event(session, topic="user-behavior-events", type="t.ok", key="k", payload={"n": 1})
    with pytest.raises(RuntimeError), database.session() as session:
        add_event(session, topic="user-behavior-events", type="t.lost", key="k", payload={})
        raise RuntimeError("rolled back")
    with database.session() as session:
        assert [row.type for row in session.scalars(select(OutboxEvent))] == ["t.ok"]


def test_outbox_refuses_unknown_topics(database: Database) -> None:
    with pytest.raises(ValueError, match="not-a-topic"), database.session() as session:
        add_event(session, topic="not-a-topic", type="t", key="k", payload={})
