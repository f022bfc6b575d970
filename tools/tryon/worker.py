"""The try-on worker: takes jobs off ``tryon-task-queue`` and dresses the person with an engine.

It runs on a thread inside the API process in the embedded default and as its own process
(``python -m tools.tryon worker``) in production, where several replicas share the
consumer group. Either way the bus's consumer loop gives each event to one worker and
re-delivers it when that worker dies before committing; ``TryOnService.claim`` makes the
second delivery harmless, and the attempt count stops a job that crashes every worker.

Failures are told apart by cause:

* ``TryOnRejected`` (the engine cannot dress this person in this garment): final, the job
  fails with the engine's reason; retrying cannot help.
* anything else (a model server down, out of memory): the job goes back to the queue and
  the event is retried with back-off, until the job's attempts are used up.
"""

from __future__ import annotations

import logging
import threading
import time

from storage.cache.base import Cache
from storage.events import Event, EventBus, Topic
from storage.events.consumer import CacheProcessedIds, Consumer
from tools.tryon.engine import TryOnEngine, TryOnRejected, TryOnRequest
from tools.tryon.service import REQUESTED, TryOnService

logger = logging.getLogger(__name__)

GROUP = "tryon-workers"


class TryOnWorker:
    def __init__(
        self,
        service: TryOnService,
        engine: TryOnEngine,
        bus: EventBus,
        cache: Cache,
        *,
        poll_timeout_s: float = 0.5,
        sweep_every_s: float = 30.0,
        backoff_s: float = 0.5,
    ) -> None:
        self.service = service
        self.engine = engine
        self.sweep_every_s = sweep_every_s
        # One more delivery than the job allows, so the job's own count decides when it fails.
        self.consumer = Consumer(
            bus,
            Topic.TRYON_TASK_QUEUE,
            GROUP,
            self.handle,
            processed=CacheProcessedIds.for_group(cache, Topic.TRYON_TASK_QUEUE, GROUP),
            max_attempts=service.max_attempts + 1,
            batch_size=1,
            poll_timeout_s=poll_timeout_s,
            backoff_s=backoff_s,
        )

    def handle(self, event: Event) -> None:
        if event.type != REQUESTED:
            logger.warning(
                "ignoring an unknown try-on event", extra={"type": event.type, "event_id": event.id}
            )
            return
        job_id = str(event.payload.get("job_id", ""))
        started = time.perf_counter()
        job = self.service.claim(job_id)
        if job is None:
            return
        if not self.service.progress(job.id, "dressing", 0.2):
            return  # cancelled while being claimed
        request = TryOnRequest(
            person=job.person, garment=job.garment, kind=job.kind, garment_mask=job.garment_mask
        )
        engine_started = time.perf_counter()
        try:
            result = self.engine.run(request)
        except TryOnRejected as exc:
            self.service.fail(job.id, exc.code, exc.message)
            return
        except Exception as exc:
            logger.exception("try-on engine failed", extra={"job_id": job.id, "attempt": job.attempt})
            if job.attempt >= self.service.max_attempts:
                self.service.fail(
                    job.id,
                    "engine_failed",
                    f"The try-on could not be made after {job.attempt} tries; please try again later.",
                )
                return
            self.service.retry_later(job.id, f"{type(exc).__name__}: {exc}")
            raise
        engine_ms = (time.perf_counter() - engine_started) * 1000
        if not self.service.progress(job.id, "storing", 0.9):
            return
        timings = {**result.timings_ms, "engine": engine_ms}
        timings["overhead"] = (time.perf_counter() - started) * 1000 - engine_ms
        self.service.finish(job, result.image, timings)

    def run_until(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set, handing out stale jobs again every ``sweep_every_s``."""
        next_sweep = 0.0
        while not stop.is_set():
            if time.monotonic() >= next_sweep:
                try:
                    self.service.requeue_stale()
                except Exception:
                    logger.exception("sweeping stale try-on jobs failed")
                next_sweep = time.monotonic() + self.sweep_every_s
            try:
                self.consumer.run_once(stop)
            except Exception:
                logger.exception("try-on worker failed; retrying")
                stop.wait(1.0)
