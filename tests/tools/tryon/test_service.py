"""The try-on job pipeline on SQLite and PostgreSQL: what a request leaves behind (or, refused,
does not), one job per request, and a worker that retries, gives up, honours cancellation and
picks up the jobs of a worker that died.

The engine here is a stand-in that paints the garment's mean colour over the torso: the
pipeline, not the picture, is the subject (``test_geometric.py`` judges the picture).
"""

from __future__ import annotations

import io
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata
from sqlalchemy import func, select

from core.config import CatalogSettings
from storage.cache.memory import MemoryCache
from storage.events import Event, Topic
from storage.events.memory import MemoryEventBus
from storage.objects.local import LocalObjectStore
from storage.sql import Database
from storage.sql.models import OutboxEvent, Product, TryOnJob
from storage.sql.types import utcnow
from tests.conftest import require_service
from tools.catalog.service import CatalogService
from tools.jobs import JobError
from tools.profile.service import AccountService
from tools.tryon.engine import TryOnRejected, TryOnRequest, TryOnResult
from tools.tryon.runtime import check_person_for
from tools.tryon.schemas import GarmentRef
from tools.tryon.service import TryOnService
from tools.tryon.worker import TryOnWorker
from tools.wardrobe.images import ImageRejected, encode_jpeg

CATALOG_DIR = Path(__file__).resolve().parents[3] / "data" / "catalog"
#: Real photos shipped with scikit-image: one person from the waist up, and a cup of coffee.
ASTRONAUT: np.ndarray = skdata.astronaut()  # type: ignore[no-untyped-call]
COFFEE: np.ndarray = skdata.coffee()  # type: ignore[no-untyped-call]
RED_TEE = "1529"  # a real product photo: "Ferrari Tee", Tshirts
BACKPACK = "1526"  # a real product photo, but not something one wears on the body
NO_PHOTO = "tee-without-photo"


class PaintEngine:
    """Paints the garment's mean colour over the middle of the photo; fails on demand."""

    name = "paint"

    def __init__(self, failures: int = 0, reject: bool = False) -> None:
        self.failures = failures
        self.reject = reject
        self.calls = 0

    def run(self, request: TryOnRequest) -> TryOnResult:
        self.calls += 1
        if self.reject:
            raise TryOnRejected("body_not_visible", "The torso is hidden behind the arms.")
        if self.failures > 0:
            self.failures -= 1
            raise RuntimeError("model server went away")
        image = request.person.copy()
        h, w = image.shape[:2]
        image[h // 3 : 2 * h // 3, w // 4 : 3 * w // 4] = request.garment.reshape(-1, 3).mean(axis=0)
        return TryOnResult(image=image, engine=self.name, timings_ms={"paint": 1.0})


def _jpeg(rgb: np.ndarray) -> bytes:
    return encode_jpeg(rgb.astype(np.uint8), quality=95)


@pytest.fixture(scope="module")
def person_photo() -> bytes:
    return _jpeg(ASTRONAUT)  # a real upper-body photo of one person, shipped with scikit-image


@pytest.fixture
def people(database: Database) -> tuple[str, str]:
    accounts = AccountService(database)
    ann = accounts.create_user(email="ann@example.com", password="a-long-password-1")
    bob = accounts.create_user(email="bob@example.com", password="a-long-password-2")
    return ann.id, bob.id


@pytest.fixture
def catalog(database: Database) -> CatalogService:
    with database.session() as session:
        session.add_all(
            [
                Product(id=RED_TEE, source="test", name="Ferrari Tee", article_type="Tshirts",
                        image=f"thumbnails/{RED_TEE}.jpg"),
                Product(id=BACKPACK, source="test", name="Puma Big Cat Backpack", article_type="Backpacks",
                        image=f"thumbnails/{BACKPACK}.jpg"),
                Product(id=NO_PHOTO, source="test", name="Plain Tee", article_type="Tshirts", image=None),
            ]
        )  # fmt: skip
    return CatalogService(database, CatalogSettings())


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def bus(clock: Clock) -> MemoryEventBus:
    return MemoryEventBus(partitions=2, lease_s=30.0, clock=clock)


@pytest.fixture
def tryon(database: Database, tmp_path: Path, catalog: CatalogService, bus: MemoryEventBus) -> TryOnService:
    wardrobe = None  # garments here are catalogue products
    return TryOnService(
        database,
        LocalObjectStore(tmp_path / "objects"),
        MemoryCache(),
        bus,
        catalog,
        wardrobe,
        CATALOG_DIR,
        check_person_for,
        engine_name="paint",
        max_attempts=3,
        stale_after_s=60,
    )


def _worker(tryon: TryOnService, bus: MemoryEventBus, engine: PaintEngine) -> TryOnWorker:
    return TryOnWorker(tryon, engine, bus, MemoryCache(), poll_timeout_s=0.05, backoff_s=0.0)


def _objects(tryon: TryOnService) -> list[str]:
    return sorted(info.key for info in tryon.objects.list("tryon/"))


def _tryon_events(database: Database) -> int:
    with database.session() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(OutboxEvent)
                .where(OutboxEvent.topic == Topic.TRYON_TASK_QUEUE)
            )
            or 0
        )


