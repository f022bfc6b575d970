"""The try-on worker: takes jobs off ``tryon-task-queue`` and dresses the person with an engine
(the life of a job, retries and failures included, is ``tools.jobs.JobWorker``'s)."""

from __future__ import annotations

from storage.cache.base import Cache
from storage.events import EventBus
from tools.jobs import JobWorker
from tools.tryon.engine import RGB, TryOnEngine, TryOnRequest
from tools.tryon.service import ClaimedJob, TryOnService

GROUP = "tryon-workers"


class TryOnWorker(JobWorker[ClaimedJob, RGB]):
    working_stage = "dressing"

    def __init__(
        self,
        service: TryOnService,
        engine: TryOnEngine,
        bus: EventBus,
        cache: Cache,
        **timing: float,
    ) -> None:
        """``timing``: ``JobWorker``'s poll_timeout_s, sweep_every_s and backoff_s."""
        super().__init__(service.jobs, bus, cache, group=GROUP, **timing)
        self.service = service
        self.engine = engine

    def claim(self, job_id: str) -> ClaimedJob | None:
        return self.service.claim(job_id)

    def work(self, job: ClaimedJob) -> tuple[RGB, dict[str, float]]:
        request = TryOnRequest(
            person=job.person, garment=job.garment, kind=job.kind, garment_mask=job.garment_mask
        )
        result = self.engine.run(request)
        return result.image, dict(result.timings_ms)

    def finish(self, job: ClaimedJob, output: RGB, timings_ms: dict[str, float]) -> None:
        self.service.finish(job, output, timings_ms)
