"""The image worker: takes jobs off ``image-generation-tasks`` and has the text-to-image server draw
them (the life of a job is ``tools.jobs.JobWorker``'s).

Several workers run at once (``IK_IMAGEGEN__WORKERS``), each holding one request open to the
server, so the server has requests to put into one batch: this is the batch scheduler's feed.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.cache.base import Cache
from storage.events import EventBus
from storage.sql.models import ImageJob
from tools.imagegen.prompt import ImagePrompt
from tools.imagegen.remote import Generated, HttpImageGenerator
from tools.imagegen.service import ImageJobRead
from tools.jobs import JobQueue, JobWorker

GROUP = "image-workers"


@dataclass(frozen=True)
class ClaimedImage:
    id: str
    user_id: str
    attempts: int
    prompt: ImagePrompt


class ImageGenWorker(JobWorker[ClaimedImage, Generated]):
    working_stage = "drawing"

    def __init__(
        self,
        jobs: JobQueue[ImageJob, ImageJobRead],
        generator: HttpImageGenerator,
        bus: EventBus,
        cache: Cache,
        **timing: float,
    ) -> None:
        """``timing``: ``JobWorker``'s poll_timeout_s, sweep_every_s and backoff_s."""
        super().__init__(jobs, bus, cache, group=GROUP, **timing)
        self.image_jobs = jobs
        self.generator = generator

    def claim(self, job_id: str) -> ClaimedImage | None:
        row = self.image_jobs.claim(job_id)
        if row is None:
            return None
        prompt = ImagePrompt(row.prompt, row.negative_prompt, row.width, row.height, row.seed)
        return ClaimedImage(row.id, row.user_id, row.attempts, prompt)

    def work(self, job: ClaimedImage) -> tuple[Generated, dict[str, float]]:
        generated = self.generator.generate(job.prompt)
        return generated, dict(generated.timings_ms)

    def finish(self, job: ClaimedImage, output: Generated, timings_ms: dict[str, float]) -> None:
        self.image_jobs.finish(job.id, job.user_id, output.png, "image/png", "png", timings_ms)
