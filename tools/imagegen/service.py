"""Outfit images: a board of the pieces' real photos, and generated pictures where a server is set up.

The embedded deployment has no text-to-image weights, so the only picture it can honestly make
of an outfit is a layout of the real photos of its pieces (``tools.imagegen.board``): what the
person would buy, or already owns, exactly as it looks. Every image says which kind it is
(``generative: false``), and the assistant says so in its reply.

With ``IK_IMAGEGEN__ENGINE=model_server`` the same pieces also become a prompt
(``tools.imagegen.prompt``) and a job on ``image-generation-tasks``; workers
(``tools.imagegen.worker``) hand the jobs to the text-to-image server several at a time, which
generates those of one shape in one batch.
"""

from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from storage.errors import ObjectNotFound
from storage.objects import ObjectStore
from storage.sql.models import ImageJob
from tools.base import ServiceError
from tools.catalog.service import CatalogService
from tools.imagegen.board import MAX_ITEMS, RGB, BoardItem, compose_board, encode_png
from tools.imagegen.prompt import PromptPiece, outfit_prompt
from tools.jobs import JobQueue, JobRead
from tools.wardrobe.service import WardrobeError, WardrobeService

IMAGE_ID = re.compile(r"^[0-9a-f]{32}$")
#: Board slot of a catalogue sub-category or wardrobe item kind (the board orders and places by it).
_SLOTS = {
    "Topwear": "top", "Bottomwear": "bottom", "Dress": "dress", "Shoes": "shoes", "Flip Flops": "shoes",
    "Sandal": "shoes", "Bags": "bag", "top": "top", "bottom": "bottom", "one_piece": "dress",
    "outerwear": "outerwear", "shoes": "shoes", "bag": "bag",
}  # fmt: skip


class ImageGenError(ServiceError):
    """An outfit image that cannot be made or read."""


@dataclass(frozen=True)
class ImageJobRead(JobRead):
    prompt: str
    width: int
    height: int
    seed: int
    pieces: list[str]


#: Namespace of image job ids: the same outfit, prompt and seed asked twice is one job.
_JOB_NAMESPACE = uuid.UUID("3f0c2a5e-9d7b-4c41-8a2e-6b1d0e9f7c53")
REQUESTED = "image.requested"


@dataclass(frozen=True)
class OutfitImage:
    id: str
    url: str
    #: Always false here: a layout of real photos, not a generated picture.
    generative: bool
    pieces: list[str]


def _decode(data: bytes) -> RGB:
    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("RGB"), dtype=np.uint8)


