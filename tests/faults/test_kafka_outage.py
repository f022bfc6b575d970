"""Kill the Kafka broker under a running API: it stays up, keeps what it accepted, and recovers alone.

The API runs on its production event path (the SQL outbox relayed to Kafka, the try-on worker
consuming from Kafka) against a private broker that the test SIGKILLs and later restarts on
the same data. SQL stays on SQLite: the broker is the only thing broken here.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from storage.events import Consumer, Event, MemoryProcessedIds, Topic
from storage.events.kafka import KafkaEventBus
from storage.sql.database import Database
from storage.sql.models import OutboxEvent, TryOnJob
from tests.api.conftest import API, RED_TEE, Session, add_products_with_photos, build_client, sign_up
from tests.api.test_tryon import ASTRONAUT
from tests.conftest import TEST_WEBHOOK_SECRET, make_settings
from tests.faults.bounds import bounded, wait_for
from tests.faults.servers import PrivateServer, private_server
from tools.wardrobe.images import encode_jpeg

pytestmark = [pytest.mark.integration, pytest.mark.faults]

logger = logging.getLogger(__name__)


@pytest.fixture(scope="module")
def broker() -> Iterator[PrivateServer]:
    with private_server("kafka") as server:
        yield server


@pytest.fixture(scope="module")
def prefix() -> str:
    return f"ik-faults-{uuid.uuid4().hex[:8]}."


@pytest.fixture(scope="module")
def api(broker: PrivateServer, prefix: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = make_settings(
        tmp_path_factory.mktemp("kafka-outage"),
        catalog={"webhook_secret": TEST_WEBHOOK_SECRET, "load_on_start": True, "limit": 300},
        events={
            "backend": "kafka",
            "bootstrap_servers": broker.env["IK_TEST_KAFKA_BOOTSTRAP"],
            "topic_prefix": prefix,
            "partitions": 1,
        },
    )
    for client in build_client(settings):
        add_products_with_photos(client.app)
        yield client


def submit_tryon(client: TestClient, user: Session, photo: bytes) -> Any:
    files = {"photo": ("me.jpg", photo, "image/jpeg")}
    return client.post(f"{API}/tryon/jobs", files=files, data={"product_id": RED_TEE}, headers=user.headers)


def job_status(client: TestClient, user: Session, job_id: str) -> str:
    response = client.get(f"{API}/tryon/jobs/{job_id}", headers=user.headers)
    assert response.status_code == 200, response.text
    status: str = response.json()["status"]
    return status


def outbox_rows(client: TestClient, key: str | None = None) -> list[OutboxEvent]:
    db: Database = client.app.state.stores.db  # type: ignore[attr-defined]
    with db.session() as session:
        query = select(OutboxEvent).order_by(OutboxEvent.created_at)
        if key is not None:
            query = query.where(OutboxEvent.key == key)
        rows = list(session.scalars(query).all())
        session.expunge_all()
        return rows


def job_row(client: TestClient, job_id: str) -> TryOnJob:
    db: Database = client.app.state.stores.db  # type: ignore[attr-defined]
    with db.session() as session:
        row = session.get(TryOnJob, job_id)
        assert row is not None
        session.expunge(row)
        return row


def read_back(
    bootstrap: str, prefix: str, topic: Topic, wanted: set[str]
) -> tuple[Counter[str], Counter[str]]:
    """Every delivery of ``topic`` from the start, by event id, and what a deduplicating consumer
    handles of it: (deliveries per id, handled per id)."""
    bus = KafkaEventBus(bootstrap, topic_prefix=prefix, partitions=1, timeout_s=10.0)
    delivered: Counter[str] = Counter()
    handled: Counter[str] = Counter()

    def handle(event: Event) -> None:
        handled[event.id] += 1

    consumer = Consumer(bus, topic, f"audit-{uuid.uuid4().hex[:6]}", handle, processed=MemoryProcessedIds())
    original = bus.poll

    def counting_poll(*args: Any, **kwargs: Any) -> Any:
        batch = original(*args, **kwargs)
        delivered.update(item.event.id for item in batch)
        return batch

    bus.poll = counting_poll  # type: ignore[method-assign]
    try:
        deadline = time.monotonic() + 60
        idle = 0
        while time.monotonic() < deadline:
            if consumer.run_once() == 0:
                idle += 1
                # Everything wanted arrived and two quiet polls followed: the topic is read.
                if wanted <= set(handled) and idle >= 2:
                    break
            else:
                idle = 0
    finally:
        bus.close()
    return delivered, handled


def test_the_api_survives_a_broker_crash_and_loses_nothing_it_accepted(
    api: TestClient, broker: PrivateServer, prefix: str
) -> None:
    client = api
    timings: dict[str, float] = {}
    photo = encode_jpeg(ASTRONAUT, quality=95)
    user = sign_up(client)

    # --- healthy: a try-on goes through Kafka to the worker and back ---------------------------
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["events"]["ok"] is True
    before = submit_tryon(client, user, photo)
    assert before.status_code == 202, before.text
    first_id = before.json()["id"]
    wait_for("the first try-on", lambda: job_status(client, user, first_id) == "succeeded", 120)

    # --- the broker dies ---------------------------------------------------------------------
    started = time.monotonic()
    broker.kill()
    timings["kill_s"] = time.monotonic() - started

    health, timings["healthz_s"] = bounded(lambda: client.get("/healthz"))
    assert health.status_code == 200
    ready, timings["readyz_down_s"] = bounded(lambda: client.get("/readyz"))
    assert ready.status_code == 200, ready.text  # degraded, still serving: events wait in the outbox
    body = ready.json()
    assert body["status"] == "degraded"
    assert body["down"] == ["events"]
    assert body["checks"]["events"]["ok"] is False
    assert "events" in body["checks"]["events"]["error"]
    assert body["checks"]["sql"]["ok"] is True
    # Every probe, not just the first, answers within an orchestrator's probe timeout.
    for _ in range(2):
        again, took = bounded(lambda: client.get("/readyz"), 5.0)
        assert again.status_code == 200
        assert again.json()["down"] == ["events"]
        timings["readyz_down_s"] = max(timings["readyz_down_s"], took)

    # Requests that do not need the broker answer as usual.
    me, timings["read_down_s"] = bounded(lambda: client.get(f"{API}/users/me", headers=user.headers))
    assert me.status_code == 200
    patched, timings["profile_write_down_s"] = bounded(
        lambda: client.patch(
            f"{API}/users/me/profile", json={"favourite_colours": ["藏青色"]}, headers=user.headers
        )
    )
    assert patched.status_code == 200, patched.text

    # Work that needs the broker is accepted (the outbox keeps it), promptly, not after Kafka's timeout.
    accepted, timings["tryon_submit_down_s"] = bounded(lambda: submit_tryon(client, user, photo))
    # The same photo and garment would be the finished job again: a new user makes it a new job.
    assert accepted.status_code in (200, 202), accepted.text
    if accepted.status_code == 200:
        other = sign_up(client)
        accepted, timings["tryon_submit_down_s"] = bounded(lambda: submit_tryon(client, other, photo))
        user = other
    assert accepted.status_code == 202, accepted.text
    job_id = accepted.json()["id"]

    # A chat turn still gets a polite answer.
    turn, timings["chat_down_s"] = bounded(
        lambda: client.post(f"{API}/chat", json={"message": "你好"}, headers=user.headers), 30.0
    )
    assert turn.status_code == 200, turn.text
    assert any(m["text"].strip() for m in turn.json()["messages"])

    # While it stays down the job waits, its event stays in the outbox, and the relay keeps trying.
    time.sleep(3)
    pending = [row for row in outbox_rows(client, job_id) if row.published_at is None]
    assert len(pending) == 1, "the accepted job's event must wait in the outbox"
    assert pending[0].topic == Topic.TRYON_TASK_QUEUE
    assert job_status(client, user, job_id) == "queued"
    unpublished = {row.id for row in outbox_rows(client) if row.published_at is None}
    assert pending[0].id in unpublished

    # --- the broker comes back; the API is not restarted --------------------------------------
    started = time.monotonic()
    broker.start()
    timings["restart_s"] = time.monotonic() - started
    timings["readyz_back_s"] = wait_for(
        "/readyz ready", lambda: bounded(lambda: client.get("/readyz"))[0].json()["status"] == "ready"
    )
    timings["outbox_drained_s"] = wait_for(
        "the outbox drains",
        lambda: all(row.published_at is not None for row in outbox_rows(client) if row.id in unpublished),
    )
    timings["job_done_s"] = wait_for(
        "the kept try-on runs", lambda: job_status(client, user, job_id) == "succeeded", 120
    )
    # Claimed once: a second delivery would have found it running or done and changed nothing.
    assert job_row(client, job_id).attempts == 1
    picture = client.get(f"{API}/tryon/jobs/{job_id}/result", headers=user.headers)
    assert picture.status_code == 200
    assert picture.headers["content-type"] == "image/jpeg"

    # Every event kept during the outage reached Kafka, and a deduplicating consumer handles each once.
    kept = [row for row in outbox_rows(client) if row.id in unpublished]
    bootstrap = broker.env["IK_TEST_KAFKA_BOOTSTRAP"]
    for topic in {Topic(row.topic) for row in kept}:
        ids = {row.id for row in kept if row.topic == topic}
        delivered, handled = read_back(bootstrap, prefix, topic, ids)
        assert ids <= set(delivered), f"{topic}: events kept during the outage never arrived"
        assert all(handled[event_id] == 1 for event_id in ids), handled
        timings[f"duplicates_{topic}"] = float(sum(delivered[i] - 1 for i in ids))

    # Features that need the broker work again: a new job goes straight through.
    again = submit_tryon(client, sign_up(client), photo)
    assert again.status_code == 202
    logger.warning("kafka outage timings: %s", {key: round(value, 2) for key, value in timings.items()})
