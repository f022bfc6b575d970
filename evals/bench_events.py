"""``python -m evals bench-events``: throughput and end-to-end latency of the event bus.

One producer publishes ``events`` events on ``inventory-updates`` (keys spread over 100
products, as the catalogue's outbox relay does) while one consumer group polls and
commits them in another thread. Reported: publish rate (each ``publish`` returns once
the broker has acknowledged the event; with ``batch`` > 1 each ``publish_many`` of that
many events waits once for all their acknowledgements), the rate at which the consumer
saw them all, and the end-to-end latency from ``occurred_at`` to the consumer's poll
(p50/p99). With
``--bootstrap`` it measures a Kafka broker (in topics of its own, deleted afterwards),
otherwise the in-process bus.
"""

from __future__ import annotations

import secrets
import threading
import time
from datetime import UTC, datetime
from typing import Any

from evals.measure import machine, percentile
from storage.events import Event, EventBus, MemoryEventBus, Topic

GROUP = "bench"


def _bus(bootstrap: str | None) -> tuple[EventBus, str]:
    if bootstrap is None:
        return MemoryEventBus(), "memory"
    from storage.events.kafka import KafkaEventBus

    prefix = f"ik-bench-{secrets.token_hex(4)}."
    return KafkaEventBus(bootstrap, topic_prefix=prefix, client_id="ik-bench-events"), "kafka"


def _publish_all(bus: EventBus, events: int, batch: int) -> None:
    """``batch`` 1 waits for each acknowledgement (``publish``); more waits once per ``publish_many``."""
    for start in range(0, events, batch):
        wave = [
            Event(type="stock.changed", key=f"product-{i % 100}", payload={"i": i, "stock": i % 7})
            for i in range(start, min(events, start + batch))
        ]
        if batch == 1:
            bus.publish(Topic.INVENTORY_UPDATES, wave[0])
        else:
            bus.publish_many(Topic.INVENTORY_UPDATES, wave)


def run(
    *, events: int = 5000, bootstrap: str | None = None, batch: int = 1, timeout_s: float = 120.0
) -> dict[str, Any]:
    if batch < 1:
        raise ValueError("batch must be at least 1")
    bus, backend = _bus(bootstrap)
    latencies_ms: list[float] = []
    seen: set[str] = set()
    done = threading.Event()

    def consume() -> None:
        deadline = time.monotonic() + timeout_s
        while len(seen) < events and time.monotonic() < deadline:
            batch = bus.poll(Topic.INVENTORY_UPDATES, GROUP, max_events=500, timeout_s=0.2)
            now = datetime.now(UTC)
            for delivered in batch:
                if delivered.event.id not in seen:
                    seen.add(delivered.event.id)
                    latencies_ms.append((now - delivered.event.occurred_at).total_seconds() * 1000)
            if batch:
                bus.commit(Topic.INVENTORY_UPDATES, GROUP, batch)
        done.set()

    try:
        # The consumer joins first, so the first events do not wait for a group rebalance.
        bus.poll(Topic.INVENTORY_UPDATES, GROUP, max_events=1, timeout_s=2.0)
        consumer = threading.Thread(target=consume, name="bench-events-consumer", daemon=True)
        started = time.perf_counter()
        consumer.start()
        _publish_all(bus, events, batch)
        published_s = time.perf_counter() - started
        done.wait(timeout_s)
        consumed_s = time.perf_counter() - started
    finally:
        if backend == "kafka":
            bus.delete_topics()  # type: ignore[attr-defined]
        bus.close()
    return {
        "suite": "bench-events",
        "backend": backend,
        "events": events,
        "batch": batch,
        "received": len(seen),
        "publish_per_s": round(events / published_s),
        "end_to_end_per_s": round(len(seen) / consumed_s),
        "latency_ms_p50": percentile(latencies_ms, 50),
        "latency_ms_p99": percentile(latencies_ms, 99),
        "lost": events - len(seen),
        "machine": machine(),
    }


def table(result: dict[str, Any]) -> str:
    return "\n".join(
        [
            f"bench-events: {result['backend']}, {result['events']} events in batches of {result['batch']}, "
            "one producer, one consumer group",
            f"publish (acknowledged) {result['publish_per_s']}/s; "
            f"all received at {result['end_to_end_per_s']}/s; lost {result['lost']}",
            f"end-to-end latency p50 {result['latency_ms_p50']} ms, p99 {result['latency_ms_p99']} ms",
        ]
    )
