"""Asynchronous jobs on the event bus, the same way for every kind (try-on pictures, generated images).

Why it is shaped this way:

* **The row is the truth, the event is a wake-up call.** A job's row and its event are written in
  one transaction (the outbox) and published at once; a lost or dead-lettered event only delays a
  job, because ``requeue_stale`` hands untouched jobs out again.
* **At most one result per job.** A worker claims a job by moving it to ``running`` and may only
  finish a job still ``running``; a second delivery of the same event finds it running or
  finished, and a cancelled job's late result is thrown away.
* **A poison job cannot loop.** Each claim counts an attempt; past ``max_attempts`` the job fails.
* **Reads are cheap.** Every change is mirrored into the cache, which status polls and the event
  stream read first; the row stays the truth when the cache is cold or down.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from abc import ABC, abstractmethod
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.cache.base import Cache, or_when_down
from storage.events import Event, EventBus
from storage.events.consumer import CacheProcessedIds, Consumer
from storage.objects import ObjectStore
from storage.sql.database import Database
from storage.sql.models import JobColumns
from storage.sql.outbox import OutboxRelay, add_event
from storage.sql.types import utcnow
from tools.base import Refusal, ServiceError

logger = logging.getLogger(__name__)

TERMINAL: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})
#: How long a request that queued a job waits for its event to reach the bus before answering.
PUBLISH_WAIT_S = 2.0


class JobError(ServiceError):
    """A request about a job that cannot be met: ``not_found`` (no such job, or nothing to make it
    from), ``not_cancellable``, ``not_ready``, ``unavailable`` (a service it needs is not set up)."""


class JobRead(BaseModel):
    """A job as its owner sees it; each kind adds what it was asked to make."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    status: str
    stage: str
    progress: float
    attempts: int
    error_code: str | None = None
    error_message: str | None = None
    has_result: bool = False
    timings_ms: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None

    @property
    def done(self) -> bool:
        return self.status in TERMINAL


RowT = TypeVar("RowT", bound=JobColumns)
ReadT = TypeVar("ReadT", bound=JobRead)


