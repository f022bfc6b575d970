"""Pictures in conversation.

Virtual try-on: a photo and a product start a job; a missing photo is asked for and the next
photo answers it; refusals are said politely. Judged by the jobs the try-on service holds
afterwards (the worker is not running here: the picture is not the subject).

Outfit images: the outfit just shown, or one recommended for what was described, laid out from
its pieces' real photos, with the reply saying it is not a generated picture."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from skimage import data as skdata

from core.config import Settings
from storage.sql.models import Product
from storage.stores import Stores
from tests.agent.conftest import Conversation, cards, open_conversation, replies, session_of
from tools.catalog.store import CatalogStore
from tools.imagegen.service import ImageGenService
from tools.profile.service import AccountService, ProfileService
from tools.recommend.runtime import open_recommender
from tools.registry import ToolServices
from tools.tryon.runtime import open_tryon
from tools.tryon.service import TryOnService
from tools.wardrobe.images import encode_jpeg
from tools.wardrobe.runtime import open_wardrobe

pytestmark = [pytest.mark.unit, pytest.mark.anyio]

#: Real photos shipped with scikit-image: one person from the waist up, and a cup of coffee.
ASTRONAUT: np.ndarray = skdata.astronaut()  # type: ignore[no-untyped-call]
COFFEE: np.ndarray = skdata.coffee()  # type: ignore[no-untyped-call]
RED_TEE = "1529"


@pytest.fixture
def open_fitting_room(shop_settings: Settings, classifier: Any) -> Callable[[], Any]:
    def services(
        stores: Stores, catalog: CatalogStore, accounts: AccountService, profiles: ProfileService
    ) -> ToolServices:
        with stores.db.session() as session:  # the shop's first 300 rows have no photos; add one that has
            session.add(Product(id=RED_TEE, source="test", name="Ferrari Tee", article_type="Tshirts",
                                image=f"thumbnails/{RED_TEE}.jpg"))  # fmt: skip
        wardrobe, uploads = open_wardrobe(shop_settings, stores)
        return ToolServices(
            accounts=accounts,
            profiles=profiles,
            catalog=catalog,
            recommend=open_recommender(shop_settings, stores, catalog, profiles, None),
            wardrobe=wardrobe,
            uploads=uploads,
            tryon=open_tryon(shop_settings, stores, catalog.catalog, wardrobe),
            imagegen=ImageGenService(stores.objects, catalog.catalog, shop_settings.catalog_dir, wardrobe),
        )

    return lambda: open_conversation(
        shop_settings, classifier, email="fitting@example.com", services=services
    )


def _tryon(room: Conversation) -> TryOnService:
    assert room.services.tryon is not None
    return room.services.tryon


def _upload(room: Conversation, rgb: np.ndarray) -> str:
    assert room.services.uploads is not None
    upload_id, _ = room.services.uploads.save_image(room.user_id, encode_jpeg(rgb, quality=95))
    return upload_id


async def _send(
    room: Conversation, text: str, photo: np.ndarray | None = None, session: str | None = None
) -> list[Any]:
    attachments = [_upload(room, photo)] if photo is not None else []
    return [
        e async for e in room.service.turn(room.user_id, text, session_id=session, attachments=attachments)
    ]


async def test_a_photo_and_a_product_start_a_try_on(open_fitting_room):
    async with open_fitting_room() as room:
        events = await _send(room, f"try product {RED_TEE} on me", ASTRONAUT)
        reply = replies(events)[0]
        assert "Putting Ferrari Tee on your photo now" in reply, reply
        assert "not an exact fit" in reply  # the CPU engine is said to be a rough preview
        (job,) = _tryon(room).list(room.user_id)
        assert (job.status, job.garment["product_id"], job.kind) == ("queued", RED_TEE, "upper")
        (card,) = cards(events)
        assert (card["kind"], card["id"]) == ("job", job.id)
        assert card["data"]["events_url"] == f"/api/v1/tryon/jobs/{job.id}/events"


async def test_a_missing_photo_is_asked_for_and_the_next_photo_answers(open_fitting_room):
    async with open_fitting_room() as room:
        first = await _send(room, f"试穿一下商品 {RED_TEE}")
        assert "发一张你本人的照片" in replies(first)[0]
        assert _tryon(room).list(room.user_id) == []
        second = await _send(room, "", ASTRONAUT, session_of(first))
        assert "正在把「Ferrari Tee」穿到你的照片上" in replies(second)[0]
        assert [j.garment["product_id"] for j in _tryon(room).list(room.user_id)] == [RED_TEE]
        # The photo was the person, for the try-on: it did not go into the wardrobe.
        assert room.services.wardrobe is not None
        assert room.services.wardrobe.items(room.user_id) == []


async def test_a_photo_without_a_person_is_refused_politely(open_fitting_room):
    async with open_fitting_room() as room:
        events = await _send(room, f"try product {RED_TEE} on me", COFFEE)
        reply = replies(events)[0]
        assert reply.startswith("I can't try that on:"), reply
        assert "person" in reply
        assert _tryon(room).list(room.user_id) == []
        assert cards(events) == []


async def test_no_product_named_asks_which(open_fitting_room):
    async with open_fitting_room() as room:
        events = await _send(room, "can I see a navy blazer on my own photo?", ASTRONAUT)
        assert "Which product should I put on you" in replies(events)[0]
        assert _tryon(room).list(room.user_id) == []


async def test_an_outfit_just_shown_is_drawn_from_its_pieces_photos(open_fitting_room):
    async with open_fitting_room() as room:
        shown = await _send(room, "what should I wear to a wedding?")
        first = [c["id"] for c in cards(shown) if c["kind"] == "product" and c["data"]["outfit"] == 1]
        assert first
        events = await _send(room, "draw that outfit for me", session=session_of(shown))
        reply = replies(events)[0]
        assert "laid out from its pieces' real photos" in reply, reply
        assert "not a picture of you wearing them" in reply
        (image,) = [c for c in cards(events) if c["kind"] == "image"]
        assert image["data"] == {"generative": False}
        assert room.services.imagegen is not None
        png = room.services.imagegen.read(room.user_id, image["id"])
        assert png.startswith(b"\x89PNG")
        # No new outfit was recommended: the board is the one shown.
        assert [c for c in cards(events) if c["kind"] == "product"] == []


async def test_a_described_outfit_is_recommended_then_drawn(open_fitting_room):
    async with open_fitting_room() as room:
        events = await _send(room, "画一套婚礼穿搭给我看")
        reply = replies(events)[0]
        assert "实拍图拼出的穿搭图" in reply, reply
        kinds = [c["kind"] for c in cards(events)]
        assert kinds[0] == "image"
        assert "product" in kinds


async def test_nothing_described_asks_what_to_draw(open_fitting_room):
    async with open_fitting_room() as room:
        events = await _send(room, "draw me a picture")
        assert "What should the image show?" in replies(events)[0]
        assert cards(events) == []
