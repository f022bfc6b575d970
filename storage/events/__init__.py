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
    """The bus ``settings.events.backend`` names.

    Consumers take their retry limit from ``settings.events.max_attempts``. The Kafka
    adapter is imported only when chosen, so the embedded setup never loads librdkafka.
    """
    config = settings.events
    if config.backend == "memory":
        return MemoryEventBus()
    if config.backend == "kafka":
        from storage.events.kafka import KafkaEventBus

        assert config.bootstrap_servers  # the settings validator requires it
        return KafkaEventBus(
            config.bootstrap_servers,
            client_id=config.client_id,
            topic_prefix=config.topic_prefix,
            partitions=config.partitions,
        )
    raise ValueError(f"unsupported event backend {config.backend!r}")  # pragma: no cover
