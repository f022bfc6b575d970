"""Kafka event bus (confluent-kafka / librdkafka): the production adapter of ``EventBus``.

Each ``(topic, group)`` this bus polls gets its own Kafka consumer, a member of the
Kafka group ``<group>--<topic>`` (with the topic prefix in front), so partitions are
shared out across pods by Kafka's group protocol. The topic is part of the Kafka group
id because the contract's groups are per topic, and because a Kafka rebalance stops a
whole group: consumers of one group on different topics would otherwise stall each
other whenever one of them joins. Offsets are committed only by ``commit``
(auto-commit is off), which is what makes delivery at-least-once.

Kafka hands a partition to one member of a group, but within one process several
``Consumer`` loops may share a group through one Kafka consumer. To keep the
contract's "one poller per partition at a time" (and so per-key order), a polled
partition is *paused* until everything handed out from it is committed; if that does
not happen within ``lease_s``, the partition is rewound to the last commit and handed
out again, exactly as the in-process bus does when its lease lapses.

Publishing waits for the broker's acknowledgement (``acks=all``, idempotent
producer), so an event ``publish`` returned for is stored, and an outbox can mark it
sent; ``publish_many`` waits once for a whole batch. The topic set is created at
start-up if missing; the broker should not auto-create topics, so a mistyped name
cannot silently become a topic.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer as _KafkaConsumer
from confluent_kafka import KafkaError, KafkaException, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic
from pydantic import ValidationError

from storage.errors import StorageError
from storage.events.base import (
    ALL_TOPICS,
    Delivered,
    Event,
    check_events,
    check_group,
    check_poll,
    check_topic,
)

logger = logging.getLogger(__name__)

#: Extra seconds a flush waits past the publish timeout for the records' final delivery reports.
_REPORT_GRACE_S = 1.0

#: How long a blocked ``poll`` sleeps inside librdkafka before checking whether the bus closed.
_POLL_SLICE_S = 0.1


@dataclass
class _Lease:
    """What one poll handed out of one partition and is not yet fully committed."""

    #: The first offset not committed yet: where the partition rewinds to if the lease lapses.
    start: int
    #: The offset after the last one handed out.
    position: int
    until: float


@dataclass
class _GroupConsumer:
    consumer: _KafkaConsumer
    kafka_topic: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    leases: dict[int, _Lease] = field(default_factory=dict)
    #: The highest offset committed per partition, so a late commit never moves one back.
    committed: dict[int, int] = field(default_factory=dict)
    assigned: bool = False
    #: Messages that arrived while waiting for the first assignment.
    pending: list[Message] = field(default_factory=list)


@dataclass
class _Acks:
    """Delivery reports of one ``publish_many`` call (librdkafka calls back from ``flush``)."""

    acked: int = 0
    errors: list[KafkaError] = field(default_factory=list)

    def on_delivery(self, error: KafkaError | None, message: Message) -> None:
        if error is None:
            self.acked += 1
        else:
            self.errors.append(error)


class KafkaEventBus:
    """``EventBus`` on a Kafka cluster.

    ``topic_prefix`` namespaces the Kafka topic names (one cluster shared by several
    environments, or one test per prefix); ``Delivered.topic`` stays the logical name.
    ``lease_s`` plays the in-process bus's lease (see the module doc); ``clock`` drives
    leases only, so tests can expire one without sleeping. ``config`` is passed to every
    librdkafka client (security settings, for instance).
    """

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        client_id: str = "innovation-kun",
        topic_prefix: str = "",
        partitions: int = 3,
        replication_factor: int = -1,
        lease_s: float = 30.0,
        session_timeout_ms: int = 45_000,
        timeout_s: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
        config: Mapping[str, Any] | None = None,
    ) -> None:
        if not bootstrap_servers.strip():
            raise ValueError("bootstrap_servers must name at least one broker")
        if partitions < 1 or lease_s <= 0 or timeout_s <= 0:
            raise ValueError("partitions must be at least 1, lease_s and timeout_s positive")
        self._prefix = topic_prefix
        self._lease_s = lease_s
        self._timeout_s = timeout_s
        self._clock = clock
        self._session_timeout_ms = session_timeout_ms
        self._common: dict[str, Any] = {
            "bootstrap.servers": bootstrap_servers,
            "client.id": client_id,
            # librdkafka's own log lines go to Python logging instead of stderr.
            "logger": logger,
            **(config or {}),
        }
        self._closed = False
        self._consumers: dict[tuple[str, str], _GroupConsumer] = {}
        self._consumers_lock = threading.Lock()
        self._publish_lock = threading.Lock()
        self._admin = AdminClient(dict(self._common))
        self._ensure_topics(partitions, replication_factor)
        self._producer = Producer(
            {
                **self._common,
                "acks": "all",
                "enable.idempotence": True,
                # murmur2 is the Java client's partitioner, so other producers agree on a
                # key's partition; unlike librdkafka's default it also hashes the empty key.
                "partitioner": "murmur2_random",
                "linger.ms": 0,
                # A record not acknowledged within our own wait fails instead of lingering in
                # librdkafka's queue (300 s by default): the caller already reported it failed
                # and will publish it again, so a late delivery would only add a duplicate.
                "message.timeout.ms": int(timeout_s * 1000),
            }
        )

    def kafka_topic(self, topic: str) -> str:
        """The Kafka topic name behind a logical topic."""
        return f"{self._prefix}{check_topic(topic)}"

    def kafka_group(self, topic: str, group: str) -> str:
        """The Kafka consumer group behind a logical ``(topic, group)`` (see the module doc)."""
        return f"{self._prefix}{check_group(group)}--{check_topic(topic)}"

    # -- set-up ---------------------------------------------------------------------------

    def _ensure_topics(self, partitions: int, replication_factor: int) -> None:
        wanted = {self.kafka_topic(topic) for topic in ALL_TOPICS}
        try:
            existing = set(self._admin.list_topics(timeout=self._timeout_s).topics)
        except KafkaException as exc:
            raise StorageError(f"cannot reach Kafka at {self._common['bootstrap.servers']}: {exc}") from exc
        missing = sorted(wanted - existing)
        if not missing:
            return
        futures = self._admin.create_topics(
            [
                NewTopic(name, num_partitions=partitions, replication_factor=replication_factor)
                for name in missing
            ],
            operation_timeout=self._timeout_s,
            request_timeout=self._timeout_s,
        )
        for name, future in futures.items():
            try:
                future.result()
            except KafkaException as exc:
                # Another pod (or test worker) created it first: fine.
                if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                    raise StorageError(f"cannot create Kafka topic {name!r}: {exc}") from exc
        logger.info("created Kafka topics", extra={"topics": missing})

    def delete_topics(self) -> None:
        """Delete this bus's topics (its prefix's): for tests and throwaway environments only."""
        names = sorted(self.kafka_topic(topic) for topic in ALL_TOPICS)
        for future in self._admin.delete_topics(names, operation_timeout=self._timeout_s).values():
            try:
                future.result()
            except KafkaException as exc:
                if exc.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                    raise StorageError(f"cannot delete Kafka topics: {exc}") from exc

    def _group_consumer(self, topic: str, group: str) -> _GroupConsumer:
        with self._consumers_lock:
            if self._closed:
                raise StorageError("the event bus is closed")
            found = self._consumers.get((topic, group))
            if found is not None:
                return found
            consumer = _KafkaConsumer(
                {
                    **self._common,
                    "group.id": self.kafka_group(topic, group),
                    "enable.auto.commit": False,
                    "enable.auto.offset.store": False,
                    "auto.offset.reset": "earliest",
                    "session.timeout.ms": self._session_timeout_ms,
                    "heartbeat.interval.ms": max(100, self._session_timeout_ms // 10),
                    # A waiting poll should see a new event quickly, not after a 500 ms fetch wait.
                    "fetch.wait.max.ms": 100,
                }
            )
            found = _GroupConsumer(consumer=consumer, kafka_topic=self.kafka_topic(topic))
            self._consumers[(topic, group)] = found
        self._join(found)
        return found

    def _join(self, gc: _GroupConsumer) -> None:
        """Subscribe and wait for the first assignment: a poll's timeout is for events, not the join."""

        def on_assign(consumer: _KafkaConsumer, partitions: list[TopicPartition]) -> None:
            gc.assigned = True

        def on_revoke(consumer: _KafkaConsumer, partitions: list[TopicPartition]) -> None:
            # Another member owns them now and starts from the last commit.
            for tp in partitions:
                gc.leases.pop(tp.partition, None)
                gc.committed.pop(tp.partition, None)

        with gc.lock:
            gc.consumer.subscribe([gc.kafka_topic], on_assign=on_assign, on_revoke=on_revoke)
            deadline = time.monotonic() + self._timeout_s
            while not gc.assigned and not self._closed and time.monotonic() < deadline:
                message = gc.consumer.poll(_POLL_SLICE_S)
                if message is not None:
                    gc.pending.append(message)
        if not gc.assigned and not self._closed:
            # Polls go on serving the group protocol, so the assignment may still come.
            logger.warning(
                "Kafka consumer joined no group within the timeout", extra={"topic": gc.kafka_topic}
            )

    # -- the EventBus protocol ------------------------------------------------------------

    def publish(self, topic: str, event: Event) -> None:
        if not isinstance(event, Event):
            raise TypeError(f"publish takes an Event, got {type(event).__name__}")
        self.publish_many(topic, [event])

    def publish_many(self, topic: str, events: Sequence[Event]) -> None:
        """Produce every event, then wait for all acknowledgements in one flush.

        One flush per batch is what makes batches fast: the producer pipelines the
        records instead of waiting a round trip for each. Records are acknowledged one
        by one, so on error some may be stored (see ``EventBus.publish_many``).
        """
        name = self.kafka_topic(topic)
        wire = check_events(events)
        if self._closed:
            raise StorageError("the event bus is closed")
        if not wire:
            return
        outcome = _Acks()
        with self._publish_lock:
            deadline = time.monotonic() + self._timeout_s
            try:
                for event, data in zip(events, wire, strict=True):
                    self._produce(name, event, data, outcome, deadline)
            finally:
                # Even after a failed produce, wait for what did go out: it is the caller's
                # to retry, and a later batch must not share this one's flush.
                # The grace lets each record's final report (acknowledged or timed out) arrive.
                self._producer.flush(max(0.0, deadline - time.monotonic()) + _REPORT_GRACE_S)
        missing = len(wire) - outcome.acked
        if outcome.errors:
            raise StorageError(
                f"Kafka refused {len(outcome.errors)} of {len(wire)} events on {name!r} "
                f"({missing} not acknowledged): {outcome.errors[0]}"
            )
        if missing:
            raise StorageError(
                f"Kafka did not acknowledge {missing} of {len(wire)} events on {name!r} "
                f"within {self._timeout_s}s"
            )

    def _produce(self, name: str, event: Event, data: bytes, outcome: _Acks, deadline: float) -> None:
        """Queue one record; a full local queue is drained (by serving callbacks) until the deadline."""
        while True:
            try:
                self._producer.produce(
                    name,
                    value=data,
                    key=event.key.encode("utf-8", "surrogatepass"),
                    headers=[("event-id", event.id.encode()), ("event-type", event.type.encode())],
                    on_delivery=outcome.on_delivery,
                )
                return
            except BufferError as exc:
                if time.monotonic() >= deadline:
                    raise StorageError(f"cannot publish to {name!r}: the producer queue stayed full") from exc
                self._producer.poll(_POLL_SLICE_S)
            except KafkaException as exc:
                raise StorageError(f"cannot publish to {name!r}: {exc}") from exc

    def poll(self, topic: str, group: str, max_events: int = 100, timeout_s: float = 1.0) -> list[Delivered]:
        name = check_poll(topic, group, max_events, timeout_s)
        if self._closed:
            # Raising rather than returning [] keeps a consumer loop that outlived the bus from spinning.
            raise StorageError("the event bus is closed")
        gc = self._group_consumer(name, group)
        deadline = time.monotonic() + timeout_s
        while True:
            with gc.lock:
                if self._closed:
                    return []
                self._expire_leases(gc)
                messages = gc.pending[:max_events]
                del gc.pending[:max_events]
                if not messages:
                    first = gc.consumer.poll(max(0.0, min(_POLL_SLICE_S, deadline - time.monotonic())))
                    messages = [first] if first is not None else []
                if messages and len(messages) < max_events:
                    messages += gc.consumer.consume(max_events - len(messages), timeout=0)
                batch = self._hand_out(gc, name, messages)
            if batch or time.monotonic() >= deadline:
                return batch

    def _expire_leases(self, gc: _GroupConsumer) -> None:
        now = self._clock()
        for partition, lease in list(gc.leases.items()):
            if lease.until <= now:
                del gc.leases[partition]
                self._resume(gc, partition, lease.start)

    def _resume(self, gc: _GroupConsumer, partition: int, offset: int) -> None:
        tp = TopicPartition(gc.kafka_topic, partition, offset)
        try:
            gc.consumer.resume([tp])
            gc.consumer.seek(tp)
        except KafkaException as exc:
            # Revoked meanwhile: its new owner starts from the last commit anyway.
            logger.warning("cannot resume Kafka partition", extra={"partition": partition, "error": str(exc)})

    def _hand_out(self, gc: _GroupConsumer, name: str, messages: list[Message]) -> list[Delivered]:
        batch: list[Delivered] = []
        taken: dict[int, tuple[int, int]] = {}
        for message in messages:
            error = message.error()
            if error is not None:
                if error.fatal():
                    raise StorageError(f"Kafka consumer failed: {error}")
                logger.warning("Kafka consumer error", extra={"error": str(error)})
                continue
            partition, offset = message.partition(), message.offset()
            if partition is None or offset is None or partition in gc.leases:
                continue  # fetched before the pause; handed out again from the lease's position
            first, _ = taken.get(partition, (offset, offset))
            taken[partition] = (first, offset + 1)
            try:
                event = Event.from_json(message.value() or b"")
            except ValidationError:
                # Not our envelope (another producer's record): nothing can handle it, so it is
                # skipped, and committed along with the events after it.
                logger.warning(
                    "skipping an undecodable Kafka record", extra={"partition": partition, "offset": offset}
                )
                continue
            batch.append(Delivered(name, partition, offset, event))
        until = self._clock() + self._lease_s
        for partition, (first, position) in taken.items():
            gc.leases[partition] = _Lease(start=first, position=position, until=until)
        if taken:
            gc.consumer.pause([TopicPartition(gc.kafka_topic, p) for p in taken])
        return batch

    def commit(self, topic: str, group: str, delivered: Sequence[Delivered]) -> None:
        name = check_topic(topic)
        check_group(group)
        if self._closed:
            raise StorageError("the event bus is closed")
        upto: dict[int, int] = {}
        for item in delivered:
            if item.topic != name:
                raise ValueError(f"cannot commit an event of {item.topic!r} to {name!r}")
            if item.partition < 0 or item.offset < 0:
                raise ValueError(f"no event at partition {item.partition}, offset {item.offset}")
            upto[item.partition] = max(upto.get(item.partition, 0), item.offset + 1)
        if not upto:
            return
        gc = self._group_consumer(name, group)
        with gc.lock:
            offsets = [
                TopicPartition(gc.kafka_topic, partition, offset)
                for partition, offset in sorted(upto.items())
                if offset > gc.committed.get(partition, -1)
            ]
            if offsets:
                try:
                    gc.consumer.commit(offsets=offsets, asynchronous=False)
                except KafkaException as exc:
                    raise StorageError(f"Kafka refused the commit for group {group!r}: {exc}") from exc
            for partition, offset in upto.items():
                gc.committed[partition] = max(gc.committed.get(partition, -1), offset)
                lease = gc.leases.get(partition)
                if lease is None:
                    continue
                lease.start = max(lease.start, offset)
                if lease.start >= lease.position:  # all handed-out events are done: free the partition
                    del gc.leases[partition]
                    self._resume(gc, partition, lease.position)

    def ping(self) -> bool:
        if self._closed:
            return False
        try:
            self._producer.list_topics(timeout=2.0)
        except Exception:  # a health check reports, it does not raise
            return False
        return True

    def close(self) -> None:
        with self._consumers_lock:
            if self._closed:
                return
            self._closed = True
            consumers = list(self._consumers.values())
            self._consumers.clear()
        for gc in consumers:
            with gc.lock:  # waits for a running poll slice to end
                try:
                    gc.consumer.close()
                except (KafkaException, RuntimeError) as exc:
                    logger.warning("closing a Kafka consumer failed", extra={"error": str(exc)})
        self._producer.flush(self._timeout_s)
