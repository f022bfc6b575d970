"""Event bus: topics, the event envelope, the ``EventBus`` protocol, adapters and the consumer loop."""

from __future__ import annotations

from core.config import Settings
from storage.errors import UnknownTopic
from storage.events.base import (
    ALL_TOPICS,
    DLQ_SUFFIX,
    Delivered,
    Event,
    EventBus,
    Topic,
    check_topic,
    dead_letter_topic,
)
from storage.events.consumer import (
    DEAD_LETTER_TYPE,
    CacheProcessedIds,
    Consumer,
    ConsumerStats,
    Handler,
    MemoryProcessedIds,
    ProcessedIds,
)
from storage.events.memory import MemoryEventBus

__all__ = [
    "ALL_TOPICS",
    "DEAD_LETTER_TYPE",
    "DLQ_SUFFIX",
    "CacheProcessedIds",
    "Consumer",
    "ConsumerStats",
    "Delivered",
    "Event",
    "EventBus",
    "Handler",
    "MemoryEventBus",
    "MemoryProcessedIds",
    "ProcessedIds",
    "Topic",
    "UnknownTopic",
    "build_event_bus",
    "check_topic",
    "dead_letter_topic",
]


def build_event_bus(settings: Settings) -> EventBus:
    """The bus ``settings.events.backend`` names (only the in-process one until Kafka arrives).

    Consumers take their retry limit from ``settings.events.max_attempts``.
    """
    config = settings.events
    if config.backend != "memory":  # pragma: no cover - Literal["memory"] today
        raise ValueError(f"unsupported event backend {config.backend!r}")
    return MemoryEventBus()