class JobQueue(Generic[RowT, ReadT]):
    """The life of one kind of job: queue, read, cancel, claim, progress, finish, fail, requeue.

    ``name`` prefixes cache keys and object keys ("tryon", "image"); ``what`` names the job in
    messages people read ("try-on", "picture").
    """

    def __init__(
        self,
        db: Database,
        objects: ObjectStore,
        cache: Cache,
        bus: EventBus,
        *,
        model: type[RowT],
        read_model: type[ReadT],
        topic: str,
        event_type: str,
        name: str,
        what: str,
        max_attempts: int = 3,
        stale_after_s: float = 300.0,
        result_cache_ttl_s: float = 3600.0,
    ) -> None:
        self.db = db
        self.objects = objects
        self.cache = cache
        self.relay = OutboxRelay(db, bus)
        self._publishing = threading.Lock()
        self.model = model
        self.read_model = read_model
        self.topic = topic
        self.event_type = event_type
        self.name = name
        self.what = what
        self.max_attempts = max_attempts
        self.stale_after_s = stale_after_s
        self.result_cache_ttl_s = result_cache_ttl_s

    # --- rows ---------------------------------------------------------------------------------

    def read(self, row: RowT) -> ReadT:
        read = self.read_model.model_validate(row)
        return read.model_copy(
            update={"has_result": row.result_key is not None and row.status == "succeeded"}
        )

    def queue(self, session: Session, row: RowT) -> ReadT:
        """Reset ``row`` to a fresh queued job and stage its wake-up event in the same transaction."""
        row.status, row.stage, row.progress, row.attempts = "queued", "queued", 0.0, 0
        row.error_code = row.error_message = row.result_key = None
        row.timings_ms = {}
        row.started_at = row.finished_at = None
        row.updated_at = utcnow()
        session.flush()
        self._event(session, row.id)
        return self.read(row)

    def _event(self, session: Session, job_id: str) -> None:
        add_event(session, topic=self.topic, type=self.event_type, key=job_id, payload={"job_id": job_id})

    def publish(self) -> None:
        """Hand the outbox to the bus now, not on the relay's next tick (the relay retries failures).

        On a thread of its own, waited for at most ``PUBLISH_WAIT_S``: the job is already accepted
        (its row and event are committed), and a broker that is down would otherwise hold the
        person's request for the bus's whole acknowledgement timeout. A healthy bus answers well
        within the wait, so the event is out when this returns. One pass at a time per queue; a
        request arriving during a pass leaves its event to the relay's next tick.
        """
        if not self._publishing.acquire(blocking=False):
            return
        thread = threading.Thread(target=self._publish_pass, name=f"{self.name}-publish", daemon=True)
        thread.start()
        thread.join(PUBLISH_WAIT_S)

    def _publish_pass(self) -> None:
        try:
            self.relay.publish_pending()
        except Exception:
            logger.warning(
                "publishing %s events failed; the outbox relay will retry", self.name, exc_info=True
            )
        finally:
            self._publishing.release()

    def owned(self, session: Session, user_id: str, job_id: str) -> RowT:
        row = session.get(self.model, job_id)
        if row is None or row.user_id != user_id:
            raise JobError("not_found", f"No {self.what} job {job_id!r}.")
        return row

    # --- the person's side --------------------------------------------------------------------

    def get(self, user_id: str, job_id: str) -> ReadT:
        key = self._status_key(job_id)
        cached = or_when_down(lambda: self.cache.get(key), None, f"reading a {self.name} job's status")
        if cached is not None:
            data = json.loads(cached)
            if data.get("user_id") == user_id:
                return self.read_model.model_validate(data["job"])
        with self.db.session() as session:
            read = self.read(self.owned(session, user_id, job_id))
        self.remember(user_id, read)
        return read

    def list(self, user_id: str, limit: int = 20) -> list[ReadT]:
        model = self.model
        with self.db.session() as session:
            rows = session.scalars(
                select(model)
                .where(model.user_id == user_id)
                .order_by(model.created_at.desc(), model.id)
                .limit(limit)
            ).all()
            return [self.read(r) for r in rows]

    def cancel(self, user_id: str, job_id: str) -> ReadT:
        with self.db.session() as session:
            row = self.owned(session, user_id, job_id)
            if row.status in TERMINAL:
                raise JobError("not_cancellable", f"The {self.what} is already {row.status}.")
            row.status, row.stage, row.finished_at = "cancelled", "cancelled", utcnow()
            read = self.read(row)
        self.remember(user_id, read)
        return read

    def result(self, user_id: str, job_id: str) -> bytes:
        job = self.get(user_id, job_id)
        if job.status != "succeeded":
            raise JobError("not_ready", f"The {self.what} is {job.status}; there is no picture yet.")
        result_key = self._result_key(job_id)
        cached = or_when_down(lambda: self.cache.get(result_key), None, f"reading a {self.name} result")
        if cached is not None:
            return cached
        with self.db.session() as session:
            key = self.owned(session, user_id, job_id).result_key
        assert key is not None  # a succeeded job has a result
        data = self.objects.get(key)
        self._cache_result(job_id, data)
        return data

    # --- the worker's side --------------------------------------------------------------------

    def claim(self, job_id: str) -> RowT | None:
        """Move a queued (or abandoned running) job to ``running``; the row, detached, or ``None``
        when there is nothing to do (finished, cancelled, gone, or out of attempts: then failed)."""
        with self.db.session() as session:
            row = session.get(self.model, job_id, with_for_update=True)
            if row is None or row.status in TERMINAL:
                return None
            exhausted = row.attempts >= self.max_attempts
            if exhausted:
                self._fail_row(
                    row,
                    "engine_failed",
                    f"The {self.what} failed {row.attempts} times; please try again later.",
                )
            else:
                row.attempts += 1
                row.status, row.stage, row.progress = "running", "preparing", 0.05
                row.started_at = row.started_at or utcnow()
                row.updated_at = utcnow()
            read = self.read(row)
        self.remember(row.user_id, read)
        return None if exhausted else row

    def progress(self, job_id: str, stage: str, progress: float) -> bool:
        """Record a running job's step; ``False`` when it is no longer running (cancelled)."""
        return self._update_running(job_id, stage=stage, progress=progress)

    def finish(
        self,
        job_id: str,
        user_id: str,
        data: bytes,
        content_type: str,
        extension: str,
        timings_ms: dict[str, float],
    ) -> bool:
        """Store the picture and mark the job done; ``False`` (and nothing kept) if it was cancelled."""
        key = f"{self.name}/{user_id}/{job_id}/result.{extension}"
        self.objects.put(key, data, content_type)
        done = self._update_running(
            job_id,
            status="succeeded",
            stage="done",
            progress=1.0,
            result_key=key,
            timings_ms={k: round(v, 1) for k, v in timings_ms.items()},
            finished_at=utcnow(),
        )
        if not done:
            self.objects.delete(key)
            return False
        self._cache_result(job_id, data)
        return True

    def fail(self, job_id: str, code: str, message: str) -> None:
        with self.db.session() as session:
            row = session.get(self.model, job_id, with_for_update=True)
            if row is None or row.status in TERMINAL:
                return
            self._fail_row(row, code, message)
            read, owner = self.read(row), row.user_id
        self.remember(owner, read)

    def retry_later(self, job_id: str, message: str) -> None:
        """A try failed for a reason that may pass (a crashed model server): back to the queue."""
        self._update_running(job_id, status="queued", stage="retrying", error_message=message[:500])

    @staticmethod
    def _fail_row(row: JobColumns, code: str, message: str) -> None:
        row.status, row.stage = "failed", "failed"
        row.error_code, row.error_message = code, message[:500]
        row.finished_at = row.updated_at = utcnow()

    def _update_running(self, job_id: str, **values: Any) -> bool:
        model = self.model
        with self.db.session() as session:
            result = session.execute(
                update(model)
                .where(model.id == job_id, model.status == "running")
                .values(updated_at=utcnow(), **values)
            )
            changed = bool(getattr(result, "rowcount", 0))
            row = session.get(model, job_id)
            read, owner = (self.read(row), row.user_id) if row is not None else (None, None)
        if read is not None and owner is not None:
            self.remember(owner, read)
        return changed

    def requeue_stale(self) -> int:
        """Hand out again the jobs nobody has touched for ``stale_after_s``: their event was lost,
        dead-lettered, or their worker died. Returns how many were requeued."""
        cutoff = utcnow() - timedelta(seconds=self.stale_after_s)
        model = self.model
        with self.db.session() as session:
            rows = session.scalars(
                select(model)
                .where(model.status.in_(("queued", "running")), model.updated_at < cutoff)
                .limit(100)
                .with_for_update(skip_locked=True)
            ).all()
            requeued: list[tuple[str, ReadT]] = []
            for row in rows:
                row.status, row.stage, row.updated_at = "queued", "requeued", utcnow()
                self._event(session, row.id)
                requeued.append((row.user_id, self.read(row)))
        for user_id, read in requeued:
            self.remember(user_id, read)
        if requeued:
            logger.warning("requeued stale %s jobs", self.name, extra={"count": len(requeued)})
            self.publish()
        return len(requeued)

    # --- cache --------------------------------------------------------------------------------

    def _status_key(self, job_id: str) -> str:
        return f"{self.name}:job:{job_id}"

    def _result_key(self, job_id: str) -> str:
        return f"{self.name}:result:{job_id}"

    def _cache_result(self, job_id: str, data: bytes) -> None:
        key, ttl = self._result_key(job_id), self.result_cache_ttl_s
        or_when_down(lambda: self.cache.set(key, data, ttl), None, f"caching a {self.name} result")

    def remember(self, user_id: str, job: ReadT) -> None:
        # The row is the truth; a cache outage only slows reads down.
        payload = json.dumps({"user_id": user_id, "job": job.model_dump(mode="json")}).encode()
        key, ttl = self._status_key(job.id), self.result_cache_ttl_s
        or_when_down(lambda: self.cache.set(key, payload, ttl), None, f"caching a {self.name} job's status")


