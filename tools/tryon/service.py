"""Try-on jobs: checked before they exist, queued on the bus, dressed by a worker, kept in storage.

The flow is the design's: photo → API → this service → event on ``tryon-task-queue`` →
a worker (``tools.tryon.worker``) → result in the object store and the cache → the client,
which follows the job by polling or by the API's event stream.

Why it is shaped this way:

* **Nothing is queued that cannot run.** The photo is decoded and checked (one person,
  shoulders and torso in view, the garment's body part visible) and the garment resolved
  (a product with a photo, of a type that dresses a body) *before* the row is written, so
  a bad request gets its reason at once and leaves no job, no object and no event behind.
* **The row is the truth, the event is a wake-up call.** The job row and its event are
  written in one transaction (the outbox), then published at once; a lost or dead-lettered
  event only delays a job, because ``requeue_stale`` hands untouched jobs out again.
* **Idempotent ids.** The id is a UUIDv5 of the person, the photo's digest, the garment and
  the engine: a double tap or an HTTP retry finds the job already there. A job that failed or
  was cancelled is started afresh by the same request.
* **At most one result per job.** A worker claims a job by moving it to ``running`` and may
  only finish a job still ``running``; a second delivery of the same event finds it running
  or finished, and a cancelled job's late result is thrown away.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import numpy as np
from PIL import Image
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.cache.base import Cache
from storage.events import EventBus, Topic
from storage.objects import ObjectStore
from storage.sql.database import Database
from storage.sql.models import TryOnJob
from storage.sql.outbox import OutboxRelay, add_event
from storage.sql.types import utcnow
from tools.base import ServiceError
from tools.catalog.service import CatalogService
from tools.tryon.engine import RGB, GarmentKind, Mask, TryOnRejected, garment_kind
from tools.tryon.schemas import TERMINAL, GarmentRef, TryOnJobRead
from tools.wardrobe.images import ImageLimits, encode_jpeg, load_image, resize_max_side
from tools.wardrobe.service import WardrobeError, WardrobeService

logger = logging.getLogger(__name__)

#: Namespace of job ids (see the module doc).
_JOB_NAMESPACE = uuid.UUID("0b7e6a52-8c1d-4f3e-9a61-5d2c7e4b9f10")
REQUESTED = "tryon.requested"

#: Checks a person photo can be dressed in a garment of ``kind``; raises ``TryOnRejected``.
PersonCheck = Callable[[RGB, GarmentKind], None]


class TryOnError(ServiceError):
    """A request about a job that cannot be met."""


@dataclass(frozen=True)
class Garment:
    ref: GarmentRef
    name: str
    kind: GarmentKind
    image: bytes
    mask_png: bytes | None


@dataclass(frozen=True)
class ClaimedJob:
    """A job a worker now holds, with its inputs decoded."""

    id: str
    user_id: str
    kind: GarmentKind
    attempt: int
    person: RGB
    garment: RGB
    garment_mask: Mask | None


def _queue(session: Session, job_id: str) -> None:
    """Stage the job's wake-up event in the transaction that queues the job."""
    add_event(session, topic=Topic.TRYON_TASK_QUEUE, type=REQUESTED, key=job_id, payload={"job_id": job_id})


def _read(row: TryOnJob) -> TryOnJobRead:
    read = TryOnJobRead.model_validate(row)
    return read.model_copy(update={"has_result": row.result_key is not None and row.status == "succeeded"})


def _decode(data: bytes) -> RGB:
    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("RGB"), dtype=np.uint8)


def _png(mask: Mask) -> bytes:
    out = io.BytesIO()
    Image.fromarray(mask.astype(np.uint8) * 255).save(out, format="PNG")
    return out.getvalue()