def _drain(worker: TryOnWorker) -> None:
    while worker.consumer.run_once():
        pass


def test_a_request_leaves_a_job_its_inputs_and_one_published_event(
    tryon, people, person_photo, bus, database, clock
):
    ann, _ = people
    job, created = tryon.submit(ann, person_photo, GarmentRef(product_id=RED_TEE))
    assert created
    assert job.status == "queued"
    assert job.kind == "upper"
    assert job.garment == {"product_id": RED_TEE, "name": "Ferrari Tee"}
    assert _objects(tryon) == [f"tryon/{ann}/{job.id}/garment.img", f"tryon/{ann}/{job.id}/person.jpg"]
    delivered = bus.poll(Topic.TRYON_TASK_QUEUE, "probe", timeout_s=0)
    assert [d.event.payload["job_id"] for d in delivered] == [job.id]
    with database.session() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(OutboxEvent).where(OutboxEvent.published_at.is_(None))
            )
            == 0
        )


def test_the_same_request_twice_is_one_job(tryon, people, person_photo, database):
    ann, bob = people
    first, _ = tryon.submit(ann, person_photo, GarmentRef(product_id=RED_TEE))
    again, created = tryon.submit(ann, person_photo, GarmentRef(product_id=RED_TEE))
    assert (again.id, created) == (first.id, False)
    assert _tryon_events(database) == 1
    # Someone else sending the same photo gets a job of their own.
    other, created = tryon.submit(bob, person_photo, GarmentRef(product_id=RED_TEE))
    assert created
    assert other.id != first.id


def _two_people(photo: bytes) -> bytes:
    with Image.open(io.BytesIO(photo)) as img:
        rgb = np.asarray(img.convert("RGB"))
    return _jpeg(np.concatenate([rgb, rgb[:, ::-1]], axis=1))


@pytest.mark.parametrize(
    ("photo_of", "garment", "error", "code"),
    [
        ("coffee", RED_TEE, TryOnRejected, "no_person"),
        ("two_people", RED_TEE, TryOnRejected, "several_people"),
        ("person", BACKPACK, TryOnRejected, "wrong_garment_type"),
        ("person", NO_PHOTO, TryOnRejected, "garment_has_no_image"),
        ("person", "no-such-product", JobError, "not_found"),
        ("corrupt", RED_TEE, ImageRejected, "corrupt"),
        ("text", RED_TEE, ImageRejected, "not_an_image"),
    ],
)
def test_a_refused_request_leaves_nothing_behind(
    tryon, people, person_photo, database, photo_of, garment, error, code
):
    ann, _ = people
    photo = {
        "person": person_photo,
        "coffee": _jpeg(COFFEE),
        "two_people": _two_people(person_photo),
        "corrupt": person_photo[: len(person_photo) // 2],
        "text": b"this is not a photo at all",
    }[photo_of]
    with pytest.raises(error) as refused:
        tryon.submit(ann, photo, GarmentRef(product_id=garment))
    assert refused.value.code == code
    assert refused.value.message
    assert _objects(tryon) == []
    assert _tryon_events(database) == 0
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(TryOnJob)) == 0


def test_a_worker_dresses_the_person_and_keeps_one_result(tryon, people, person_photo, bus):
    ann, _ = people
    job, _ = tryon.submit(ann, person_photo, GarmentRef(product_id=RED_TEE))
    engine = PaintEngine()
    _drain(_worker(tryon, bus, engine))
    done = tryon.get(ann, job.id)
    assert (done.status, done.stage, done.progress, done.attempts, done.has_result) == (
        "succeeded",
        "done",
        1.0,
        1,
        True,
    )
    assert {"paint", "engine", "overhead"} <= set(done.timings_ms)
    with Image.open(io.BytesIO(tryon.result(ann, job.id))) as img:
        result = np.asarray(img.convert("RGB")).astype(int)
    assert result.shape == ASTRONAUT.shape
    # The red tee's colour is in the middle of the picture now.
    middle = result[200:300, 180:330].reshape(-1, 3).mean(axis=0)
    assert middle[0] > middle[1] + 40
    assert middle[0] > middle[2] + 40
    assert f"tryon/{ann}/{job.id}/result.jpg" in _objects(tryon)
    # A second delivery of the same job (a redelivered or re-published event) changes nothing.
    tryon.jobs.publish()
    bus.publish(Topic.TRYON_TASK_QUEUE, _requested(job.id))
    _drain(_worker(tryon, bus, engine))
    assert engine.calls == 1
    assert tryon.get(ann, job.id).attempts == 1


