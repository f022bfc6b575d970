"""The outbox relay against SQLite and PostgreSQL, publishing to the in-process bus."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from storage.events import Event, MemoryEventBus, Topic
from storage.sql import Database
from storage.sql.models import OutboxEvent
from storage.sql.outbox import OutboxRelay, add_event, relay_forever


class FlakyBus(MemoryEventBus):
    """A real in-process bus whose publish fails a set number of times, like a broker outage."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def publish(self, topic: str, event: Event) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("broker unavailable")
        super().publish(topic, event)


def _stage(database: Database, *keys: str) -> list[str]:
    with database.session() as session:
        return [
            add_event(session, topic=Topic.USER_BEHAVIOR_EVENTS, type="test.ran", key=key, payload={"k": key})
            for key in keys
        ]


def test_pending_events_are_published_once_in_order(database: Database) -> None:
    bus = MemoryEventBus()
    ids = _stage(database, "a", "b", "c")
    relay = OutboxRelay(database, bus)
    assert relay.publish_pending() == 3
    assert relay.publish_pending() == 0
    delivered = bus.poll(Topic.USER_BEHAVIOR_EVENTS, "g", max_events=10, timeout_s=0)
    assert sorted(d.event.id for d in delivered) == sorted(ids)
    event = next(d.event for d in delivered if d.event.key == "b")
    assert (event.type, event.version, event.payload) == ("test.ran", 1, {"k": "b"})
    with database.session() as session:
        assert all(row.published_at is not None for row in session.scalars(select(OutboxEvent)))


def test_a_failed_publish_keeps_the_row_and_is_retried(database: Database) -> None:
    bus = FlakyBus(failures=1)
    _stage(database, "x", "y")
    relay = OutboxRelay(database, bus)
    assert relay.publish_pending() == 0  # stops at the first failure to keep per-key order
    with database.session() as session:
        first = session.scalars(select(OutboxEvent).order_by(OutboxEvent.created_at)).first()
        assert first is not None
        assert first.attempts == 1
        assert first.last_error is not None
        assert "broker unavailable" in first.last_error
    assert relay.publish_pending() == 2
    assert len(bus.poll(Topic.USER_BEHAVIOR_EVENTS, "g", max_events=10, timeout_s=0)) == 2


def test_relay_loop_publishes_until_stopped(database: Database) -> None:
    bus = MemoryEventBus()
    _stage(database, "loop")

    async def run() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(relay_forever(OutboxRelay(database, bus), stop, interval_s=0.01))
        for _ in range(200):
            if bus.lag(Topic.USER_BEHAVIOR_EVENTS, "g") == 1:
                break
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, timeout=5)

    asyncio.run(run())
    assert [d.event.key for d in bus.poll(Topic.USER_BEHAVIOR_EVENTS, "g", timeout_s=0)] == ["loop"]


@pytest.mark.parametrize("topic", list(Topic))
def test_every_design_topic_is_accepted(database: Database, topic: Topic) -> None:
    with database.session() as session:
        add_event(session, topic=topic, type="t", key="k", payload={})
