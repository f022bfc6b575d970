"""The outbox relay against SQLite and PostgreSQL, publishing to the in-process bus."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from sqlalchemy import select

from storage.events import Event, MemoryEventBus, Topic
from storage.sql import Database
from storage.sql.models import OutboxEvent
from storage.sql.outbox import OutboxRelay, add_event, relay_forever


class FlakyBus(MemoryEventBus):
    """A real in-process bus whose publishing (one event or a batch) fails a set number of times."""

    def __init__(self, failures: int, *, succeed_first: int = 0) -> None:
        super().__init__()
        self.failures = failures
        #: Calls that succeed before the failures start (a broker that goes down mid-pass).
        self.succeed_first = succeed_first
        #: (topic, event count) of every publish_many call, failed ones included.
        self.batches: list[tuple[str, int]] = []

    def publish_many(self, topic: str, events: Sequence[Event]) -> None:
        self.batches.append((str(topic), len(events)))
        if self.succeed_first > 0:
            self.succeed_first -= 1
        elif self.failures > 0:
            self.failures -= 1
            raise ConnectionError("broker unavailable")
        super().publish_many(topic, events)


def _stage(database: Database, *keys: str, topic: Topic = Topic.USER_BEHAVIOR_EVENTS) -> list[str]:
    with database.session() as session:
        return [add_event(session, topic=topic, type="test.ran", key=key, payload={"k": key}) for key in keys]


def _rows(database: Database) -> dict[str, tuple[int, str | None, bool]]:
    """Each row's (attempts, last_error, published) by id."""
    with database.session() as session:
        return {
            row.id: (row.attempts, row.last_error, row.published_at is not None)
            for row in session.scalars(select(OutboxEvent))
        }


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


def test_consecutive_rows_of_a_topic_go_out_in_one_batch(database: Database) -> None:
    bus = FlakyBus(failures=0)
    first = _stage(database, "a", "b", "c")
    middle = _stage(database, "d", topic=Topic.INVENTORY_UPDATES)
    last = _stage(database, "e", "f")
    assert OutboxRelay(database, bus).publish_pending() == 6
    # Runs, not one batch per topic: rows of a later run must not overtake the run before them.
    assert bus.batches == [
        (Topic.USER_BEHAVIOR_EVENTS, 3),
        (Topic.INVENTORY_UPDATES, 1),
        (Topic.USER_BEHAVIOR_EVENTS, 2),
    ]
    behaviour = bus.poll(Topic.USER_BEHAVIOR_EVENTS, "g", max_events=10, timeout_s=0)
    assert sorted(d.event.id for d in behaviour) == sorted(first + last)
    (inventory,) = bus.poll(Topic.INVENTORY_UPDATES, "g", timeout_s=0)
    assert inventory.event.id == middle[0]
    assert all(published for _, _, published in _rows(database).values())


def test_a_failed_batch_marks_none_of_it_and_stops_the_pass(database: Database) -> None:
    bus = FlakyBus(failures=1, succeed_first=1)
    relay = OutboxRelay(database, bus)
    done = _stage(database, "a", topic=Topic.INVENTORY_UPDATES)
    failing = _stage(database, "b", "c")
    later = _stage(database, "d", topic=Topic.INVENTORY_UPDATES)
    assert relay.publish_pending() == 1
    assert bus.batches == [(Topic.INVENTORY_UPDATES, 1), (Topic.USER_BEHAVIOR_EVENTS, 2)]
    rows = _rows(database)
    assert rows[done[0]] == (1, None, True)
    for row_id in failing:
        attempts, error, published = rows[row_id]
        assert (attempts, published) == (1, False)
        assert error is not None
        assert "broker unavailable" in error
    assert rows[later[0]] == (0, None, False)  # not tried: it must not overtake the failed batch
    assert bus.poll(Topic.USER_BEHAVIOR_EVENTS, "g", timeout_s=0) == []

    assert relay.publish_pending() == 3
    retried = bus.poll(Topic.USER_BEHAVIOR_EVENTS, "g", timeout_s=0)
    assert sorted(d.event.id for d in retried) == sorted(failing)
    rows = _rows(database)
    assert [rows[row_id][0] for row_id in failing] == [2, 2]
    assert all(published for _, _, published in rows.values())


def test_the_limit_caps_a_batch(database: Database) -> None:
    bus = FlakyBus(failures=0)
    _stage(database, *[f"k{i}" for i in range(5)])
    relay = OutboxRelay(database, bus)
    assert relay.publish_pending(limit=2) == 2
    assert relay.publish_pending(limit=10) == 3
    assert bus.batches == [(Topic.USER_BEHAVIOR_EVENTS, 2), (Topic.USER_BEHAVIOR_EVENTS, 3)]
