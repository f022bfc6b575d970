"""The consumer loop and the outbox relay on a real Kafka broker (and a real Redis for processed ids).

``test_event_consumer.py`` proves the loop's logic on the in-process bus; this suite proves the
delivery guarantees the design promises hold on Kafka itself: every event handled once and
committed, retries and the dead-letter topic, redelivery after a crash made harmless by the
processed-id store, a group's partitions shared out between two processes, per-key order, and
the outbox relay's batches arriving in order. Each test has topics of its own prefix, deleted
afterwards. Nothing sleeps in place of an assertion: every wait polls a condition up to a deadline.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import OFFSET_BEGINNING, Message, TopicPartition
from confluent_kafka import Consumer as KafkaConsumer

from storage.cache import RedisCache
from storage.errors import StorageError
from storage.events import (
    DEAD_LETTER_TYPE,
    CacheProcessedIds,
    Consumer,
    Delivered,
    Event,
    Topic,
)
from storage.events.kafka import KafkaEventBus
from storage.sql import build_database
from storage.sql.outbox import OutboxRelay, add_event
from tests.conftest import make_settings, require_service
from tests.storage._support import FakeClock, unique

pytestmark = pytest.mark.integration

TOPIC = Topic.TRYON_TASK_QUEUE
GROUP = "tryon-workers"
PARTITIONS = 4
#: Generous: a group join or rebalance on a busy shared broker takes seconds.
DEADLINE_S = 60.0


class Cluster:
    """Buses sharing one test's topic prefix, as several processes of one deployment would."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.prefix = unique("ik-test-") + "."
        self.buses: list[KafkaEventBus] = []

    def bus(self, **options: Any) -> KafkaEventBus:
        options.setdefault("partitions", PARTITIONS)
        # A consumer that vanishes without leaving the group is noticed within seconds.
        options.setdefault("session_timeout_ms", 6000)
        bus = KafkaEventBus(self.bootstrap, topic_prefix=self.prefix, client_id="ik-test-consumer", **options)
        self.buses.append(bus)
        return bus

    def close(self) -> None:
        for bus in self.buses:
            bus.close()
        if self.buses:
            self.buses[0].delete_topics()


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    found = Cluster(require_service("IK_TEST_KAFKA_BOOTSTRAP", "Kafka"))
    try:
        yield found
    finally:
        found.close()


@pytest.fixture
def redis_url() -> str:
    return require_service("IK_TEST_REDIS_URL", "Redis")


@pytest.fixture
def key_prefix() -> str:
    """One Redis namespace per test, shared by every 'process' of that test."""
    return unique("ik-test:") + ":"


def processed_ids(redis_url: str, key_prefix: str, group: str = GROUP) -> CacheProcessedIds:
    """A fresh Redis client on the test's namespace: what a restarted process would open."""
    cache = RedisCache.from_url(redis_url, key_prefix=key_prefix)
    return CacheProcessedIds.for_group(cache, TOPIC, group, ttl_s=300)


def task(n: int, key: str = "user-1") -> Event:
    return Event(type="tryon.requested", key=key, payload={"n": n})


class Effects:
    """A handler's side effects, recorded thread-safely; fails event ``n`` ``failures[n]`` times."""

    def __init__(self, failures: dict[int, int] | None = None) -> None:
        self.calls: list[Event] = []
        self.done: list[Event] = []
        self.failures = dict(failures or {})
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        with self._lock:
            self.calls.append(event)
            n = event.payload["n"]
            if self.failures.get(n, 0) > 0:
                self.failures[n] -= 1
                raise RuntimeError(f"boom on {n}")
            self.done.append(event)

    def done_ids(self) -> list[str]:
        with self._lock:
            return [event.id for event in self.done]


def consumer(bus: KafkaEventBus, handler: Callable[[Event], None], **options: Any) -> Consumer:
    options.setdefault("backoff_s", 0)
    options.setdefault("poll_timeout_s", 0.5)
    options.setdefault("max_backoff_s", 0.2)
    return Consumer(bus, TOPIC, options.pop("group", GROUP), handler, **options)