def _requested(job_id: str) -> Event:

    return Event(type="tryon.requested", key=job_id, payload={"job_id": job_id})


def test_other_people_cannot_see_or_cancel_a_job(tryon, people, person_photo):
    ann, bob = people
    job, _ = tryon.submit(ann, person_photo, GarmentRef(product_id=RED_TEE))
    for call in (tryon.get, tryon.cancel, tryon.result):
        with pytest.raises(JobError) as refused:
            call(bob, job.id)
        assert refused.value.code == "not_found"
    assert tryon.list(bob) == []


def test_a_passing_failure_is_retried_and_a_lasting_one_fails_the_job(tryon, people, person_photo, bus):
    ann, _ = people
    flaky, _ = tryon.submit(ann, person_photo, GarmentRef(product_id=RED_TEE))
    _drain(_worker(tryon, bus, PaintEngine(failures=1)))
    assert (tryon.get(ann, flaky.id).status, tryon.get(ann, flaky.id).attempts) == ("succeeded", 2)

    broken_photo = _jpeg(ASTRONAUT[:, ::-1])  # another photo: another job
    broken, _ = tryon.submit(ann, broken_photo, GarmentRef(product_id=RED_TEE))
    engine = PaintEngine(failures=100)
    _drain(_worker(tryon, bus, engine))
    failed = tryon.get(ann, broken.id)
    assert (failed.status, failed.error_code, failed.attempts, engine.calls) == (
        "failed",
        "engine_failed",
        3,
        3,
    )
    assert not failed.has_result
    # The job failed by its own count, so nothing was parked on the dead-letter topic.
    assert bus.poll(Topic.TRYON_TASK_QUEUE.dead_letter, "probe", timeout_s=0) == []
    # Sending the same request again starts it afresh.
    again, created = tryon.submit(ann, broken_photo, GarmentRef(product_id=RED_TEE))
    assert created
    assert (again.id, again.status, again.attempts) == (broken.id, "queued", 0)


def test_an_engine_refusal_fails_the_job_at_once_with_its_reason(tryon, people, person_photo, bus):
    ann, _ = people
    job, _ = tryon.submit(ann, person_photo, GarmentRef(product_id=RED_TEE))
    engine = PaintEngine(reject=True)
    _drain(_worker(tryon, bus, engine))
    failed = tryon.get(ann, job.id)
    assert (failed.status, failed.error_code, failed.attempts, engine.calls) == (
        "failed",
        "body_not_visible",
        1,
        1,
    )
    assert "torso" in (failed.error_message or "")


def test_a_cancelled_job_is_not_dressed(tryon, people, person_photo, bus):
    ann, _ = people
    job, _ = tryon.submit(ann, person_photo, GarmentRef(product_id=RED_TEE))
    assert tryon.cancel(ann, job.id).status == "cancelled"
    engine = PaintEngine()
    _drain(_worker(tryon, bus, engine))
    assert engine.calls == 0
    assert tryon.get(ann, job.id).status == "cancelled"
    with pytest.raises(JobError) as refused:
        tryon.cancel(ann, job.id)
    assert refused.value.code == "not_cancellable"
    with pytest.raises(JobError) as refused:
        tryon.result(ann, job.id)
    assert refused.value.code == "not_ready"


def test_a_job_cancelled_while_it_runs_keeps_no_result(tryon, people, person_photo, bus):
    ann, _ = people
    job, _ = tryon.submit(ann, person_photo, GarmentRef(product_id=RED_TEE))

    class CancelMidway(PaintEngine):
        def run(self, request: TryOnRequest) -> TryOnResult:
            tryon.cancel(ann, job.id)
            return super().run(request)

    _drain(_worker(tryon, bus, CancelMidway()))
    assert tryon.get(ann, job.id).status == "cancelled"
    assert f"tryon/{ann}/{job.id}/result.jpg" not in _objects(tryon)


