"""The transactional outbox: events are rows first, messages second.

``add_event`` writes the event into the caller's session, so it commits or rolls
back with the data it announces. ``OutboxRelay`` later publishes unpublished rows
to the event bus and marks them; if publishing fails the row stays and is retried,
so delivery is at-least-once and consumers deduplicate by event id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from itertools import groupby
from operator import attrgetter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.events import Event, EventBus, Topic
from storage.sql.database import Database
from storage.sql.models import OutboxEvent
from storage.sql.types import utcnow

logger = logging.getLogger(__name__)


def add_event(
    session: Session, *, topic: str, type: str, key: str, payload: dict[str, Any], version: int = 1
) -> str:
    """Stage an event in the caller's transaction and return its id."""
    Topic(topic)  # refuse unknown topics at write time, not at publish time
    row = OutboxEvent(topic=topic, key=key, type=type, version=version, payload=payload)
    session.add(row)
    session.flush()
    return row.id


class OutboxRelay:
    """Publishes unpublished rows, a run of same-topic rows per ``publish_many`` call.

    Batching keeps creation order (runs are consecutive rows) while waiting for the
    broker once per run instead of once per row.
    """

    def __init__(self, db: Database, bus: EventBus) -> None:
        self.db = db
        self.bus = bus

    def publish_pending(self, limit: int = 500) -> int:
        """Publish up to ``limit`` unpublished events in creation order; returns how many went out.

        A failed run marks none of its rows published (some may have reached the broker:
        at-least-once, consumers deduplicate by id) and ends the pass, so no later event
        overtakes it and per-key order holds.
        """
        published = 0
        with self.db.session() as session:
            rows = session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.published_at.is_(None))
                .order_by(OutboxEvent.created_at, OutboxEvent.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
            # groupby keeps consecutive rows together: a run never reorders rows across topics
            for _, same_topic in groupby(rows, key=attrgetter("topic")):
                run = list(same_topic)
                if not self._publish_run(run):
                    break
                published += len(run)
        return published

    def _publish_run(self, run: list[OutboxEvent]) -> bool:
        """Publish one same-topic run and record the outcome on its rows; False if it failed."""
        try:
            self.bus.publish_many(Topic(run[0].topic), [_event_of(row) for row in run])
        except Exception as exc:  # keep the rows; the next pass retries them
            for row in run:
                row.attempts += 1
                row.last_error = repr(exc)[:2000]
            logger.warning(
                "outbox publish failed",
                extra={"event_id": run[0].id, "events": len(run), "error": repr(exc)},
            )
            return False
        now = utcnow()
        for row in run:
            row.published_at = now
            row.attempts += 1
        return True


def _event_of(row: OutboxEvent) -> Event:
    return Event(
        id=row.id,
        type=row.type,
        version=row.version,
        occurred_at=row.occurred_at,
        key=row.key,
        payload=row.payload,
    )


async def relay_forever(relay: OutboxRelay, stop: asyncio.Event, *, interval_s: float = 0.5) -> None:
    """Publish pending events until ``stop`` is set; a failing pass is logged and retried next tick.

    The embedded runtime runs this as an asyncio task in the API process; in
    production each API pod runs it too (row locks with SKIP LOCKED keep pods
    from publishing the same row twice at once, and consumers deduplicate anyway).
    """
    while not stop.is_set():
        try:
            await asyncio.to_thread(relay.publish_pending)
        except Exception:
            logger.exception("outbox relay pass failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_s)
