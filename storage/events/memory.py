"""In-process event bus: the development default, with Kafka's delivery semantics.

Each topic is split into partitions by a stable hash of the event key. Each consumer
group keeps, per partition, a committed offset and a position (the next offset to
hand out). Polling a partition leases it to the poller until it commits everything
it was given; if the lease lapses first (the consumer died or stalled), the position
falls back to the committed offset and the events are handed out again. One lease
per partition is what keeps per-key order while several consumers share a group.

Events are stored serialised and decoded on every delivery, as with Kafka: a
payload that cannot be serialised fails at ``publish``, and a handler that mutates
its event cannot change what another group receives.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from storage.errors import StorageError
from storage.events.base import Delivered, Event, check_events, check_group, check_poll, check_topic


@dataclass
class _Partition:
    records: deque[bytes] = field(default_factory=deque)
    #: Offset of ``records[0]``; grows as retention drops the oldest records.
    base: int = 0

    @property
    def end(self) -> int:
        return self.base + len(self.records)


@dataclass
class _Cursor:
    """One group's progress through one partition."""

    committed: int = 0
    position: int = 0
    #: While in the future, the partition is leased to whoever polled it last.
    lease_until: float | None = None


class MemoryEventBus:
    """Thread-safe, in-process ``EventBus``.

    ``lease_s`` plays Kafka's session timeout; ``retention`` caps events kept per
    partition (the oldest are dropped, as Kafka's retention does, and a group that
    had not read them skips them). ``clock`` drives leases only, so tests can expire
    a lease without sleeping.
    """

    def __init__(
        self,
        partitions: int = 4,
        *,
        lease_s: float = 30.0,
        retention: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if partitions < 1 or lease_s <= 0 or retention < 1:
            raise ValueError("partitions and retention must be at least 1 and lease_s positive")
        self._partitions = partitions
        self._lease_s = lease_s
        self._retention = retention
        self._clock = clock
        self._logs: dict[str, list[_Partition]] = {}
        self._groups: dict[tuple[str, str], list[_Cursor]] = {}
        #: Where each group's next poll starts, so no partition is starved by a small max_events.
        self._next_partition: dict[tuple[str, str], int] = {}
        self._cond = threading.Condition()
        self._closed = False

    # -- helpers, called with the lock held ------------------------------------------

    def _log(self, topic: str) -> list[_Partition]:
        log = self._logs.get(topic)
        if log is None:
            log = self._logs[topic] = [_Partition() for _ in range(self._partitions)]
        return log

    def _cursors(self, topic: str, group: str) -> list[_Cursor]:
        cursors = self._groups.get((topic, group))
        if cursors is None:
            cursors = [_Cursor(committed=p.base, position=p.base) for p in self._log(topic)]
            self._groups[(topic, group)] = cursors
        return cursors

    def partition_of(self, key: str) -> int:
        """A stable hash (``hash()`` is salted per process), so a key keeps its partition."""
        return zlib.crc32(key.encode("utf-8", "surrogatepass")) % self._partitions

    def _take(self, topic: str, group: str, max_events: int) -> list[Delivered]:
        log = self._log(topic)
        cursors = self._cursors(topic, group)
        now = self._clock()
        start = self._next_partition.get((topic, group), 0)
        self._next_partition[(topic, group)] = (start + 1) % self._partitions
        batch: list[Delivered] = []
        for step in range(self._partitions):
            index = (start + step) % self._partitions
            partition, cursor = log[index], cursors[index]
            if cursor.lease_until is not None:
                if cursor.lease_until > now:
                    continue  # another poll holds it and has not committed yet
                cursor.position = cursor.committed  # the lease lapsed: hand the rest out again
                cursor.lease_until = None
            if cursor.position < partition.base:  # retention dropped events this group never read
                cursor.position = cursor.committed = partition.base
            count = min(max_events - len(batch), partition.end - cursor.position)
            if count <= 0:
                continue
            for offset in range(cursor.position, cursor.position + count):
                event = Event.from_json(partition.records[offset - partition.base])
                batch.append(Delivered(topic, index, offset, event))
            cursor.position += count
            cursor.lease_until = now + self._lease_s
            if len(batch) >= max_events:
                break
        return batch

    # -- the EventBus protocol ----------------------------------------------------------

    def publish(self, topic: str, event: Event) -> None:
        if not isinstance(event, Event):
            raise TypeError(f"publish takes an Event, got {type(event).__name__}")
        self.publish_many(topic, [event])

    def publish_many(self, topic: str, events: Sequence[Event]) -> None:
        """Atomic here (one lock), though the contract only promises all-or-error."""
        name = check_topic(topic)
        wire = check_events(events)
        with self._cond:
            if self._closed:
                raise StorageError("the event bus is closed")
            log = self._log(name)
            for event, data in zip(events, wire, strict=True):
                self._append(log[self.partition_of(event.key)], data)
            self._cond.notify_all()

    def _append(self, partition: _Partition, data: bytes) -> None:
        partition.records.append(data)
        if len(partition.records) > self._retention:
            partition.records.popleft()
            partition.base += 1

    def poll(self, topic: str, group: str, max_events: int = 100, timeout_s: float = 1.0) -> list[Delivered]:
        name = check_poll(topic, group, max_events, timeout_s)
        deadline = time.monotonic() + timeout_s
        with self._cond:
            if self._closed:
                # Raising (as Kafka's consumer does) rather than returning [] keeps a consumer
                # loop that outlived the bus from spinning.
                raise StorageError("the event bus is closed")
            while True:
                if self._closed:  # closed while we waited: let the poller notice its stop signal
                    return []
                batch = self._take(name, group, max_events)
                if batch:
                    return batch
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                self._cond.wait(remaining)

    def commit(self, topic: str, group: str, delivered: Sequence[Delivered]) -> None:
        name = check_topic(topic)
        check_group(group)
        with self._cond:
            if self._closed:
                raise StorageError("the event bus is closed")
            log = self._log(name)
            cursors = self._cursors(name, group)
            for item in delivered:
                if item.topic != name:
                    raise ValueError(f"cannot commit an event of {item.topic!r} to {name!r}")
                if not 0 <= item.partition < self._partitions or item.offset >= log[item.partition].end:
                    raise ValueError(f"no event at partition {item.partition}, offset {item.offset}")
                cursor = cursors[item.partition]
                cursor.committed = max(cursor.committed, item.offset + 1)
                cursor.position = max(cursor.position, cursor.committed)
                if cursor.committed >= cursor.position:
                    cursor.lease_until = None  # all handed-out events are done: free the partition
            self._cond.notify_all()

    def lag(self, topic: str, group: str) -> int:
        """Events published but not yet committed by ``group``: for metrics and tests."""
        name = check_topic(topic)
        with self._cond:
            log = self._log(name)
            cursors = self._cursors(name, group)
            return sum(p.end - max(c.committed, p.base) for p, c in zip(log, cursors, strict=True))

    def ping(self) -> bool:
        return not self._closed

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
