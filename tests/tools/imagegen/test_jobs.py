"""Generated outfit pictures as jobs, on SQLite and PostgreSQL, drawn by a real text-to-image
server (tiny random weights on CPU: the pictures are noise, the pipeline is the subject):
queued once per request, drawn by workers, refused or retried as the server answers."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from core.config import CatalogSettings
from model_servers.imagegen.app import create_app
from model_servers.imagegen.pipeline import TextToImage
from storage.cache.memory import MemoryCache
from storage.events import Topic
from storage.events.memory import MemoryEventBus
from storage.objects.local import LocalObjectStore
from storage.sql import Database
from storage.sql.models import ImageJob, Product
from tests.model_servers.serving import free_port, live_server
from tools.catalog.service import CatalogService
from tools.imagegen.remote import HttpImageGenerator
from tools.imagegen.service import REQUESTED, ImageGenError, ImageGenService, ImageJobRead
from tools.imagegen.worker import ImageGenWorker
from tools.jobs import JobQueue
from tools.profile.service import AccountService

CATALOG_DIR = Path(__file__).resolve().parents[3] / "data" / "catalog"
TEE, JEANS = "1529", "t-jeans"


@pytest.fixture(scope="module")
def image_server() -> Iterator[str]:
    with live_server(create_app(TextToImage.random("tiny"), max_batch=4, max_wait_ms=50)) as url:
        yield url


@pytest.fixture
def user(database: Database) -> str:
    return AccountService(database).create_user(email="ann@example.com", password="a-long-password-1").id


@pytest.fixture
def bus() -> MemoryEventBus:
    return MemoryEventBus(partitions=2)


def _service(
    database: Database, tmp_path: Path, bus: MemoryEventBus, size: tuple[int, int] = (256, 256)
) -> ImageGenService:
    with database.session() as session:
        session.add_all(
            [
                Product(id=TEE, source="test", name="Ferrari Tee", article_type="Tshirts", colour="Red",
                        image=f"thumbnails/{TEE}.jpg"),
                Product(id=JEANS, source="test", name="Slim Jeans", article_type="Jeans", colour="Navy Blue"),
            ]
        )  # fmt: skip
    objects = LocalObjectStore(tmp_path / "objects")
    jobs: JobQueue[ImageJob, ImageJobRead] = JobQueue(
        database, objects, MemoryCache(), bus, model=ImageJob, read_model=ImageJobRead,
        topic=Topic.IMAGE_GENERATION_TASKS, event_type=REQUESTED, name="image", what="picture",
        max_attempts=2,
    )  # fmt: skip
    return ImageGenService(
        objects, CatalogService(database, CatalogSettings()), CATALOG_DIR, jobs=jobs, size=size
    )


def _drain(
    service: ImageGenService, generator: HttpImageGenerator, bus: MemoryEventBus, workers: int = 1
) -> None:
    assert service.jobs is not None
    pool = [ImageGenWorker(service.jobs, generator, bus, MemoryCache(), poll_timeout_s=0.05, backoff_s=0.0)
            for _ in range(workers)]  # fmt: skip

    def run(worker: ImageGenWorker) -> None:
        while worker.consumer.run_once():
            pass

    threads = [threading.Thread(target=run, args=(w,)) for w in pool]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)


def test_a_picture_is_queued_once_drawn_and_kept(database, tmp_path, bus, user, image_server):
    service = _service(database, tmp_path, bus)
    jobs = [
        service.generate(user, product_ids=[TEE, JEANS], occasion="婚礼", seed=seed)[0] for seed in (1, 2, 3)
    ]
    assert [j.status for j in jobs] == ["queued"] * 3
    first = jobs[0]
    assert "red ferrari tee" in first.prompt.lower()
    assert "wedding" in first.prompt.lower()  # the Chinese occasion is translated for the model
    assert first.pieces == ["Ferrari Tee", "Slim Jeans"]
    again, created = service.generate(user, product_ids=[TEE, JEANS], occasion="婚礼", seed=1)
    assert (again.id, created) == (first.id, False)
    _drain(service, HttpImageGenerator(image_server, steps=2), bus, workers=3)
    assert service.jobs is not None
    for job in jobs:
        done = service.jobs.get(user, job.id)
        assert done.status == "succeeded", done.error_message
        assert {"engine", "overhead"} <= set(done.timings_ms)
        with Image.open(io.BytesIO(service.jobs.result(user, job.id))) as img:
            assert img.size == (256, 256)


def test_a_refused_picture_fails_at_once_with_the_servers_reason(database, tmp_path, bus, user, image_server):
    service = _service(database, tmp_path, bus, size=(2048, 256))  # wider than the server draws
    job, _ = service.generate(user, product_ids=[TEE])
    _drain(service, HttpImageGenerator(image_server, steps=2), bus)
    assert service.jobs is not None
    failed = service.jobs.get(user, job.id)
    assert (failed.status, failed.error_code, failed.attempts) == ("failed", "invalid_request", 1)
    assert "width" in (failed.error_message or "")


def test_a_server_that_is_down_is_tried_again_then_the_job_fails(database, tmp_path, bus, user):
    service = _service(database, tmp_path, bus)
    job, _ = service.generate(user, product_ids=[TEE])
    started = time.monotonic()
    _drain(service, HttpImageGenerator(f"http://127.0.0.1:{free_port()}", timeout_s=2), bus)
    assert service.jobs is not None
    failed = service.jobs.get(user, job.id)
    assert (failed.status, failed.error_code, failed.attempts) == ("failed", "engine_failed", 2)
    assert time.monotonic() - started < 60


def test_without_a_server_generated_pictures_are_unavailable(database, tmp_path, user):
    catalog = CatalogService(database, CatalogSettings())
    service = ImageGenService(LocalObjectStore(tmp_path / "objects"), catalog, CATALOG_DIR)
    with pytest.raises(ImageGenError) as refused:
        service.generate(user, product_ids=[TEE])
    assert refused.value.code == "unavailable"


def test_the_tool_makes_the_board_and_queues_a_generated_picture(database, tmp_path, bus, user):
    from tools.base import ToolContext
    from tools.imagegen.tools import GENERATE_OUTFIT_IMAGE
    from tools.profile.schemas import Locale
    from tools.registry import ToolServices

    service = _service(database, tmp_path, bus)
    services = ToolServices(accounts=AccountService(database), profiles=None, imagegen=service)  # type: ignore[arg-type]
    result = GENERATE_OUTFIT_IMAGE.invoke(
        ToolContext(user_id=user, locale=Locale.en, services=services),
        {"product_ids": [TEE, JEANS], "occasion": "wedding"},
    )
    assert result.ok, result.error
    assert [c.kind for c in result.cards] == ["image", "job"]
    assert result.data["generative"] is False  # the board itself is never generated
    assert service.jobs is not None
    (job,) = service.jobs.list(user)
    assert result.data["generation_job_id"] == job.id
    assert result.cards[1].data["events_url"] == f"/api/v1/images/jobs/{job.id}/events"