def test_a_job_whose_worker_died_is_handed_out_again_and_finished_once(
    tryon, people, person_photo, bus, database, clock
):
    ann, _ = people
    job, _ = tryon.submit(ann, person_photo, GarmentRef(product_id=RED_TEE))
    # A worker takes the event and the job, then dies: nothing committed, nothing finished.
    taken = bus.poll(Topic.TRYON_TASK_QUEUE, "tryon-workers", timeout_s=0)
    assert [d.event.payload["job_id"] for d in taken] == [job.id]
    assert tryon.claim(job.id) is not None
    assert tryon.get(ann, job.id).status == "running"
    # Time passes; the sweeper finds the abandoned job and hands it out again.
    with database.session() as session:
        session.get(TryOnJob, job.id).updated_at = utcnow() - timedelta(seconds=120)
    assert tryon.jobs.requeue_stale() == 1
    assert tryon.get(ann, job.id).status == "queued"
    clock.now += 31  # the dead worker's lease on the partition lapses
    engine = PaintEngine()
    worker = _worker(tryon, bus, engine)
    _drain(worker)
    done = tryon.get(ann, job.id)
    assert (done.status, done.attempts, engine.calls) == ("succeeded", 2, 1)
    assert [k for k in _objects(tryon) if k.endswith("result.jpg")] == [f"tryon/{ann}/{job.id}/result.jpg"]
    assert tryon.jobs.requeue_stale() == 0


def test_the_worker_loop_stops_when_told(tryon, bus):
    worker = _worker(tryon, bus, PaintEngine())
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_until, args=(stop,))
    thread.start()
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()


@pytest.mark.integration
def test_jobs_travel_through_a_real_kafka_broker(database, tmp_path, catalog, people, person_photo):
    bootstrap = require_service("IK_TEST_KAFKA_BOOTSTRAP", "Kafka")
    from storage.events.kafka import KafkaEventBus

    bus = KafkaEventBus(bootstrap, topic_prefix=f"ik-test-{uuid.uuid4().hex[:8]}.", session_timeout_ms=6000)
    service = TryOnService(
        database, LocalObjectStore(tmp_path / "objects"), MemoryCache(), bus, catalog, None,
        CATALOG_DIR, check_person_for, engine_name="paint",
    )  # fmt: skip
    engine = PaintEngine()
    worker = TryOnWorker(service, engine, bus, MemoryCache(), poll_timeout_s=0.2)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_until, args=(stop,), daemon=True)
    thread.start()
    try:
        ann, _ = people
        photos = [person_photo, _jpeg(ASTRONAUT[:, ::-1]), _jpeg(ASTRONAUT[::2, ::2])]
        jobs = [service.submit(ann, photo, GarmentRef(product_id=RED_TEE))[0] for photo in photos]
        deadline = time.monotonic() + 60
        while not all(service.get(ann, j.id).done for j in jobs) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [service.get(ann, j.id).status for j in jobs] == ["succeeded"] * 3
        # The same job's event again (an at-least-once redelivery): handled, nothing recomputed.
        bus.publish(Topic.TRYON_TASK_QUEUE, _requested(jobs[0].id))
        time.sleep(2.0)
        assert engine.calls == 3
        results = [k for k in _objects(service) if k.endswith("result.jpg")]
        assert sorted(results) == sorted(f"tryon/{ann}/{j.id}/result.jpg" for j in jobs)
    finally:
        stop.set()
        thread.join(timeout=10)
        bus.close()
        bus.delete_topics()


def test_the_same_request_racing_itself_is_one_job_with_its_inputs_kept(
    tryon, people, person_photo, database
):
    ann, _ = people
    check = tryon.person_check
    raced: list[bool] = []

    def other_request_wins(rgb: np.ndarray, kind: str) -> None:
        check(rgb, kind)
        if not raced:  # while this request is being checked, the same one arrives and is queued
            raced.append(True)
            tryon.submit(ann, person_photo, GarmentRef(product_id=RED_TEE))

    tryon.person_check = other_request_wins
    job, created = tryon.submit(ann, person_photo, GarmentRef(product_id=RED_TEE))
    assert not created
    assert job.status == "queued"
    assert _tryon_events(database) == 1
    assert _objects(tryon) == [f"tryon/{ann}/{job.id}/garment.img", f"tryon/{ann}/{job.id}/person.jpg"]


def test_a_wardrobe_garment_without_a_wardrobe_is_unavailable(tryon, people, person_photo):
    ann, _ = people
    with pytest.raises(JobError) as refused:
        tryon.submit(ann, person_photo, GarmentRef(wardrobe_item_id="0" * 36))
    assert refused.value.code == "unavailable"