class ImageGenService:
    def __init__(
        self,
        objects: ObjectStore,
        catalog: CatalogService,
        catalog_dir: Path,
        wardrobe: WardrobeService | None = None,
        *,
        jobs: JobQueue[ImageJob, ImageJobRead] | None = None,
        size: tuple[int, int] = (512, 768),
    ) -> None:
        self.objects = objects
        self.catalog = catalog
        self.catalog_dir = catalog_dir
        self.wardrobe = wardrobe
        #: Generated pictures' jobs; ``None`` where no text-to-image server is set up.
        self.jobs = jobs
        self.size = size

    @staticmethod
    def _key(user_id: str, image_id: str) -> str:
        return f"images/{user_id}/{image_id}.png"

    def _products(self, product_ids: list[str]) -> list[BoardItem]:
        found = {d.product.id: d for d in self.catalog.get_products(product_ids)}
        missing = [p for p in product_ids if p not in found]
        if missing:
            raise ImageGenError("not_found", f"No product {', '.join(missing)} in the catalogue.")
        items = []
        for product_id in product_ids:
            detail = found[product_id]
            path = self.catalog.image_file(product_id, self.catalog_dir)
            prices = [s.price for s in detail.skus]
            items.append(
                BoardItem(
                    name=detail.product.name,
                    image=_decode(path.read_bytes()) if path is not None else None,
                    slot=_SLOTS.get(detail.product.sub_category or "", "accessory"),
                    price=f"{min(prices):,.0f} {detail.currency}" if prices else None,
                )
            )
        return items

    def _owned(self, user_id: str, item_ids: list[str]) -> list[BoardItem]:
        if item_ids and self.wardrobe is None:
            raise ImageGenError("unavailable", "The wardrobe is not available in this deployment.")
        items = []
        for item_id in item_ids:
            assert self.wardrobe is not None
            try:
                item = self.wardrobe.get(user_id, item_id)
                photo = self.wardrobe.photo(user_id, item_id).data if item.has_photo else None
            except WardrobeError as exc:
                raise ImageGenError("not_found", exc.message) from exc
            items.append(
                BoardItem(
                    name=item.name,
                    image=_decode(photo) if photo is not None else None,
                    slot=_SLOTS.get(item.kind or "", "accessory"),
                    owned=True,
                )
            )
        return items

    def outfit_board(
        self,
        user_id: str,
        *,
        product_ids: list[str] | None = None,
        wardrobe_item_ids: list[str] | None = None,
        title: str | None = None,
        note: str | None = None,
    ) -> OutfitImage:
        products = list(dict.fromkeys(product_ids or []))
        owned = list(dict.fromkeys(wardrobe_item_ids or []))
        if not 1 <= len(products) + len(owned) <= MAX_ITEMS:
            raise ImageGenError("invalid", f"An outfit board shows 1 to {MAX_ITEMS} pieces.")
        items = self._owned(user_id, owned) + self._products(products)
        png = encode_png(compose_board(items, title=title, note=note))
        image_id = uuid.uuid4().hex
        self.objects.put(self._key(user_id, image_id), png, "image/png")
        return OutfitImage(image_id, f"/api/v1/images/{image_id}", False, [i.name for i in items])

    def read(self, user_id: str, image_id: str) -> bytes:
        if not IMAGE_ID.fullmatch(image_id):
            raise ImageGenError("not_found", f"No image {image_id!r}.")
        try:
            return self.objects.get(self._key(user_id, image_id))
        except ObjectNotFound as exc:
            raise ImageGenError("not_found", f"No image {image_id!r}.") from exc

    # --- generated pictures -------------------------------------------------------------------

    def _pieces(self, user_id: str, product_ids: list[str], owned: list[str]) -> list[PromptPiece]:
        pieces = [
            PromptPiece(d.product.name, d.product.colour, d.product.article_type)
            for d in self.catalog.get_products(product_ids)
        ]
        for item_id in owned:
            if self.wardrobe is None:
                raise ImageGenError("unavailable", "The wardrobe is not available in this deployment.")
            try:
                item = self.wardrobe.get(user_id, item_id)
            except WardrobeError as exc:
                raise ImageGenError("not_found", exc.message) from exc
            pieces.append(PromptPiece(item.name, item.colour, item.category))
        if len(pieces) < len(product_ids) + len(owned):
            raise ImageGenError("not_found", "Some of the outfit's products are not in the catalogue.")
        return pieces

    def generate(
        self,
        user_id: str,
        *,
        product_ids: list[str] | None = None,
        wardrobe_item_ids: list[str] | None = None,
        occasion: str | None = None,
        style: str | None = None,
        gender: str | None = None,
        seed: int = 0,
    ) -> tuple[ImageJobRead, bool]:
        """Queue a generated picture of the outfit; returns the job and whether it was (re)started."""
        if self.jobs is None:
            raise ImageGenError(
                "unavailable", "No image-generation model is set up in this deployment; outfit boards are."
            )
        products = list(dict.fromkeys(product_ids or []))
        owned = list(dict.fromkeys(wardrobe_item_ids or []))
        if not 1 <= len(products) + len(owned) <= MAX_ITEMS:
            raise ImageGenError("invalid", f"A picture shows 1 to {MAX_ITEMS} pieces.")
        pieces = self._pieces(user_id, products, owned)
        width, height = self.size
        prompt = outfit_prompt(
            pieces, occasion=occasion, style=style, gender=gender, seed=seed, width=width, height=height
        )
        job_id = str(uuid.uuid5(_JOB_NAMESPACE, f"{user_id}|{prompt.prompt}|{seed}|{width}x{height}"))
        jobs = self.jobs
        with jobs.db.session() as session:
            row = session.get(ImageJob, job_id, with_for_update=True)
            if row is not None and row.status not in ("failed", "cancelled"):
                return jobs.read(row), False
            if row is None:
                row = ImageJob(id=job_id, user_id=user_id)
                session.add(row)
            row.prompt, row.negative_prompt = prompt.prompt, prompt.negative_prompt
            row.width, row.height, row.seed = prompt.width, prompt.height, prompt.seed
            row.pieces = [p.name for p in pieces]
            read = jobs.queue(session, row)
        jobs.remember(user_id, read)
        jobs.publish()
        return read, True