def run_until(worker: Consumer, condition: Callable[[], bool], timeout_s: float = DEADLINE_S) -> None:
    """``run_once`` until ``condition`` holds; each round blocks in ``poll``, so this never spins."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout_s:.0f}s; stats {worker.stats}")
        worker.run_once()


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {timeout_s:.0f}s")
        time.sleep(0.05)


def drain_quietly(worker: Consumer, quiet_s: float = 3.0) -> int:
    """Run until a poll of ``quiet_s`` finds nothing; returns how many events were polled."""
    worker.poll_timeout_s = quiet_s
    total = 0
    while polled := worker.run_once():
        total += polled
    return total


def read_topic(bootstrap: str, kafka_topic: str, count: int, timeout_s: float = DEADLINE_S) -> list[Message]:
    """``count`` records straight off the broker, every partition from the start, bypassing the adapter."""
    reader = KafkaConsumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": unique("ik-test-reader-"),
            "enable.auto.commit": False,
        }
    )
    try:
        partitions = reader.list_topics(kafka_topic, timeout=10).topics[kafka_topic].partitions
        reader.assign([TopicPartition(kafka_topic, p, OFFSET_BEGINNING) for p in partitions])
        messages: list[Message] = []
        deadline = time.monotonic() + timeout_s
        while len(messages) < count and time.monotonic() < deadline:
            message = reader.poll(0.2)
            if message is not None and message.error() is None:
                messages.append(message)
        return messages
    finally:
        reader.close()


# --- handling, committing, retries ---------------------------------------------------------------


def test_every_event_is_handled_once_and_committed(cluster: Cluster) -> None:
    bus = cluster.bus()
    sent = [task(n, key=f"user-{n % 5}") for n in range(25)]
    bus.publish_many(TOPIC, sent)
    effects = Effects()
    worker = consumer(bus, effects)
    run_until(worker, lambda: worker.stats.handled == len(sent))
    assert sorted(effects.done_ids()) == sorted(e.id for e in sent)
    assert (worker.stats.duplicates, worker.stats.failures) == (0, 0)
    bus.close()

    # A new process in the same group starts from the commits: nothing of the 25 comes back.
    again = cluster.bus()
    late = task(99)
    again.publish(TOPIC, late)
    second = Effects()
    next_worker = consumer(again, second)
    run_until(next_worker, lambda: next_worker.stats.handled == 1)
    assert drain_quietly(next_worker) == 0
    assert second.done_ids() == [late.id]


def test_a_failing_event_is_retried_then_succeeds(cluster: Cluster) -> None:
    bus = cluster.bus()
    bus.publish_many(TOPIC, [task(0), task(1), task(2)])
    effects = Effects(failures={1: 2})
    worker = consumer(bus, effects, max_attempts=3)
    run_until(worker, lambda: worker.stats.handled == 3)
    assert [e.payload["n"] for e in effects.calls] == [0, 1, 1, 1, 2]  # one key: one partition, in order
    assert (worker.stats.failures, worker.stats.dead_lettered) == (2, 0)
    assert drain_quietly(worker, quiet_s=2.0) == 0


def test_an_event_failing_every_attempt_lands_on_the_dead_letter_topic(cluster: Cluster) -> None:
    bus = cluster.bus()
    poison = task(1, key="user-9")
    # Same key after the poison: it must not be stuck behind it.
    bus.publish_many(TOPIC, [task(0, key="user-9"), poison, task(2, key="user-9")])
    effects = Effects(failures={1: 99})
    worker = consumer(bus, effects, max_attempts=4)
    run_until(worker, lambda: worker.stats.handled == 2 and worker.stats.dead_lettered == 1)
    assert [e.payload["n"] for e in effects.calls] == [0, 1, 1, 1, 1, 2]
    assert worker.stats.failures == 4
    assert worker.processed.seen(poison.id) is False  # a replay from the DLQ must run the handler

    (record,) = read_topic(cluster.bootstrap, bus.kafka_topic(TOPIC.dead_letter), count=1)
    assert record.key() == b"user-9"
    letter = Event.from_json(record.value() or b"")
    assert letter.type == DEAD_LETTER_TYPE
    assert Event.model_validate(letter.payload["event"]) == poison
    assert letter.payload["attempts"] == 4
    assert letter.payload["group"] == GROUP
    assert letter.payload["topic"] == TOPIC
    assert letter.payload["error"] == "RuntimeError: boom on 1"

    later = task(3, key="user-9")
    bus.publish(TOPIC, later)
    run_until(worker, lambda: worker.stats.handled == 3)
    assert effects.done_ids()[-1] == later.id
    assert drain_quietly(worker, quiet_s=2.0) == 0  # the poison event was committed, not redelivered


# --- crashes and consumer groups -------------------------------------------------------------------


class DiesBeforeCommit:
    """The bus as a process sees it that handles events and dies before any commit reaches Kafka."""

    def __init__(self, bus: KafkaEventBus) -> None:
        self.bus = bus
        self.skipped: list[Delivered] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.bus, name)

    def commit(self, topic: str, group: str, delivered: list[Delivered]) -> None:
        self.skipped.extend(delivered)


def test_a_redelivery_after_a_crash_is_skipped_by_the_processed_ids(
    cluster: Cluster, redis_url: str, key_prefix: str
) -> None:
    # A clock that never moves: only the crash (closing the consumer) can hand the events out again.
    doomed_bus = cluster.bus(clock=FakeClock())
    sent = [task(n, key=f"user-{n % 4}") for n in range(12)]
    doomed_bus.publish_many(TOPIC, sent)
    effects = Effects()
    doomed = DiesBeforeCommit(doomed_bus)
    first = consumer(doomed, effects, processed=processed_ids(redis_url, key_prefix))  # type: ignore[arg-type]
    run_until(first, lambda: first.stats.handled == len(sent))
    assert len(doomed.skipped) == len(sent)
    doomed_bus.close()  # the process is gone; its consumer leaves the group with nothing committed

    survivor = consumer(cluster.bus(), effects, processed=processed_ids(redis_url, key_prefix))
    run_until(survivor, lambda: survivor.stats.duplicates == len(sent))
    assert survivor.stats.handled == 0
    # The side effects happened exactly once per event, across both processes.
    assert sorted(effects.done_ids()) == sorted(e.id for e in sent)
    # ...and the redeliveries were committed this time.
    assert drain_quietly(survivor) == 0


def test_two_consumers_of_a_group_share_the_partitions(
    cluster: Cluster, redis_url: str, key_prefix: str
) -> None:
    effects = Effects()
    workers = [consumer(cluster.bus(), effects, processed=processed_ids(redis_url, key_prefix)) for _ in "ab"]
    stop = threading.Event()
    threads = [threading.Thread(target=w.run_until, args=(stop,)) for w in workers]
    for thread in threads:
        thread.start()
    publisher = cluster.bus()
    sent: list[Event] = []

    def all_handled() -> bool:
        return set(effects.done_ids()) >= {e.id for e in sent}

    try:
        # Waves until both have handled some: the second member's join (a rebalance) takes a while.
        deadline = time.monotonic() + DEADLINE_S
        while not all(w.stats.handled for w in workers):
            assert time.monotonic() < deadline, f"the work was not shared: {[w.stats for w in workers]}"
            wave = [task(len(sent) + i, key=f"user-{len(sent) + i}") for i in range(40)]
            publisher.publish_many(TOPIC, wave)
            sent += wave
            wait_until(all_handled, "a wave handled")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads)
    counts = Counter(effects.done_ids())
    assert set(counts) == {e.id for e in sent}
    assert set(counts.values()) == {1}  # a rebalance's redeliveries were skipped, not handled twice
    assert all(w.stats.handled > 0 for w in workers)
    assert sum(w.stats.handled for w in workers) == len(sent)

    # Another group is independent: it gets every event, whatever the first group committed.
    audit_effects = Effects()
    audit = consumer(publisher, audit_effects, group="audit")
    run_until(audit, lambda: audit.stats.handled == len(sent))
    assert sorted(audit_effects.done_ids()) == sorted(e.id for e in sent)


def test_per_key_order_holds_through_the_consumer(cluster: Cluster) -> None:
    bus = cluster.bus()
    keys = [f"user-{i}" for i in range(6)]
    for start in range(0, 60, 15):
        bus.publish_many(TOPIC, [task(n, key=keys[n % 6]) for n in range(start, start + 15)])
    effects = Effects()
    worker = consumer(bus, effects, batch_size=7)
    run_until(worker, lambda: worker.stats.handled == 60)
    for key in keys:
        ns = [e.payload["n"] for e in effects.done if e.key == key]
        assert ns == sorted(ns)
        assert len(ns) == 10


# --- publishing in batches and the outbox ------------------------------------------------------------


def test_a_batch_the_broker_refuses_in_part_fails_naming_how_many(cluster: Cluster) -> None:
    # The producer lets a 2 MB record through; the broker (1 MB limit) refuses it.
    bus = cluster.bus(config={"message.max.bytes": 10_000_000})
    huge = Event(type="x", key="user-2", payload={"blob": "x" * 2_000_000})
    batch = [task(0, key="user-1"), huge, task(2, key="user-3")]
    with pytest.raises(StorageError, match=r"Kafka refused [1-3] of 3 events") as refused:
        bus.publish_many(TOPIC, batch)
    assert "not acknowledged" in str(refused.value)
    # Retrying what the caller can fix is safe: duplicates of the acknowledged ones carry their ids.
    bus.publish_many(TOPIC, [batch[0], batch[2]])
    records = read_topic(cluster.bootstrap, bus.kafka_topic(TOPIC), count=4, timeout_s=5)
    ids = [Event.from_json(r.value() or b"").id for r in records]
    assert set(ids) == {batch[0].id, batch[2].id}
    assert huge.id not in ids


class CountingBus:
    """The Kafka bus, counting ``publish_many`` calls, so the test sees the relay batch."""

    def __init__(self, bus: KafkaEventBus) -> None:
        self.bus = bus
        self.batches: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.bus, name)

    def publish_many(self, topic: str, events: list[Event]) -> None:
        self.batches.append(len(events))
        self.bus.publish_many(topic, events)


def test_the_outbox_relay_publishes_batches_that_arrive_in_order_per_key(
    cluster: Cluster, tmp_path: Path
) -> None:
    db = build_database(make_settings(tmp_path))
    db.migrate()
    try:
        with db.session() as session:
            ids = [
                add_event(session, topic=TOPIC, type="tryon.requested", key=f"user-{n % 3}", payload={"n": n})
                for n in range(30)
            ]
            add_event(session, topic=Topic.INVENTORY_UPDATES, type="stock.changed", key="sku-1", payload={})
            ids += [
                add_event(session, topic=TOPIC, type="tryon.requested", key=f"user-{n % 3}", payload={"n": n})
                for n in range(30, 40)
            ]
        bus = CountingBus(cluster.bus())
        relay = OutboxRelay(db, bus)  # type: ignore[arg-type]
        assert relay.publish_pending() == 41
        assert bus.batches == [30, 1, 10]
        assert relay.publish_pending() == 0
    finally:
        db.close()

    records = read_topic(cluster.bootstrap, bus.kafka_topic(TOPIC), count=40)
    events = [Event.from_json(record.value() or b"") for record in records]
    assert sorted(e.id for e in events) == sorted(ids)
    for key in ("user-0", "user-1", "user-2"):
        ns = [e.payload["n"] for e in events if e.key == key]
        assert ns == sorted(ns)
    (stock,) = read_topic(cluster.bootstrap, bus.kafka_topic(Topic.INVENTORY_UPDATES), count=1)
    assert stock.key() == b"sku-1"
