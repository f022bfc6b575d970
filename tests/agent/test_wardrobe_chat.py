"""The wardrobe in conversation: adding by photo and by description, listing, and outfits from the
person's own clothes, judged by what the wardrobe holds afterwards."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from core.config import Settings
from storage.stores import Stores
from tests.agent.conftest import Conversation, cards, open_conversation, replies
from tools.catalog.store import CatalogStore
from tools.profile.service import AccountService, ProfileService
from tools.recommend.runtime import open_recommender
from tools.registry import ToolServices
from tools.wardrobe.runtime import open_wardrobe
from tools.wardrobe.schemas import ItemCreate

pytestmark = [pytest.mark.unit, pytest.mark.anyio]

THUMBNAILS = Path(__file__).resolve().parents[2] / "data" / "catalog" / "thumbnails"


@pytest.fixture
def open_closet(shop_settings: Settings, classifier: Any) -> Callable[[], Any]:
    def services(
        stores: Stores, catalog: CatalogStore, accounts: AccountService, profiles: ProfileService
    ) -> ToolServices:
        recommend = open_recommender(shop_settings, stores, catalog, profiles, None)
        wardrobe, uploads = open_wardrobe(shop_settings, stores)
        return ToolServices(
            accounts=accounts,
            profiles=profiles,
            catalog=catalog,
            recommend=recommend,
            wardrobe=wardrobe,
            uploads=uploads,
        )

    return lambda: open_conversation(
        shop_settings,
        classifier,
        email="closet@example.com",
        services=services,
        profile={"department": "men"},
    )


def _wardrobe(closet: Conversation) -> Any:
    assert closet.services.wardrobe is not None
    return closet.services.wardrobe


async def _send_photo(closet: Conversation, article_type: str, text: str = "") -> list[Any]:
    rows = [json.loads(line) for line in (THUMBNAILS / "index.jsonl").read_text().splitlines()]
    row = next(r for r in rows if r["articleType"] == article_type)
    assert closet.services.uploads is not None
    upload_id, _ = closet.services.uploads.save_image(
        closet.user_id, (THUMBNAILS / f"{row['id']}.jpg").read_bytes()
    )
    return [e async for e in closet.service.turn(closet.user_id, text, attachments=[upload_id])]


async def test_a_worn_garment_is_cut_from_the_person_and_the_reply_says_so(open_closet):
    async with open_closet() as closet:
        assert closet.services.uploads is not None
        upload_id, _ = closet.services.uploads.save_image(
            closet.user_id, (THUMBNAILS / "1529.jpg").read_bytes()
        )
        events = [e async for e in closet.service.turn(closet.user_id, "", attachments=[upload_id])]
        reply = replies(events)[0]
        assert "worn in the photo: only the garment was kept" in reply, reply
        (item,) = _wardrobe(closet).items(closet.user_id)
        assert item.auto_tags["worn_by_person"] is True


async def test_a_photo_alone_is_added_and_tagged(open_closet):
    async with open_closet() as closet:
        events = await _send_photo(closet, "Sports Shoes")
        reply = replies(events)[0]
        items = _wardrobe(closet).items(closet.user_id)
        assert len(items) == 1
        assert reply.startswith(f"Added to your wardrobe: {items[0].name}")
        assert [c["data"]["wardrobe"] for c in cards(events)] == [True]


async def test_a_photo_with_words_uses_them_for_the_category(open_closet):
    async with open_closet() as closet:
        events = await _send_photo(closet, "Tshirts", "add my red tee to my wardrobe")
        items = _wardrobe(closet).items(closet.user_id)
        assert [i.category for i in items] == ["Tshirts"]
        assert "Added to your wardrobe" in replies(events)[0]


async def test_a_described_item_is_added_without_a_photo(open_closet):
    async with open_closet() as closet:
        events = await closet.say("add my navy blazer to my wardrobe")
        items = _wardrobe(closet).items(closet.user_id)
        assert [(i.category, i.colour, i.has_photo) for i in items] == [("Blazers", "Navy Blue", False)]
        assert "Added to your wardrobe" in replies(events)[0]


async def test_adding_without_photo_or_item_asks_for_one(open_closet):
    async with open_closet() as closet:
        events = await closet.say("I want to add something to my wardrobe")
        assert "photo" in replies(events)[0]
        assert _wardrobe(closet).items(closet.user_id) == []


async def test_listing_the_wardrobe(open_closet):
    async with open_closet() as closet:
        wardrobe = _wardrobe(closet)
        wardrobe.add_manual(closet.user_id, ItemCreate(name="white tee", category="Tshirts", colour="White"))
        wardrobe.add_manual(closet.user_id, ItemCreate(name="blue jeans", category="Jeans", colour="Blue"))
        reply = replies(await closet.say("what's in my wardrobe?"))[0]
        assert "2 items" in reply
        assert "white tee" in reply
        assert "blue jeans" in reply


async def test_outfits_from_own_clothes_name_them_and_fill_gaps_from_the_shop(open_closet):
    async with open_closet() as closet:
        wardrobe = _wardrobe(closet)
        for name, category, colour in (
            ("white tee", "Tshirts", "White"),
            ("black shorts", "Shorts", "Black"),
        ):
            wardrobe.add_manual(
                closet.user_id, ItemCreate(name=name, category=category, colour=colour, seasons=["summer"])
            )
        events = await closet.say("what can I wear from my wardrobe this summer?")
        reply = replies(events)[0]
        assert reply.startswith("From your own wardrobe:"), reply
        assert "white tee (your own)" in reply
        assert "black shorts (your own)" in reply
        assert "nothing in your wardrobe fills the shoes" in reply
        owned = [c for c in cards(events) if c["data"]["owned"]]
        assert {c["title"] for c in owned} >= {"white tee", "black shorts"}


async def test_only_these_colours_apply_to_own_clothes(open_closet):
    async with open_closet() as closet:
        wardrobe = _wardrobe(closet)
        for name, category, colour in (
            ("white tee", "Tshirts", "White"),
            ("red tee", "Tshirts", "Red"),
            ("black shorts", "Shorts", "Black"),
        ):
            wardrobe.add_manual(
                closet.user_id, ItemCreate(name=name, category=category, colour=colour, seasons=["summer"])
            )
        reply = replies(
            await closet.say("what can I wear from my wardrobe this summer? only black and white")
        )[0]
        assert "white tee (your own)" in reply, reply
        assert "red tee" not in reply


async def test_outfits_from_own_clothes_in_chinese(open_closet):
    async with open_closet() as closet:
        wardrobe = _wardrobe(closet)
        wardrobe.add_manual(
            closet.user_id, ItemCreate(name="白T恤", category="Tshirts", colour="White", seasons=["summer"])
        )
        wardrobe.add_manual(
            closet.user_id, ItemCreate(name="黑短裤", category="Shorts", colour="Black", seasons=["summer"])
        )
        reply = replies(await closet.say("用我衣橱里的衣服搭配一套夏天穿的"))[0]
        assert reply.startswith("用你衣橱里的衣服："), reply
        assert "白T恤（您衣橱里的）" in reply


async def test_an_empty_wardrobe_gets_shop_outfits_saying_so(open_closet):
    async with open_closet() as closet:
        reply = replies(await closet.say("what can I wear from my wardrobe to work?"))[0]
        assert reply.startswith("Your wardrobe has nothing I can build an outfit around yet"), reply


async def test_saying_what_was_worn_logs_it(open_closet):
    async with open_closet() as closet:
        wardrobe = _wardrobe(closet)
        tee = wardrobe.add_manual(
            closet.user_id, ItemCreate(name="white tee", category="Tshirts", colour="White")
        )
        jeans = wardrobe.add_manual(
            closet.user_id, ItemCreate(name="blue jeans", category="Jeans", colour="Blue")
        )
        wardrobe.add_manual(closet.user_id, ItemCreate(name="black jeans", category="Jeans", colour="Black"))
        reply = replies(await closet.say("I wore my white tee and blue jeans yesterday"))[0]
        assert "logged as worn on" in reply, reply
        days = wardrobe.calendar(closet.user_id, wardrobe.today() - timedelta(days=7), wardrobe.today())
        assert [(d.day, sorted(d.outfits[0])) for d in days] == [
            (wardrobe.today() - timedelta(days=1), sorted([tee.id, jeans.id]))
        ]


async def test_an_ambiguous_piece_is_asked_about_not_guessed(open_closet):
    async with open_closet() as closet:
        wardrobe = _wardrobe(closet)
        wardrobe.add_manual(closet.user_id, ItemCreate(name="blue jeans", category="Jeans", colour="Blue"))
        wardrobe.add_manual(closet.user_id, ItemCreate(name="black jeans", category="Jeans", colour="Black"))
        reply = replies(await closet.say("I wore my jeans today"))[0]
        assert "matches 2 wardrobe items" in reply, reply
        assert wardrobe.calendar(closet.user_id, wardrobe.today(), wardrobe.today()) == []
