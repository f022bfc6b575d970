"""The job queue's hand-off to the bus: a person's request never waits out a broker that is down."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from storage.cache.memory import MemoryCache
from storage.events import Event, Topic
from storage.events.memory import MemoryEventBus
from storage.objects.local import LocalObjectStore
from storage.sql import Database
from storage.sql.models import ImageJob, OutboxEvent
from tools.imagegen.service import REQUESTED, ImageJobRead
from tools.jobs import PUBLISH_WAIT_S, JobQueue
from tools.profile.service import AccountService


class _StalledBus(MemoryEventBus):
    """A bus whose broker does not answer until ``answer`` is set (a Kafka flush waiting out its timeout)."""

    def __init__(self) -> None:
        super().__init__()
        self.answer = threading.Event()

    def publish_many(self, topic: str, events: Sequence[Event]) -> None:
        if not self.answer.wait(30):
            raise RuntimeError("the broker never answered")
        super().publish_many(topic, events)


def test_queueing_a_job_does_not_wait_for_a_stalled_broker(database: Database, tmp_path: Path) -> None:
    user = AccountService(database).create_user(email="ann@example.com", password="a-long-password-1").id
    bus = _StalledBus()
    jobs: JobQueue[ImageJob, ImageJobRead] = JobQueue(
        database, LocalObjectStore(tmp_path / "objects"), MemoryCache(), bus, model=ImageJob,
        read_model=ImageJobRead, topic=Topic.IMAGE_GENERATION_TASKS, event_type=REQUESTED, name="image",
        what="picture",
    )  # fmt: skip
    with database.session() as session:
        row = ImageJob(id=str(uuid.uuid4()), user_id=user, prompt="a red tee", width=64, height=64, seed=1)
        session.add(row)
        job = jobs.queue(session, row)
    started = time.monotonic()
    jobs.publish()
    assert time.monotonic() - started < PUBLISH_WAIT_S + 1.0
    # Accepted and kept: the event waits in the outbox; a second request does not queue a second pass.
    with database.session() as session:
        kept = session.query(OutboxEvent).filter(OutboxEvent.key == job.id).one()
        assert kept.published_at is None
    jobs.publish()
    bus.answer.set()
    deadline = time.monotonic() + 10
    while not bus.poll(Topic.IMAGE_GENERATION_TASKS, "workers", timeout_s=0.1):
        assert time.monotonic() < deadline, "the pass that was waiting never published the event"
    while True:  # the pass marks the row once the bus has acknowledged it
        with database.session() as session:
            if session.query(OutboxEvent).filter(OutboxEvent.key == job.id).one().published_at is not None:
                break
        assert time.monotonic() < deadline, "the published event was never marked in the outbox"
        time.sleep(0.05)