class TryOnService:
    def __init__(
        self,
        db: Database,
        objects: ObjectStore,
        cache: Cache,
        bus: EventBus,
        catalog: CatalogService,
        wardrobe: WardrobeService | None,
        catalog_dir: Path,
        person_check: PersonCheck,
        *,
        engine_name: str,
        max_attempts: int = 3,
        stale_after_s: float = 300.0,
        result_cache_ttl_s: float = 3600.0,
        max_side: int = 1024,
        limits: ImageLimits | None = None,
    ) -> None:
        self.db = db
        self.objects = objects
        self.cache = cache
        self.relay = OutboxRelay(db, bus)
        self.catalog = catalog
        self.wardrobe = wardrobe
        self.catalog_dir = catalog_dir
        self.person_check = person_check
        self.engine_name = engine_name
        self.max_attempts = max_attempts
        self.stale_after_s = stale_after_s
        self.result_cache_ttl_s = result_cache_ttl_s
        self.max_side = max_side
        self.limits = limits or ImageLimits()

    # --- the person's side --------------------------------------------------------------------

    def garment(self, user_id: str, ref: GarmentRef) -> Garment:
        """The garment's photo and body part, or ``TryOnRejected`` saying why it cannot be tried on."""
        if ref.product_id is not None:
            detail = self.catalog.get_product(ref.product_id)
            if detail is None:
                raise TryOnError("not_found", f"There is no product {ref.product_id!r} in the catalogue.")
            product = detail.product
            kind = garment_kind(product.article_type)
            if kind is None:
                raise TryOnRejected(
                    "wrong_garment_type",
                    f"{product.name} is {product.article_type or 'not a garment'}; try-on dresses tops, "
                    "bottoms and dresses only.",
                )
            path = self.catalog.image_file(product.id, self.catalog_dir)
            if path is None:
                raise TryOnRejected(
                    "garment_has_no_image",
                    f"{product.name} has no product photo yet, so it cannot be shown on you.",
                )
            return Garment(ref, product.name, kind, path.read_bytes(), None)
        assert ref.wardrobe_item_id is not None  # GarmentRef holds exactly one
        if self.wardrobe is None:
            raise TryOnError("unavailable", "The wardrobe is not available in this deployment.")
        try:
            item = self.wardrobe.get(user_id, ref.wardrobe_item_id)
        except WardrobeError as exc:
            raise TryOnError("not_found", exc.message) from exc
        kind = garment_kind(item.category)
        if kind is None:
            raise TryOnRejected(
                "wrong_garment_type",
                f"Your {item.name} is {item.category or 'not tagged as a garment'}; try-on dresses tops, "
                "bottoms and dresses only.",
            )
        try:
            photo = self.wardrobe.photo(user_id, item.id).data
        except WardrobeError as exc:
            raise TryOnRejected("garment_has_no_image", f"Your {item.name} has no photo to try on.") from exc
        mask_png: bytes | None = None
        try:
            cutout = self.wardrobe.photo(user_id, item.id, "cutout").data
            with Image.open(io.BytesIO(cutout)) as img:
                if "A" in img.getbands():
                    mask_png = _png(np.asarray(img.getchannel("A")) > 127)
        except WardrobeError:
            mask_png = None  # no cut-out: the engine finds the garment itself
        return Garment(ref, item.name, kind, photo, mask_png)

    def job_id(self, user_id: str, photo: bytes, ref: GarmentRef) -> str:
        digest = hashlib.sha256(photo).hexdigest()
        return str(uuid.uuid5(_JOB_NAMESPACE, f"{user_id}|{digest}|{ref.key()}|{self.engine_name}"))

    def submit(self, user_id: str, photo: bytes, ref: GarmentRef) -> tuple[TryOnJobRead, bool]:
        """Check the request, then queue it; returns the job and whether it was (re)started now.

        Raises ``ImageRejected`` (the file), ``TryOnRejected`` (the person or garment) or
        ``TryOnError("not_found")``; none of them leaves anything behind.
        """
        job_id = self.job_id(user_id, photo, ref)
        with self.db.session() as session:
            existing = session.get(TryOnJob, job_id)
            if existing is not None and existing.status not in ("failed", "cancelled"):
                return _read(existing), False
        garment = self.garment(user_id, ref)
        person = resize_max_side(load_image(photo, self.limits).rgb, self.max_side)
        self.person_check(person, garment.kind)
        prefix = f"tryon/{user_id}/{job_id}"
        keys = {"person": f"{prefix}/person.jpg", "garment": f"{prefix}/garment.img"}
        self.objects.put(keys["person"], encode_jpeg(person, quality=92), "image/jpeg")
        self.objects.put(keys["garment"], garment.image, "application/octet-stream")
        if garment.mask_png is not None:
            keys["mask"] = f"{prefix}/garment-mask.png"
            self.objects.put(keys["mask"], garment.mask_png, "image/png")
        try:
            with self.db.session() as session:
                row = session.get(TryOnJob, job_id, with_for_update=True)
                if row is not None and row.status not in ("failed", "cancelled"):
                    # The same request, sent again meanwhile, was queued first; its inputs are the
                    # ones just written (same keys, same bytes).
                    return _read(row), False
                if row is None:
                    row = TryOnJob(id=job_id, user_id=user_id)
                    session.add(row)
                row.garment = {**ref.model_dump(exclude_none=True), "name": garment.name}
                row.kind = garment.kind
                row.engine = self.engine_name
                row.person_key, row.garment_key = keys["person"], keys["garment"]
                row.garment_mask_key = keys.get("mask")
                self._reset(row)
                session.flush()
                _queue(session, job_id)
                read = _read(row)
        except IntegrityError:
            # Both inserted at once and the other committed first: the same case as above.
            with self.db.session() as session:
                row = session.get(TryOnJob, job_id)
                if row is None:
                    raise
                return _read(row), False
        except Exception:
            for key in keys.values():
                self.objects.delete(key)
            raise
        self._cache_status(user_id, read)
        self._publish()
        return read, True

    @staticmethod
    def _reset(row: TryOnJob) -> None:
        row.status, row.stage, row.progress, row.attempts = "queued", "queued", 0.0, 0
        row.error_code = row.error_message = row.result_key = None
        row.timings_ms = {}
        row.started_at = row.finished_at = None
        row.updated_at = utcnow()

    def _publish(self) -> None:
        """Hand the outbox to the bus now, not on the relay's next tick (the relay retries failures)."""
        try:
            self.relay.publish_pending()
        except Exception:
            logger.warning("publishing try-on events failed; the outbox relay will retry", exc_info=True)

    def _row(self, session: Session, user_id: str, job_id: str) -> TryOnJob:
        row = session.get(TryOnJob, job_id)
        if row is None or row.user_id != user_id:
            raise TryOnError("not_found", f"No try-on job {job_id!r}.")
        return row

    def get(self, user_id: str, job_id: str) -> TryOnJobRead:
        cached = self.cache.get(self._status_key(job_id))
        if cached is not None:
            data = json.loads(cached)
            if data.get("user_id") == user_id:
                return TryOnJobRead.model_validate(data["job"])
        with self.db.session() as session:
            read = _read(self._row(session, user_id, job_id))
        self._cache_status(user_id, read)
        return read

    def list(self, user_id: str, limit: int = 20) -> list[TryOnJobRead]:
        with self.db.session() as session:
            rows = session.scalars(
                select(TryOnJob)
                .where(TryOnJob.user_id == user_id)
                .order_by(TryOnJob.created_at.desc(), TryOnJob.id)
                .limit(limit)
            ).all()
            return [_read(r) for r in rows]

    def cancel(self, user_id: str, job_id: str) -> TryOnJobRead:
        with self.db.session() as session:
            row = self._row(session, user_id, job_id)
            if row.status in TERMINAL:
                raise TryOnError("not_cancellable", f"The try-on is already {row.status}.")
            row.status, row.stage, row.finished_at = "cancelled", "cancelled", utcnow()
            read = _read(row)
        self._cache_status(user_id, read)
        return read

    def result(self, user_id: str, job_id: str) -> bytes:
        """The finished picture (JPEG)."""
        job = self.get(user_id, job_id)
        if job.status != "succeeded":
            raise TryOnError("not_ready", f"The try-on is {job.status}; there is no picture yet.")
        cached = self.cache.get(self._result_key(job_id))
        if cached is not None:
            return cached
        with self.db.session() as session:
            key = self._row(session, user_id, job_id).result_key
        assert key is not None  # a succeeded job has a result
        data = self.objects.get(key)
        self.cache.set(self._result_key(job_id), data, self.result_cache_ttl_s)
        return data

    # --- the worker's side --------------------------------------------------------------------

    def claim(self, job_id: str) -> ClaimedJob | None:
        """Move a queued (or abandoned running) job to ``running`` and load its inputs.

        ``None`` when there is nothing to do: the job is finished, cancelled, gone, or has
        used up its attempts (it is then marked failed here, so a poison job cannot loop).
        """
        with self.db.session() as session:
            row = session.get(TryOnJob, job_id, with_for_update=True)
            if row is None or row.status in TERMINAL:
                return None
            exhausted = row.attempts >= self.max_attempts
            if exhausted:
                self._fail_row(
                    row,
                    "engine_failed",
                    f"The try-on failed {row.attempts} times; please try again later or with another photo.",
                )
            else:
                row.attempts += 1
                row.status, row.stage, row.progress = "running", "preparing", 0.05
                row.started_at = row.started_at or utcnow()
                row.updated_at = utcnow()
            read, user_id, kind, attempt = _read(row), row.user_id, row.kind, row.attempts
            person_key, garment_key, mask_key = row.person_key, row.garment_key, row.garment_mask_key
        self._cache_status(user_id, read)
        if exhausted:
            return None
        person, garment = _decode(self.objects.get(person_key)), _decode(self.objects.get(garment_key))
        mask = None
        if mask_key is not None:
            with Image.open(io.BytesIO(self.objects.get(mask_key))) as img:
                mask = np.asarray(img.convert("L")) > 127
        return ClaimedJob(job_id, user_id, cast(GarmentKind, kind), attempt, person, garment, mask)

    def progress(self, job_id: str, stage: str, progress: float) -> bool:
        """Record a running job's step; ``False`` when it is no longer running (cancelled)."""
        return self._update_running(job_id, stage=stage, progress=progress)

    def finish(self, job: ClaimedJob, image: RGB, timings_ms: dict[str, float]) -> bool:
        """Store the picture and mark the job done; ``False`` (and nothing kept) if it was cancelled."""
        key = f"tryon/{job.user_id}/{job.id}/result.jpg"
        data = encode_jpeg(image, quality=92)
        self.objects.put(key, data, "image/jpeg")
        done = self._update_running(
            job.id,
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
        self.cache.set(self._result_key(job.id), data, self.result_cache_ttl_s)
        return True

    def fail(self, job_id: str, code: str, message: str) -> None:
        with self.db.session() as session:
            row = session.get(TryOnJob, job_id, with_for_update=True)
            if row is None or row.status in TERMINAL:
                return
            self._fail_row(row, code, message)
            read, owner = _read(row), row.user_id
        self._cache_status(owner, read)

    def retry_later(self, job_id: str, message: str) -> None:
        """A try failed for a reason that may pass (a crashed model server): back to the queue."""
        self._update_running(job_id, status="queued", stage="retrying", error_message=message[:500])

    @staticmethod
    def _fail_row(row: TryOnJob, code: str, message: str) -> None:
        row.status, row.stage = "failed", "failed"
        row.error_code, row.error_message = code, message[:500]
        row.finished_at = row.updated_at = utcnow()

    def _update_running(self, job_id: str, **values: Any) -> bool:
        with self.db.session() as session:
            result = session.execute(
                update(TryOnJob)
                .where(TryOnJob.id == job_id, TryOnJob.status == "running")
                .values(updated_at=utcnow(), **values)
            )
            changed = bool(getattr(result, "rowcount", 0))
            row = session.get(TryOnJob, job_id)
            read, owner = (_read(row), row.user_id) if row is not None else (None, None)
        if read is not None and owner is not None:
            self._cache_status(owner, read)
        return changed

    def requeue_stale(self) -> int:
        """Hand out again the jobs nobody has touched for ``stale_after_s``: their event was lost,
        dead-lettered, or their worker died. Returns how many were requeued."""
        cutoff = utcnow() - timedelta(seconds=self.stale_after_s)
        with self.db.session() as session:
            rows = session.scalars(
                select(TryOnJob)
                .where(TryOnJob.status.in_(("queued", "running")), TryOnJob.updated_at < cutoff)
                .limit(100)
                .with_for_update(skip_locked=True)
            ).all()
            requeued: list[tuple[str, TryOnJobRead]] = []
            for row in rows:
                row.status, row.stage, row.updated_at = "queued", "requeued", utcnow()
                _queue(session, row.id)
                requeued.append((row.user_id, _read(row)))
        for user_id, read in requeued:
            self._cache_status(user_id, read)
        if requeued:
            logger.warning("requeued stale try-on jobs", extra={"count": len(requeued)})
            self._publish()
        return len(requeued)

    # --- cache --------------------------------------------------------------------------------

    @staticmethod
    def _status_key(job_id: str) -> str:
        return f"tryon:job:{job_id}"

    @staticmethod
    def _result_key(job_id: str) -> str:
        return f"tryon:result:{job_id}"

    def _cache_status(self, user_id: str, job: TryOnJobRead) -> None:
        payload = json.dumps({"user_id": user_id, "job": job.model_dump(mode="json")}).encode()
        try:
            self.cache.set(self._status_key(job.id), payload, self.result_cache_ttl_s)
        except Exception:  # the row is the truth; a cache outage only slows reads down
            logger.warning("caching a try-on job's status failed", exc_info=True)
