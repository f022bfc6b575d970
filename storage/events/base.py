"""The event-bus contract, modelled on Kafka so a Kafka adapter can implement it unchanged.

What producers and consumers may rely on, whichever adapter runs:

* the topic set is fixed (``Topic`` plus one ``<topic>.dlq`` dead-letter topic each),
  so a typo fails loudly instead of publishing into the void;
* every consumer group sees every event of a topic, from the oldest retained one
  (Kafka's ``auto.offset.reset=earliest``);
* events with the same ``key`` are delivered to a group in publish order (they share a
  partition, and a partition is handed to one consumer of a group at a time);
* delivery is at-least-once: events polled but not committed are delivered again once
  the poller's lease lapses (Kafka: when its session times out), so consumers must be
  idempotent, which ``storage.events.consumer.Consumer`` makes them by event id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable
from uuid import uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from storage.errors import UnknownTopic

DLQ_SUFFIX = ".dlq"


class Topic(StrEnum):
    """The design's topics; their names are the Kafka topic names."""

    USER_BEHAVIOR_EVENTS = "user-behavior-events"
    TRYON_TASK_QUEUE = "tryon-task-queue"
    RECOMMENDATION_LOGS = "recommendation-logs"
    INVENTORY_UPDATES = "inventory-updates"
    IMAGE_GENERATION_TASKS = "image-generation-tasks"

    @property
    def dead_letter(self) -> str:
        return dead_letter_topic(self)


def dead_letter_topic(topic: str) -> str:
    """The dead-letter topic of ``topic``: ``<topic>.dlq``."""
    name = check_topic(topic)
    if name.endswith(DLQ_SUFFIX):
        raise UnknownTopic(f"{name!r} is already a dead-letter topic; dead letters are not chained")
    return f"{name}{DLQ_SUFFIX}"


#: Every topic a bus accepts: the design's five and their dead-letter topics.
ALL_TOPICS: frozenset[str] = frozenset(
    [topic.value for topic in Topic] + [f"{topic.value}{DLQ_SUFFIX}" for topic in Topic]
)


def check_topic(topic: str) -> str:
    """Return the topic's name, or raise ``UnknownTopic`` for anything outside ``ALL_TOPICS``."""
    if not isinstance(topic, str) or str(topic) not in ALL_TOPICS:
        raise UnknownTopic(f"unknown topic {topic!r}; known topics: {', '.join(sorted(ALL_TOPICS))}")
    return str(topic)


def check_group(group: str) -> str:
    if not isinstance(group, str) or not group.strip():
        raise ValueError("consumer group names must be non-empty strings")
    return group


def check_events(events: Sequence[Event]) -> list[bytes]:
    """The wire form of each event, so a bad batch fails before any of it is sent."""
    if isinstance(events, Event) or not isinstance(events, Sequence):
        raise TypeError(f"publish_many takes a sequence of Events, got {type(events).__name__}")
    wire: list[bytes] = []
    for event in events:
        if not isinstance(event, Event):
            raise TypeError(f"publish takes an Event, got {type(event).__name__}")
        wire.append(event.to_json())
    return wire


def check_poll(topic: str, group: str, max_events: int, timeout_s: float) -> str:
    """Check a ``poll`` call's arguments the same way for every adapter; returns the topic's name."""
    name = check_topic(topic)
    check_group(group)
    if max_events < 1:
        raise ValueError("max_events must be at least 1")
    if timeout_s < 0:
        raise ValueError("timeout_s must not be negative")
    return name


class Event(BaseModel):
    """The envelope every event travels in; ``payload`` is the event's own data.

    ``id`` is what consumers deduplicate on, so a re-published event (an outbox retry)
    must keep its id. ``type`` and ``version`` let consumers dispatch on, and evolve,
    the payload's schema. ``key`` decides ordering: events with the same key are
    processed in order (use the entity's id, e.g. the user's).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=lambda: str(uuid4()), min_length=1, max_length=200)
    type: str = Field(min_length=1, max_length=200)
    version: int = Field(default=1, ge=1)
    occurred_at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    key: str = Field(max_length=1000)
    payload: dict[str, Any] = Field(default_factory=dict)

    @field_validator("occurred_at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    def to_json(self) -> bytes:
        """The wire form (UTF-8 JSON); raises if the payload holds something JSON cannot carry."""
        return self.model_dump_json().encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> Event:
        return cls.model_validate_json(data)


@dataclass(frozen=True)
class Delivered:
    """One event as handed to a consumer group, with the position ``commit`` needs."""

    topic: str
    partition: int
    offset: int
    event: Event


@runtime_checkable
class EventBus(Protocol):
    """Topics of keyed events, consumed by groups with explicit commits (see the module doc)."""

    def publish(self, topic: str, event: Event) -> None:
        """Append ``event`` to ``topic``; raises ``UnknownTopic`` for a topic outside ``ALL_TOPICS``."""
        ...

    def publish_many(self, topic: str, events: Sequence[Event]) -> None:
        """Append ``events`` to ``topic`` in order, waiting for the acknowledgements once, not per event.

        All or error: when it returns, every event is stored; when it raises, *some* may
        have been stored anyway (Kafka acknowledges per record). At-least-once delivery
        makes that safe: the caller publishes the whole batch again and consumers
        deduplicate by event id. Arguments are checked before anything is sent.
        """
        ...

    def poll(self, topic: str, group: str, max_events: int = 100, timeout_s: float = 1.0) -> list[Delivered]:
        """Up to ``max_events`` events ``group`` has not yet been handed, waiting up to ``timeout_s``.

        Returns an empty list on timeout. Events come back, per partition, in offset
        order; those not committed are handed out again after the lease lapses.
        """
        ...

    def commit(self, topic: str, group: str, delivered: Sequence[Delivered]) -> None:
        """Mark ``delivered`` (and everything before it in each partition) as processed by ``group``."""
        ...

    def ping(self) -> bool:
        """Whether the bus accepts events; for health checks, never raises."""
        ...

    def close(self) -> None:
        """Stop the bus: waiting polls return empty, later calls raise ``StorageError``."""
        ...
