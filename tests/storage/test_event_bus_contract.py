"""The ``EventBus`` contract (Kafka semantics), run against every adapter.

The in-process bus and the Kafka one (against a real broker, each test on topics
of its own prefix) must pass the same tests. ``expire_leases`` is how a test says
"the consumer died without committing" (Kafka: its session timed out, or a new
consumer joined). Polls that expect events already published use the harness's
``wait_s``: 0 for the in-process bus, which delivers synchronously, and a short
positive timeout for Kafka, whose consumers fetch over the network.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from storage.errors import StorageError, UnknownTopic
from storage.events import (
    ALL_TOPICS,
    Delivered,
    Event,
    EventBus,
    MemoryEventBus,
    Topic,
    check_topic,
    dead_letter_topic,
)
from tests.conftest import require_service
from tests.storage._support import FakeClock, unique

TOPIC = Topic.USER_BEHAVIOR_EVENTS


@dataclass
class Harness:
    bus: EventBus
    expire_leases: Callable[[], None]
    #: How long a poll waits for events that are already published.
    wait_s: float


@pytest.fixture(
    params=[
        pytest.param("memory", marks=pytest.mark.unit),
        pytest.param("kafka", marks=pytest.mark.integration),
    ]
)
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    clock = FakeClock()
    if request.param == "memory":
        bus = MemoryEventBus(partitions=4, lease_s=30, clock=clock)
        yield Harness(bus=bus, expire_leases=lambda: clock.advance(31), wait_s=0)
        bus.close()
        return
    bootstrap = require_service("IK_TEST_KAFKA_BOOTSTRAP", "Kafka")
    from storage.events.kafka import KafkaEventBus

    # Fresh topics per test: groups named "g" in earlier tests (or runs) see nothing of theirs.
    kafka = KafkaEventBus(
        bootstrap, topic_prefix=unique("ik-test-") + ".", lease_s=30, clock=clock, session_timeout_ms=6000
    )
    try:
        yield Harness(bus=kafka, expire_leases=lambda: clock.advance(31), wait_s=1.0)
    finally:
        kafka.close()
        kafka.delete_topics()


@pytest.fixture
def bus(harness: Harness) -> EventBus:
    return harness.bus


@pytest.fixture
def wait_s(harness: Harness) -> float:
    return harness.wait_s


def event(key: str = "user-1", n: int = 0, **payload: object) -> Event:
    return Event(type="product.viewed", key=key, payload={"n": n, **payload})


def drain(
    bus: EventBus, topic: str, group: str, *, max_events: int = 100, wait_s: float = 0
) -> list[Delivered]:
    """Poll and commit until nothing is left; returns everything delivered, in delivery order."""
    delivered: list[Delivered] = []
    while batch := bus.poll(topic, group, max_events=max_events, timeout_s=wait_s):
        delivered.extend(batch)
        bus.commit(topic, group, batch)
    return delivered


# --- topics and the envelope ------------------------------------------------------------------------


@pytest.mark.unit
def test_topics_and_dead_letter_names() -> None:
    assert [t.value for t in Topic] == [
        "user-behavior-events",
        "tryon-task-queue",
        "recommendation-logs",
        "inventory-updates",
        "image-generation-tasks",
    ]
    assert Topic.TRYON_TASK_QUEUE.dead_letter == "tryon-task-queue.dlq"
    assert dead_letter_topic("inventory-updates") == "inventory-updates.dlq"
    assert len(ALL_TOPICS) == 10
    assert check_topic("recommendation-logs.dlq") == "recommendation-logs.dlq"
    with pytest.raises(UnknownTopic):
        dead_letter_topic("inventory-updates.dlq")
    with pytest.raises(ValueError, match="unknown topic"):
        check_topic("user-behaviour-events")


@pytest.mark.unit
def test_envelope_defaults() -> None:
    first, second = event(), event()
    assert first.id != second.id
    assert len(first.id) == 36
    assert first.version == 1
    assert first.occurred_at.tzinfo is UTC
    assert abs(first.occurred_at - datetime.now(UTC)) < timedelta(minutes=1)


@pytest.mark.unit
def test_envelope_json_roundtrip() -> None:
    original = Event(
        id="evt-1",
        type="tryon.requested",
        version=3,
        occurred_at=datetime(2026, 3, 1, 8, 30, tzinfo=timezone(timedelta(hours=8))),
        key="用户-1",
        payload={"garment": "风衣", "sizes": ["S", "M"], "score": 0.5, "nested": {"ok": True}},
    )
    wire = original.to_json()
    assert isinstance(wire, bytes)
    restored = Event.from_json(wire)
    assert restored == original
    assert restored.occurred_at == datetime(2026, 3, 1, 0, 30, tzinfo=UTC)
    assert restored.occurred_at.tzinfo is UTC
    assert Event.from_json(wire.decode()) == original


@pytest.mark.unit
def test_envelope_validation() -> None:
    with pytest.raises(ValidationError):
        Event(type="x", key="k", occurred_at=datetime(2026, 1, 1))  # naive: whose midnight?
    with pytest.raises(ValidationError):
        Event(type="", key="k")
    with pytest.raises(ValidationError):
        Event(type="x", key="k", version=0)
    with pytest.raises(ValidationError):
        Event.model_validate({"type": "x", "key": "k", "surprise": 1})
    with pytest.raises(ValidationError):
        Event.from_json(b'{"type": "x"}')


# --- publishing and topics -----------------------------------------------------------------------------


def test_unknown_topics_are_rejected(bus: EventBus) -> None:
    with pytest.raises(UnknownTopic):
        bus.publish("no-such-topic", event())
    with pytest.raises(UnknownTopic):
        bus.poll("no-such-topic", "g", timeout_s=0)
    with pytest.raises(UnknownTopic):
        bus.commit("no-such-topic", "g", [])


def test_dead_letter_topics_are_usable(bus: EventBus, wait_s: float) -> None:
    bus.publish(TOPIC.dead_letter, event())
    assert len(drain(bus, TOPIC.dead_letter, "ops", wait_s=wait_s)) == 1


def test_unserialisable_payloads_fail_at_publish(bus: EventBus) -> None:
    with pytest.raises(ValueError, match="serializ"):
        bus.publish(TOPIC, Event(type="x", key="k", payload={"when": object()}))


def test_publish_many_appends_every_event_in_order(bus: EventBus, wait_s: float) -> None:
    sent = [event(key=f"user-{n % 3}", n=n) for n in range(30)]
    bus.publish_many(TOPIC, sent)
    bus.publish_many(TOPIC, [])  # nothing to send: no error, no event
    received = drain(bus, TOPIC, "g", wait_s=wait_s)
    assert sorted(d.event.id for d in received) == sorted(e.id for e in sent)
    for key in ("user-0", "user-1", "user-2"):
        ns = [d.event.payload["n"] for d in received if d.event.key == key]
        assert ns == sorted(ns)
        assert len(ns) == 10


def test_publish_many_checks_the_whole_batch_before_sending(bus: EventBus, wait_s: float) -> None:
    with pytest.raises(UnknownTopic):
        bus.publish_many("no-such-topic", [event()])
    with pytest.raises(TypeError, match="Event"):
        bus.publish_many(TOPIC, [event(n=1), {"type": "x"}])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="sequence"):
        bus.publish_many(TOPIC, event())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="serializ"):
        bus.publish_many(TOPIC, [event(n=2), Event(type="x", key="k", payload={"when": object()})])
    bus.publish(TOPIC, event(n=3))
    # None of the refused batches' good events went out.
    assert [d.event.payload["n"] for d in drain(bus, TOPIC, "g", wait_s=wait_s)] == [3]


def test_topics_are_independent(bus: EventBus, wait_s: float) -> None:
    bus.publish(Topic.INVENTORY_UPDATES, event())
    assert bus.poll(Topic.RECOMMENDATION_LOGS, "g", timeout_s=wait_s) == []
    assert len(drain(bus, Topic.INVENTORY_UPDATES, "g", wait_s=wait_s)) == 1


# --- delivery ------------------------------------------------------------------------------------------


def test_every_group_sees_every_event(bus: EventBus, wait_s: float) -> None:
    sent = [event(key=f"user-{i % 3}", n=i) for i in range(9)]
    for item in sent:
        bus.publish(TOPIC, item)
    for group in ("recommender", "analytics"):
        received = drain(bus, TOPIC, group, wait_s=wait_s)
        assert sorted(d.event.id for d in received) == sorted(e.id for e in sent)
        assert all(d.topic == TOPIC for d in received)


def test_a_new_group_starts_from_the_oldest_event(bus: EventBus, wait_s: float) -> None:
    bus.publish(TOPIC, event(n=1))
    drain(bus, TOPIC, "early", wait_s=wait_s)
    bus.publish(TOPIC, event(n=2))
    assert [d.event.payload["n"] for d in drain(bus, TOPIC, "late", wait_s=wait_s)] == [1, 2]
    assert [d.event.payload["n"] for d in drain(bus, TOPIC, "early", wait_s=wait_s)] == [2]


def test_delivered_events_equal_the_published_ones(bus: EventBus, wait_s: float) -> None:
    sent = event(sizes=["M"], note="含中文")
    bus.publish(TOPIC, sent)
    (delivered,) = bus.poll(TOPIC, "g", timeout_s=wait_s)
    assert delivered.event == sent
    assert delivered.offset >= 0


def test_committed_events_are_not_delivered_again(harness: Harness) -> None:
    bus = harness.bus
    bus.publish(TOPIC, event(n=1))
    drain(bus, TOPIC, "g", wait_s=harness.wait_s)
    harness.expire_leases()
    assert bus.poll(TOPIC, "g", timeout_s=harness.wait_s) == []
    bus.publish(TOPIC, event(n=2))
    assert [d.event.payload["n"] for d in bus.poll(TOPIC, "g", timeout_s=harness.wait_s)] == [2]


def test_uncommitted_events_are_redelivered(harness: Harness) -> None:
    bus = harness.bus
    for i in range(3):
        bus.publish(TOPIC, event(key="same-user", n=i))
    first = bus.poll(TOPIC, "g", timeout_s=harness.wait_s)
    assert len(first) == 3
    assert bus.poll(TOPIC, "g", timeout_s=harness.wait_s) == []  # still leased to the first poller
    harness.expire_leases()  # ...which died without committing
    again = bus.poll(TOPIC, "g", timeout_s=harness.wait_s)
    assert [(d.event.id, d.offset) for d in again] == [(d.event.id, d.offset) for d in first]
    bus.commit(TOPIC, "g", again)
    harness.expire_leases()
    assert bus.poll(TOPIC, "g", timeout_s=harness.wait_s) == []


def test_a_partial_commit_redelivers_only_the_rest(harness: Harness) -> None:
    bus = harness.bus
    for i in range(4):
        bus.publish(TOPIC, event(key="same-user", n=i))
    batch = bus.poll(TOPIC, "g", timeout_s=harness.wait_s)
    bus.commit(TOPIC, "g", batch[:2])
    harness.expire_leases()
    assert [d.event.payload["n"] for d in drain(bus, TOPIC, "g", wait_s=harness.wait_s)] == [2, 3]


def test_events_with_the_same_key_keep_their_order(bus: EventBus, wait_s: float) -> None:
    keys = [f"user-{i}" for i in range(7)]
    for n in range(70):
        bus.publish(TOPIC, event(key=keys[n % 7], n=n))
    received = drain(bus, TOPIC, "g", max_events=3, wait_s=wait_s)
    assert len(received) == 70
    for key in keys:
        ns = [d.event.payload["n"] for d in received if d.event.key == key]
        assert ns == sorted(ns)
        assert len(ns) == 10


def test_poll_waits_for_an_event(bus: EventBus) -> None:
    timer = threading.Timer(0.2, lambda: bus.publish(TOPIC, event(n=7)))
    started = time.monotonic()
    timer.start()
    try:
        batch = bus.poll(TOPIC, "g", timeout_s=10)
    finally:
        timer.join()
    assert [d.event.payload["n"] for d in batch] == [7]
    assert time.monotonic() - started < 5


def test_poll_times_out_empty(bus: EventBus) -> None:
    started = time.monotonic()
    assert bus.poll(TOPIC, unique("g-"), timeout_s=0.2) == []
    assert 0.15 <= time.monotonic() - started < 5


def test_poll_and_commit_validate_their_arguments(bus: EventBus, wait_s: float) -> None:
    with pytest.raises(ValueError, match="max_events"):
        bus.poll(TOPIC, "g", max_events=0, timeout_s=0)
    with pytest.raises(ValueError, match="group"):
        bus.poll(TOPIC, " ", timeout_s=0)
    bus.publish(TOPIC, event())
    (delivered,) = bus.poll(TOPIC, "g", timeout_s=wait_s)
    with pytest.raises(ValueError, match="cannot commit"):
        bus.commit(Topic.INVENTORY_UPDATES, "g", [delivered])


def test_ping_and_close(bus: EventBus) -> None:
    assert bus.ping() is True
    assert isinstance(bus, EventBus)
    bus.close()
    assert bus.ping() is False
    with pytest.raises(StorageError):
        bus.publish(TOPIC, event())
    with pytest.raises(StorageError):
        bus.publish_many(TOPIC, [event()])
    with pytest.raises(StorageError):  # a consumer loop that outlived the bus must not spin
        bus.poll(TOPIC, "g", timeout_s=0)
    with pytest.raises(StorageError):
        bus.commit(TOPIC, "g", [])


# --- adapter-specific behaviour ----------------------------------------------------------------------


@pytest.mark.unit
def test_memory_bus_close_wakes_a_waiting_poll() -> None:
    bus = MemoryEventBus()
    timer = threading.Timer(0.2, bus.close)
    started = time.monotonic()
    timer.start()
    assert bus.poll(TOPIC, "g", timeout_s=30) == []
    timer.join()
    assert time.monotonic() - started < 10


@pytest.mark.unit
def test_memory_bus_retention_drops_the_oldest_events() -> None:
    bus = MemoryEventBus(partitions=1, retention=3)
    bus.publish(TOPIC, event(n=0))
    assert [d.event.payload["n"] for d in bus.poll(TOPIC, "slow", timeout_s=0)] == [0]
    for n in range(1, 6):
        bus.publish(TOPIC, event(n=n))
    assert [d.event.payload["n"] for d in drain(bus, TOPIC, "late")] == [3, 4, 5]
    assert bus.lag(TOPIC, "slow") == 3


@pytest.mark.unit
def test_memory_bus_reports_lag() -> None:
    bus = MemoryEventBus()
    for n in range(5):
        bus.publish(TOPIC, event(key=f"k{n}", n=n))
    assert bus.lag(TOPIC, "g") == 5
    batch = bus.poll(TOPIC, "g", max_events=2, timeout_s=0)
    bus.commit(TOPIC, "g", batch)
    assert bus.lag(TOPIC, "g") == 3


@pytest.mark.unit
def test_memory_bus_keeps_a_key_on_one_partition() -> None:
    bus = MemoryEventBus(partitions=8)
    assert bus.partition_of("user-42") == bus.partition_of("user-42")
    assert len({bus.partition_of(f"user-{i}") for i in range(100)}) == 8


@pytest.mark.unit
def test_memory_bus_handlers_cannot_change_what_other_groups_receive() -> None:
    bus = MemoryEventBus()
    bus.publish(TOPIC, event(items=["a"]))
    (first,) = bus.poll(TOPIC, "one", timeout_s=0)
    first.event.payload["items"].append("mutated")
    (second,) = bus.poll(TOPIC, "two", timeout_s=0)
    assert second.event.payload["items"] == ["a"]


@pytest.mark.unit
def test_memory_bus_leases_a_partition_to_one_poller_of_a_group() -> None:
    """Several consumers may share a group in one process; a partition goes to one at a time (key order)."""
    bus = MemoryEventBus()
    for n in range(40):
        bus.publish(TOPIC, event(key=f"user-{n}", n=n))
    first = bus.poll(TOPIC, "workers", max_events=1, timeout_s=0)
    second = bus.poll(TOPIC, "workers", max_events=100, timeout_s=0)
    assert len(first) == 1
    assert {d.event.id for d in first}.isdisjoint(d.event.id for d in second)
    assert first[0].partition not in {d.partition for d in second}
    bus.commit(TOPIC, "workers", first)
    bus.commit(TOPIC, "workers", second)
    rest = drain(bus, TOPIC, "workers")
    assert len(first) + len(second) + len(rest) == 40


@pytest.mark.integration
def test_kafka_bus_close_wakes_a_waiting_poll() -> None:
    bootstrap = require_service("IK_TEST_KAFKA_BOOTSTRAP", "Kafka")
    from storage.events.kafka import KafkaEventBus

    bus = KafkaEventBus(bootstrap, topic_prefix=unique("ik-test-") + ".", session_timeout_ms=6000)
    try:
        assert bus.poll(TOPIC, "g", timeout_s=0) == []  # joins the group first
        timer = threading.Timer(0.3, bus.close)
        started = time.monotonic()
        timer.start()
        assert bus.poll(TOPIC, "g", timeout_s=30) == []
        timer.join()
        assert time.monotonic() - started < 10
    finally:
        bus.close()
        bus.delete_topics()


@pytest.mark.unit
def test_kafka_settings_need_bootstrap_servers() -> None:
    from core.config import EventSettings

    with pytest.raises(ValidationError, match="BOOTSTRAP_SERVERS is required"):
        EventSettings(backend="kafka")
    with pytest.raises(ValidationError, match="host:port"):
        EventSettings(backend="kafka", bootstrap_servers="broker-1:9092,broker-2")
    assert (
        EventSettings(backend="kafka", bootstrap_servers="a:9092, b:9093").bootstrap_servers
        == "a:9092, b:9093"
    )
