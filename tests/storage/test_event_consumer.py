"""The consumer loop: idempotence by event id, retries, dead letters and stopping."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from storage.cache import MemoryCache, RedisCache
from storage.events import (
    DEAD_LETTER_TYPE,
    CacheProcessedIds,
    Consumer,
    Delivered,
    Event,
    EventBus,
    MemoryEventBus,
    MemoryProcessedIds,
    ProcessedIds,
    Topic,
)
from tests.conftest import require_service
from tests.storage._support import FakeClock, unique

TOPIC = Topic.TRYON_TASK_QUEUE


def task(n: int, key: str = "user-1") -> Event:
    return Event(type="tryon.requested", key=key, payload={"n": n})


def wait_for(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


@pytest.fixture
def bus() -> Iterator[MemoryEventBus]:
    bus = MemoryEventBus()
    yield bus
    bus.close()


class Recorder:
    """A handler that records what it saw and fails the first ``failures[n]`` times for event ``n``."""

    def __init__(self, failures: dict[int, int] | None = None) -> None:
        self.seen: list[int] = []
        self.failures = dict(failures or {})

    def __call__(self, event: Event) -> None:
        n = event.payload["n"]
        self.seen.append(n)
        if self.failures.get(n, 0) > 0:
            self.failures[n] -= 1
            raise RuntimeError(f"boom on {n}")


def consumer(bus: EventBus, handler: Callable[[Event], None], **options: Any) -> Consumer:
    options.setdefault("backoff_s", 0)
    options.setdefault("poll_timeout_s", 0)
    return Consumer(bus, TOPIC, "tryon-workers", handler, **options)


# --- processed-id stores ---------------------------------------------------------------------------


@pytest.fixture(
    params=[
        pytest.param("memory", marks=pytest.mark.unit),
        pytest.param("cache-memory", marks=pytest.mark.unit),
        pytest.param("cache-redis", marks=pytest.mark.integration),
    ]
)
def processed(request: pytest.FixtureRequest) -> Iterator[ProcessedIds]:
    if request.param == "memory":
        yield MemoryProcessedIds()
    elif request.param == "cache-memory":
        yield CacheProcessedIds.for_group(MemoryCache(), TOPIC, "g")
    else:
        cache = RedisCache.from_url(
            require_service("IK_TEST_REDIS_URL", "Redis"), key_prefix=unique("ik-test:") + ":"
        )
        ids = CacheProcessedIds.for_group(cache, TOPIC, "g", ttl_s=60)
        yield ids
        cache.close()


def test_processed_ids_remember_what_was_added(processed: ProcessedIds) -> None:
    assert processed.seen("evt-1") is False
    processed.add("evt-1")
    assert processed.seen("evt-1") is True
    assert processed.seen("evt-2") is False
    assert isinstance(processed, ProcessedIds)


@pytest.mark.unit
def test_memory_processed_ids_are_bounded() -> None:
    ids = MemoryProcessedIds(max_ids=2)
    for event_id in ("a", "b", "c"):
        ids.add(event_id)
    assert [ids.seen(x) for x in ("a", "b", "c")] == [False, True, True]


@pytest.mark.unit
def test_cache_processed_ids_are_scoped_per_group_and_expire() -> None:
    clock = FakeClock()
    cache = MemoryCache(clock=clock)
    one = CacheProcessedIds.for_group(cache, TOPIC, "one", ttl_s=10)
    two = CacheProcessedIds.for_group(cache, TOPIC, "two", ttl_s=10)
    one.add("evt")
    assert (one.seen("evt"), two.seen("evt")) == (True, False)
    clock.advance(11)
    assert one.seen("evt") is False


# --- the loop --------------------------------------------------------------------------------------


@pytest.mark.unit
def test_handles_every_event_and_commits(bus: MemoryEventBus) -> None:
    handler = Recorder()
    for n in range(5):
        bus.publish(TOPIC, task(n))
    worker = consumer(bus, handler)
    assert worker.run_once() == 5
    assert handler.seen == [0, 1, 2, 3, 4]
    assert worker.stats.handled == 5
    assert bus.lag(TOPIC, "tryon-workers") == 0
    assert worker.run_once() == 0


@pytest.mark.unit
def test_a_repeated_event_id_is_handled_once(bus: MemoryEventBus) -> None:
    """An outbox retry re-publishes the same event; the handler must not run twice."""
    handler = Recorder()
    original = task(1)
    bus.publish(TOPIC, original)
    bus.publish(TOPIC, original)
    worker = consumer(bus, handler)
    worker.run_once()
    assert handler.seen == [1]
    assert (worker.stats.handled, worker.stats.duplicates) == (1, 1)
    assert bus.lag(TOPIC, "tryon-workers") == 0


@pytest.mark.unit
def test_a_redelivery_after_a_crash_is_skipped_but_committed() -> None:
    """Handled and remembered, then the process died before committing."""
    clock = FakeClock()
    bus = MemoryEventBus(lease_s=30, clock=clock)
    bus.publish(TOPIC, task(1))
    crashed: list[Delivered] = bus.poll(TOPIC, "tryon-workers", timeout_s=0)
    processed = MemoryProcessedIds()
    processed.add(crashed[0].event.id)
    clock.advance(31)
    handler = Recorder()
    worker = consumer(bus, handler, processed=processed)
    assert worker.run_once() == 1
    assert handler.seen == []
    assert worker.stats.duplicates == 1
    assert bus.lag(TOPIC, "tryon-workers") == 0


@pytest.mark.unit
def test_each_group_handles_the_event_once(bus: MemoryEventBus) -> None:
    cache = MemoryCache()
    handlers = {"a": Recorder(), "b": Recorder()}
    bus.publish(TOPIC, task(1))
    for group, handler in handlers.items():
        worker = Consumer(
            bus,
            TOPIC,
            group,
            handler,
            poll_timeout_s=0,
            processed=CacheProcessedIds.for_group(cache, TOPIC, group),
        )
        worker.run_once()
    assert handlers["a"].seen == handlers["b"].seen == [1]


@pytest.mark.unit
def test_a_failing_event_is_retried_then_succeeds(bus: MemoryEventBus) -> None:
    handler = Recorder(failures={1: 2})
    bus.publish(TOPIC, task(1))
    worker = consumer(bus, handler, max_attempts=3)
    worker.run_once()
    assert handler.seen == [1, 1, 1]
    assert (worker.stats.handled, worker.stats.failures, worker.stats.dead_lettered) == (1, 2, 0)
    assert bus.poll(TOPIC.dead_letter, "ops", timeout_s=0) == []


@pytest.mark.unit
def test_an_event_failing_max_attempts_times_goes_to_the_dead_letter_topic(bus: MemoryEventBus) -> None:
    handler = Recorder(failures={1: 99})
    poison = task(1, key="user-9")
    bus.publish(TOPIC, task(0))
    bus.publish(TOPIC, poison)
    bus.publish(TOPIC, task(2))
    worker = consumer(bus, handler, max_attempts=4)
    worker.run_once()
    # The poison event does not block the others (other keys: no order between them is promised).
    assert sorted(handler.seen) == [0, 1, 1, 1, 1, 2]
    assert (worker.stats.handled, worker.stats.failures, worker.stats.dead_lettered) == (2, 4, 1)
    assert bus.lag(TOPIC, "tryon-workers") == 0

    (letter,) = bus.poll(TOPIC.dead_letter, "ops", timeout_s=0)
    assert letter.topic == "tryon-task-queue.dlq"
    assert letter.event.type == DEAD_LETTER_TYPE
    assert letter.event.key == "user-9"
    assert Event.model_validate(letter.event.payload["event"]) == poison
    assert letter.event.payload["attempts"] == 4
    assert letter.event.payload["group"] == "tryon-workers"
    assert letter.event.payload["error"] == "RuntimeError: boom on 1"
    # Not remembered as processed: replaying the dead letter must run the handler again.
    assert worker.processed.seen(poison.id) is False


@pytest.mark.unit
def test_dead_letter_ids_are_stable_for_deduplication(bus: MemoryEventBus) -> None:
    poison = task(1)
    for _ in range(2):
        bus.publish(TOPIC, poison)
        consumer(bus, Recorder(failures={1: 99}), max_attempts=1).run_once()
    letters = bus.poll(TOPIC.dead_letter, "ops", timeout_s=0)
    assert len(letters) == 2
    assert letters[0].event.id == letters[1].event.id != poison.id


@pytest.mark.unit
def test_max_attempts_of_one_means_no_retry(bus: MemoryEventBus) -> None:
    handler = Recorder(failures={1: 99})
    bus.publish(TOPIC, task(1))
    worker = consumer(bus, handler, max_attempts=1)
    worker.run_once()
    assert handler.seen == [1]
    assert worker.stats.dead_lettered == 1


@pytest.mark.unit
def test_consumer_validates_its_configuration(bus: MemoryEventBus) -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        consumer(bus, Recorder(), max_attempts=0)
    with pytest.raises(ValueError, match="unknown topic"):
        Consumer(bus, "nope", "g", Recorder())
    with pytest.raises(ValueError, match="already a dead-letter topic"):
        Consumer(bus, TOPIC.dead_letter, "g", Recorder())


# --- running and stopping -----------------------------------------------------------------------------


@pytest.mark.unit
def test_run_until_processes_in_a_thread_and_stops(bus: MemoryEventBus) -> None:
    handler = Recorder()
    worker = consumer(bus, handler, poll_timeout_s=0.05)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_until, args=(stop,))
    thread.start()
    try:
        for n in range(20):
            bus.publish(TOPIC, task(n, key=f"user-{n % 4}"))
        wait_for(lambda: worker.stats.handled == 20)
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()
    assert sorted(handler.seen) == list(range(20))


@pytest.mark.unit
def test_run_until_works_from_asyncio(bus: MemoryEventBus) -> None:
    handler = Recorder()
    worker = consumer(bus, handler, poll_timeout_s=0.05)

    async def main() -> None:
        stop = threading.Event()
        running = asyncio.create_task(asyncio.to_thread(worker.run_until, stop))
        for n in range(3):
            bus.publish(TOPIC, task(n))
        while worker.stats.handled < 3:
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(running, timeout=5)

    asyncio.run(main())
    assert handler.seen == [0, 1, 2]


@pytest.mark.unit
def test_stopping_during_a_retry_wait_leaves_the_event_uncommitted(bus: MemoryEventBus) -> None:
    handler = Recorder(failures={1: 99})
    worker = consumer(bus, handler, max_attempts=5, backoff_s=30, max_backoff_s=30, poll_timeout_s=0.05)
    bus.publish(TOPIC, task(0))
    bus.publish(TOPIC, task(1))
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_until, args=(stop,))
    thread.start()
    wait_for(lambda: worker.stats.failures == 1)
    started = time.monotonic()
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert time.monotonic() - started < 5
    assert worker.stats.dead_lettered == 0
    assert bus.lag(TOPIC, "tryon-workers") == 1  # event 0 committed, event 1 left for redelivery


@pytest.mark.unit
def test_run_until_survives_bus_errors(bus: MemoryEventBus, caplog: pytest.LogCaptureFixture) -> None:
    class FlakyBus:
        """The real bus, except that its first poll fails (a broker hiccup)."""

        def __init__(self) -> None:
            self.failed = False

        def __getattr__(self, name: str) -> Any:
            return getattr(bus, name)

        def poll(self, *args: Any, **kwargs: Any) -> list[Delivered]:
            if not self.failed:
                self.failed = True
                raise ConnectionError("broker went away")
            return bus.poll(*args, **kwargs)

    handler = Recorder()
    worker = consumer(FlakyBus(), handler, poll_timeout_s=0.05, max_backoff_s=0.05)
    bus.publish(TOPIC, task(1))
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_until, args=(stop,))
    thread.start()
    try:
        wait_for(lambda: handler.seen == [1])
    finally:
        stop.set()
        thread.join(timeout=5)
    assert "event consumer failed" in caplog.text


@pytest.mark.unit
def test_run_until_does_not_spin_on_a_closed_bus(bus: MemoryEventBus) -> None:
    worker = consumer(bus, Recorder(), poll_timeout_s=0, max_backoff_s=0.2)
    polls = 0
    real_poll = bus.poll

    def counting_poll(*args: Any, **kwargs: Any) -> list[Delivered]:
        nonlocal polls
        polls += 1
        return real_poll(*args, **kwargs)

    bus.poll = counting_poll  # type: ignore[method-assign]
    bus.close()
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_until, args=(stop,))
    thread.start()
    time.sleep(0.5)
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert polls <= 5
