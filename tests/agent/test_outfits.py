"""Outfit advice in conversation: the agent answers from recommend_outfit / complete_the_look.

Judged against the stores: every piece named in a reply is a stored product at its stored price,
and the outfits come back as cards numbered by outfit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from core.config import Settings
from storage.stores import Stores
from tests.agent.conftest import Conversation, cards, open_conversation, replies
from tools.catalog.store import CatalogStore
from tools.profile.service import AccountService, ProfileService
from tools.profile.tools import plain_number
from tools.recommend.runtime import open_recommender
from tools.registry import ToolServices

pytestmark = [pytest.mark.unit, pytest.mark.anyio]


@pytest.fixture
def open_stylist(shop_settings: Settings, classifier: Any) -> Callable[[], Any]:
    def services(
        stores: Stores, catalog: CatalogStore, accounts: AccountService, profiles: ProfileService
    ) -> ToolServices:
        recommend = open_recommender(shop_settings, stores, catalog, profiles, None)
        return ToolServices(accounts=accounts, profiles=profiles, catalog=catalog, recommend=recommend)

    return lambda: open_conversation(
        shop_settings,
        classifier,
        email="dresser@example.com",
        services=services,
        profile={"department": "men"},
    )


def _check_prices(stylist: Conversation, reply: str) -> int:
    """Every "(id N, ¥P)" in the reply is a stored product whose lowest price is P; returns how many."""
    quoted = re.findall(r"id (\w+), ¥([\d.]+)|编号 (\w+)，¥([\d.]+)", reply)
    for en_id, en_price, zh_id, zh_price in quoted:
        detail = stylist.catalog.catalog.get_product(en_id or zh_id)
        assert detail is not None
        assert plain_number(min(sku.price for sku in detail.skus)) == (en_price or zh_price)
    return len(quoted)


async def test_outfits_for_work_in_english(open_stylist):
    async with open_stylist() as stylist:
        events = await stylist.say("what should I wear to work this autumn?")
        reply = replies(events)[0]
        assert "outfit ideas" in reply, reply
        assert _check_prices(stylist, reply) >= 3  # a top, a bottom and shoes at least
        first_outfit = [card["data"]["slot"] for card in cards(events) if card["data"]["outfit"] == 1]
        assert {"top", "bottom", "shoes"} <= set(first_outfit)


async def test_outfits_in_chinese_and_completing_a_shown_piece(open_stylist):
    async with open_stylist() as stylist:
        events = await stylist.say("秋天上班穿什么好？")
        reply = replies(events)[0]
        assert "为你搭配了" in reply, reply
        assert _check_prices(stylist, reply) >= 3
        session = next(e.data["session_id"] for e in events if e.event == "session")
        first = cards(events)[0]
        follow = await stylist.say("what goes with the first one?", session_id=session)
        tools = [e.data["tool"] for e in follow if e.event == "tool_started"]
        assert "complete_the_look" in tools
        reply = replies(follow)[0]
        assert first["id"] in reply  # the outfits are built around the piece pointed at
        _check_prices(stylist, reply)


async def test_contradictory_colours_are_explained_in_chat(open_stylist):
    async with open_stylist() as stylist:
        events = await stylist.say("秋天上班穿搭，只要黑色和白色，不要黑色白色")
        reply = replies(events)[0]
        assert "这样没有任何颜色可选" in reply, reply
        for number in re.findall(r"编号 (\w+)", reply):
            detail = stylist.catalog.catalog.get_product(number)
            assert detail is not None
            assert detail.product.colour not in ("Black", "White")


async def test_contradictory_colours_are_explained_in_english_too(open_stylist):
    async with open_stylist() as stylist:
        events = await stylist.say(
            "what should I wear to work this autumn? black and white only, no black or white"
        )
        reply = replies(events)[0]
        assert "which leaves no colour at all" in reply, reply
        for number in re.findall(r"id (\w+), ¥", reply):
            detail = stylist.catalog.catalog.get_product(number)
            assert detail is not None
            assert detail.product.colour not in ("Black", "White")


async def test_a_budget_in_its_own_clause_still_bounds_the_outfit(open_stylist):
    async with open_stylist() as stylist:
        events = await stylist.say("what should I wear to work this winter? budget 20 CNY")
        reply = replies(events)[0]
        assert "could not put a complete outfit" in reply, reply
        assert not [c for c in cards(events) if c["data"].get("outfit")]
