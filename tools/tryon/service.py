"""Try-on jobs: checked before they exist, queued on the bus, dressed by a worker, kept in storage.

The flow is the design's: photo → API → this service → event on ``tryon-task-queue`` →
a worker (``tools.tryon.worker``) → result in the object store and the cache → the client,
which follows the job by polling or by the API's event stream. The job's life (queue, claim,
retry, cancel, requeue) is ``tools.jobs.JobQueue``'s; what is particular to try-on is here:

* **Nothing is queued that cannot run.** The photo is decoded and checked (one person,
  shoulders and torso in view, the garment's body part visible) and the garment resolved
  (a product with a photo, of a type that dresses a body) *before* the row is written, so
  a bad request gets its reason at once and leaves no job, no object and no event behind.
* **Idempotent ids.** The id is a UUIDv5 of the person, the photo's digest, the garment and
  the engine: a double tap or an HTTP retry finds the job already there. A job that failed or
  was cancelled is started afresh by the same request.
"""

from __future__ import annotations

import hashlib
import io
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
from PIL import Image
from sqlalchemy.exc import IntegrityError

from storage.cache.base import Cache
from storage.events import EventBus, Topic
from storage.objects import ObjectStore
from storage.sql.database import Database
from storage.sql.models import TryOnJob
from tools.catalog.service import CatalogService
from tools.jobs import JobError, JobQueue
from tools.tryon.engine import RGB, GarmentKind, Mask, TryOnRejected, garment_kind
from tools.tryon.schemas import GarmentRef, TryOnJobRead
from tools.wardrobe.images import ImageLimits, encode_jpeg, load_image, resize_max_side
from tools.wardrobe.service import WardrobeError, WardrobeService

logger = logging.getLogger(__name__)

#: Namespace of job ids (see the module doc).
_JOB_NAMESPACE = uuid.UUID("0b7e6a52-8c1d-4f3e-9a61-5d2c7e4b9f10")
REQUESTED = "tryon.requested"

#: Checks a person photo can be dressed in a garment of ``kind``; raises ``TryOnRejected``.
PersonCheck = Callable[[RGB, GarmentKind], None]


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
    attempts: int
    person: RGB
    garment: RGB
    garment_mask: Mask | None


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
        self.catalog = catalog
        self.wardrobe = wardrobe
        self.catalog_dir = catalog_dir
        self.person_check = person_check
        self.engine_name = engine_name
        self.max_side = max_side
        self.limits = limits or ImageLimits()
        self.jobs: JobQueue[TryOnJob, TryOnJobRead] = JobQueue(
            db,
            objects,
            cache,
            bus,
            model=TryOnJob,
            read_model=TryOnJobRead,
            topic=Topic.TRYON_TASK_QUEUE,
            event_type=REQUESTED,
            name="tryon",
            what="try-on",
            max_attempts=max_attempts,
            stale_after_s=stale_after_s,
            result_cache_ttl_s=result_cache_ttl_s,
        )

    @property
    def max_attempts(self) -> int:
        return self.jobs.max_attempts

    # --- the person's side --------------------------------------------------------------------

    def garment(self, user_id: str, ref: GarmentRef) -> Garment:
        """The garment's photo and body part, or ``TryOnRejected`` saying why it cannot be tried on."""
        if ref.product_id is not None:
            detail = self.catalog.get_product(ref.product_id)
            if detail is None:
                raise JobError("not_found", f"There is no product {ref.product_id!r} in the catalogue.")
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
            raise JobError("unavailable", "The wardrobe is not available in this deployment.")
        try:
            item = self.wardrobe.get(user_id, ref.wardrobe_item_id)
        except WardrobeError as exc:
            raise JobError("not_found", exc.message) from exc
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
        ``JobError("not_found")``; none of them leaves anything behind.
        """
        job_id = self.job_id(user_id, photo, ref)
        with self.db.session() as session:
            existing = session.get(TryOnJob, job_id)
            if existing is not None and existing.status not in ("failed", "cancelled"):
                return self.jobs.read(existing), False
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
                    return self.jobs.read(row), False
                if row is None:
                    row = TryOnJob(id=job_id, user_id=user_id)
                    session.add(row)
                row.garment = {**ref.model_dump(exclude_none=True), "name": garment.name}
                row.kind = garment.kind
                row.engine = self.engine_name
                row.person_key, row.garment_key = keys["person"], keys["garment"]
                row.garment_mask_key = keys.get("mask")
                read = self.jobs.queue(session, row)
        except IntegrityError:
            # Both inserted at once and the other committed first: the same case as above.
            with self.db.session() as session:
                row = session.get(TryOnJob, job_id)
                if row is None:
                    raise
                return self.jobs.read(row), False
        except Exception:
            for key in keys.values():
                self.objects.delete(key)
            raise
        self.jobs.remember(user_id, read)
        self.jobs.publish()
        return read, True

    def get(self, user_id: str, job_id: str) -> TryOnJobRead:
        return self.jobs.get(user_id, job_id)

    def list(self, user_id: str, limit: int = 20) -> list[TryOnJobRead]:
        return self.jobs.list(user_id, limit)

    def cancel(self, user_id: str, job_id: str) -> TryOnJobRead:
        return self.jobs.cancel(user_id, job_id)

    def result(self, user_id: str, job_id: str) -> bytes:
        """The finished picture (JPEG)."""
        return self.jobs.result(user_id, job_id)

    # --- the worker's side --------------------------------------------------------------------

    def claim(self, job_id: str) -> ClaimedJob | None:
        """Take the job (``JobQueue.claim``) and load its inputs; ``None`` when there is nothing to do."""
        row = self.jobs.claim(job_id)
        if row is None:
            return None
        person, garment = (
            _decode(self.objects.get(row.person_key)),
            _decode(self.objects.get(row.garment_key)),
        )
        mask = None
        if row.garment_mask_key is not None:
            with Image.open(io.BytesIO(self.objects.get(row.garment_mask_key))) as img:
                mask = np.asarray(img.convert("L")) > 127
        return ClaimedJob(
            row.id, row.user_id, cast(GarmentKind, row.kind), row.attempts, person, garment, mask
        )

    def finish(self, job: ClaimedJob, image: RGB, timings_ms: dict[str, float]) -> bool:
        """Store the picture (JPEG) and mark the job done; ``False`` if it was cancelled meanwhile."""
        data = encode_jpeg(image, quality=92)
        return self.jobs.finish(job.id, job.user_id, data, "image/jpeg", "jpg", timings_ms)
