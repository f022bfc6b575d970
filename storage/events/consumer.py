"""A consumer loop that turns at-least-once delivery into effectively-once handling.

The bus may hand an event out more than once (a crash before commit, a lapsed
lease, an outbox retry), so the loop remembers which event ids a group has handled
and skips repeats. A failing event is retried a few times, then parked on the
topic's dead-letter topic and committed, so one poison event cannot stall its
partition forever.

Order per event: handle, remember the id, then commit the batch. A crash after the
handler but before the commit leads to a redelivery that the id store skips.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from storage.cache.base import Cache
from storage.events.base import (
    Delivered,
    Event,
    EventBus,
    check_group,
    check_topic,
    dead_letter_topic,
)

logger = logging.getLogger(__name__)

Handler = Callable[[Event], None]

#: Namespace of dead-letter event ids: one id per (topic, group, event), so a dead letter
#: published twice (a crash between publishing it and committing) can be deduplicated.
_DLQ_NAMESPACE = uuid.UUID("6f1c7c36-5b0e-4b36-9d1e-2f4f0b7a9c21")

#: The dead-letter event's ``type``; the failed event itself is in ``payload["event"]``.
DEAD_LETTER_TYPE = "dead_letter"


@runtime_checkable
class ProcessedIds(Protocol):
    """Which event ids a consumer group has already handled."""

    def seen(self, event_id: str) -> bool: ...

    def add(self, event_id: str) -> None: ...


class MemoryProcessedIds:
    """The last ``max_ids`` handled ids, in process memory.

    Bounded because redeliveries come soon after the first delivery; an id old
    enough to be forgotten will not come back. Lost on restart, which is why
    production consumers use ``CacheProcessedIds``.
    """

    def __init__(self, max_ids: int = 100_000) -> None:
        if max_ids < 1:
            raise ValueError("max_ids must be at least 1")
        self._max_ids = max_ids
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def seen(self, event_id: str) -> bool:
        with self._lock:
            return event_id in self._ids

    def add(self, event_id: str) -> None:
        with self._lock:
            self._ids[event_id] = None
            self._ids.move_to_end(event_id)
            while len(self._ids) > self._max_ids:
                self._ids.popitem(last=False)


class CacheProcessedIds:
    """Handled ids in the shared cache, so they survive restarts and are shared by a group's pods.

    Ids expire after ``ttl_s`` (a week by default, Kafka's default retention), past
    which the bus no longer holds the event to redeliver.
    """

    def __init__(self, cache: Cache, namespace: str, ttl_s: float = 7 * 24 * 3600) -> None:
        self._cache = cache
        self._namespace = namespace
        self._ttl_s = ttl_s

    @classmethod
    def for_group(
        cls, cache: Cache, topic: str, group: str, ttl_s: float = 7 * 24 * 3600
    ) -> CacheProcessedIds:
        """One id set per (topic, group): every group handles every event once."""
        return cls(cache, f"events:processed:{check_topic(topic)}:{check_group(group)}", ttl_s)

    def _key(self, event_id: str) -> str:
        return f"{self._namespace}:{event_id}"

    def seen(self, event_id: str) -> bool:
        return self._cache.get(self._key(event_id)) is not None

    def add(self, event_id: str) -> None:
        self._cache.set(self._key(event_id), b"1", self._ttl_s)


@dataclass
class ConsumerStats:
    """Counters for metrics and tests."""

    handled: int = 0
    duplicates: int = 0
    #: Handler exceptions, each retry counted.
    failures: int = 0
    dead_lettered: int = 0


class _Stopped(Exception):
    """Raised inside a batch when the stop event is set during a retry wait."""


class Consumer:
    """Polls ``topic`` for ``group`` and calls ``handler`` once per event id.

    Run it on a thread of its own; from asyncio::

        stop = threading.Event()
        task = asyncio.create_task(asyncio.to_thread(consumer.run_until, stop))
        ...
        stop.set()      # on shutdown; the loop exits within poll_timeout_s
        await task

    Handlers should be quick, or the bus's lease (Kafka's poll interval) lapses and
    the batch is handed out again while still being worked on.
    """

    def __init__(
        self,
        bus: EventBus,
        topic: str,
        group: str,
        handler: Handler,
        *,
        processed: ProcessedIds | None = None,
        max_attempts: int = 5,
        batch_size: int = 100,
        poll_timeout_s: float = 1.0,
        backoff_s: float = 0.1,
        max_backoff_s: float = 5.0,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.bus = bus
        self.topic = check_topic(topic)
        self.dead_letter_topic = dead_letter_topic(self.topic)
        self.group = check_group(group)
        self.handler = handler
        self.processed: ProcessedIds = processed if processed is not None else MemoryProcessedIds()
        self.max_attempts = max_attempts
        self.batch_size = batch_size
        self.poll_timeout_s = poll_timeout_s
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.stats = ConsumerStats()

    def run_until(self, stop: threading.Event) -> None:
        """Process batches until ``stop`` is set. Errors of the bus itself are logged and retried."""
        while not stop.is_set():
            try:
                self.run_once(stop)
            except Exception:
                logger.exception("event consumer failed; retrying", extra=self._context())
                stop.wait(max(self.max_backoff_s, 0.1))

    def run_once(self, stop: threading.Event | None = None) -> int:
        """Poll one batch, handle it and commit it; returns how many events were polled."""
        batch = self.bus.poll(self.topic, self.group, self.batch_size, self.poll_timeout_s)
        done: list[Delivered] = []
        try:
            for delivered in batch:
                self._process(delivered, stop)
                done.append(delivered)
        except _Stopped:
            logger.info("event consumer stopped mid-batch", extra=self._context())
        finally:
            # Only a per-partition prefix is ever done, so committing it never skips an event.
            if done:
                self.bus.commit(self.topic, self.group, done)
        return len(batch)

    def _process(self, delivered: Delivered, stop: threading.Event | None) -> None:
        event = delivered.event
        if self.processed.seen(event.id):
            self.stats.duplicates += 1
            return
        for attempt in range(1, self.max_attempts + 1):
            try:
                self.handler(event)
            except Exception as exc:
                self.stats.failures += 1
                logger.warning(
                    "event handler failed",
                    exc_info=True,
                    extra=self._context(event_id=event.id, attempt=attempt),
                )
                if attempt == self.max_attempts:
                    self._dead_letter(delivered, exc)
                    return
                self._wait(attempt, stop)
            else:
                self.processed.add(event.id)
                self.stats.handled += 1
                return

    def _wait(self, attempt: int, stop: threading.Event | None) -> None:
        delay = min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1))
        if stop is not None:
            if stop.wait(delay) if delay > 0 else stop.is_set():
                raise _Stopped
        elif delay > 0:
            time.sleep(delay)

    def _dead_letter(self, delivered: Delivered, exc: Exception) -> None:
        """Not marked processed: replaying the dead letter onto its topic must run the handler again."""
        event = delivered.event
        letter = Event(
            id=str(uuid.uuid5(_DLQ_NAMESPACE, f"{self.topic}/{self.group}/{event.id}")),
            type=DEAD_LETTER_TYPE,
            key=event.key,
            payload={
                "event": event.model_dump(mode="json"),
                "topic": self.topic,
                "group": self.group,
                "partition": delivered.partition,
                "offset": delivered.offset,
                "attempts": self.max_attempts,
                "error": f"{type(exc).__name__}: {exc}"[:2000],
            },
        )
        self.bus.publish(self.dead_letter_topic, letter)
        self.stats.dead_lettered += 1
        logger.error(
            "event sent to the dead-letter topic",
            extra=self._context(event_id=event.id, dead_letter_topic=self.dead_letter_topic),
        )

    def _context(self, **extra: object) -> dict[str, object]:
        return {"topic": self.topic, "group": self.group, **extra}
