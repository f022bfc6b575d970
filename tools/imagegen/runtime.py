"""Build the outfit-image service (and, where a text-to-image server is set up, its job queue and
workers) once per process."""

from __future__ import annotations

from core.config import Settings
from storage.events import Topic
from storage.sql.models import ImageJob
from storage.stores import Stores
from tools.catalog.service import CatalogService
from tools.imagegen.remote import HttpImageGenerator
from tools.imagegen.service import REQUESTED, ImageGenService, ImageJobRead
from tools.imagegen.worker import ImageGenWorker
from tools.jobs import JobQueue
from tools.wardrobe.service import WardrobeService


def open_imagegen(
    settings: Settings, stores: Stores, catalog: CatalogService, wardrobe: WardrobeService | None
) -> ImageGenService:
    config = settings.imagegen
    jobs: JobQueue[ImageJob, ImageJobRead] | None = None
    if config.engine == "model_server":
        jobs = JobQueue(
            stores.db,
            stores.objects,
            stores.cache,
            stores.events,
            model=ImageJob,
            read_model=ImageJobRead,
            topic=Topic.IMAGE_GENERATION_TASKS,
            event_type=REQUESTED,
            name="image",
            what="picture",
            max_attempts=config.max_attempts,
            stale_after_s=config.stale_after_s,
        )
    return ImageGenService(
        stores.objects, catalog, settings.catalog_dir, wardrobe, jobs=jobs, size=(config.width, config.height)
    )


def open_image_workers(settings: Settings, stores: Stores, service: ImageGenService) -> list[ImageGenWorker]:
    """``IK_IMAGEGEN__WORKERS`` workers sharing one consumer group; none without a server."""
    config = settings.imagegen
    if service.jobs is None or config.model_server_url is None:
        return []
    generator = HttpImageGenerator(
        config.model_server_url,
        steps=config.steps,
        guidance_scale=config.guidance_scale,
        timeout_s=config.model_server_timeout_s,
    )
    return [
        ImageGenWorker(service.jobs, generator, stores.events, stores.cache) for _ in range(config.workers)
    ]