class Claimed(Protocol):
    """What a worker holds once it has claimed a job."""

    @property
    def id(self) -> str: ...

    @property
    def attempts(self) -> int: ...


ClaimT = TypeVar("ClaimT", bound=Claimed)
OutputT = TypeVar("OutputT")


class JobWorker(ABC, Generic[ClaimT, OutputT]):
    """Takes one kind of job off its topic and runs it: claim, work, finish.

    Runs on a thread inside the API process in the embedded default and in processes of its own in
    production, where replicas share the consumer group. The bus re-delivers an event whose worker
    died before committing; ``JobQueue.claim`` makes that harmless and counts the attempt.

    Failures are told apart by cause: a ``Refusal`` from ``work`` (the engine cannot make this
    picture) fails the job at once with its reason; anything else (a model server down, out of
    memory) puts it back in the queue and the event is retried with back-off, until the job's
    attempts are used up.
    """

    #: The step ``work`` is, as progress reports name it ("dressing", "drawing").
    working_stage = "working"

    def __init__(
        self,
        jobs: JobQueue[Any, Any],
        bus: EventBus,
        cache: Cache,
        *,
        group: str,
        poll_timeout_s: float = 0.5,
        sweep_every_s: float = 30.0,
        backoff_s: float = 0.5,
    ) -> None:
        self.jobs = jobs
        self.sweep_every_s = sweep_every_s
        # One more delivery than the job allows, so the job's own count decides when it fails.
        self.consumer = Consumer(
            bus,
            jobs.topic,
            group,
            self.handle,
            processed=CacheProcessedIds.for_group(cache, jobs.topic, group),
            max_attempts=jobs.max_attempts + 1,
            batch_size=1,
            poll_timeout_s=poll_timeout_s,
            backoff_s=backoff_s,
        )

    @abstractmethod
    def claim(self, job_id: str) -> ClaimT | None: ...

    @abstractmethod
    def work(self, job: ClaimT) -> tuple[OutputT, dict[str, float]]:
        """Make the picture; returns it with the engine's own stage timings."""

    @abstractmethod
    def finish(self, job: ClaimT, output: OutputT, timings_ms: dict[str, float]) -> None: ...

    def handle(self, event: Event) -> None:
        if event.type != self.jobs.event_type:
            logger.warning("ignoring an unknown %s event", self.jobs.name, extra={"type": event.type})
            return
        started = time.perf_counter()
        job = self.claim(str(event.payload.get("job_id", "")))
        if job is None:
            return
        if not self.jobs.progress(job.id, self.working_stage, 0.2):
            return  # cancelled while being claimed
        engine_started = time.perf_counter()
        try:
            output, timings = self.work(job)
        except Refusal as exc:
            self.jobs.fail(job.id, exc.code, exc.message)
            return
        except Exception as exc:
            logger.exception(
                "%s engine failed", self.jobs.name, extra={"job_id": job.id, "attempt": job.attempts}
            )
            if job.attempts >= self.jobs.max_attempts:
                self.jobs.fail(
                    job.id,
                    "engine_failed",
                    f"The {self.jobs.what} could not be made after {job.attempts} tries; "
                    "please try again later.",
                )
                return
            self.jobs.retry_later(job.id, f"{type(exc).__name__}: {exc}")
            raise
        engine_ms = (time.perf_counter() - engine_started) * 1000
        if not self.jobs.progress(job.id, "storing", 0.9):
            return
        timings = {**timings, "engine": engine_ms}
        timings["overhead"] = (time.perf_counter() - started) * 1000 - engine_ms
        self.finish(job, output, timings)

    def run_until(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set, handing out stale jobs again every ``sweep_every_s``."""
        next_sweep = 0.0
        while not stop.is_set():
            if time.monotonic() >= next_sweep:
                try:
                    self.jobs.requeue_stale()
                except Exception:
                    logger.exception("sweeping stale %s jobs failed", self.jobs.name)
                next_sweep = time.monotonic() + self.sweep_every_s
            try:
                self.consumer.run_once(stop)
            except Exception:
                logger.exception("%s worker failed; retrying", self.jobs.name)
                stop.wait(1.0)
