"""Shopping conversations on a real catalogue slice: search, stock, price alerts and their notices.

Judged by what the person reads against what the database holds: every price and stock
figure in a reply must be the stored one, and an alert must exist after it is promised.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from core.config import Settings
from tests.agent.conftest import cards, open_conversation, replies, session_of
from tools.profile.tools import plain_number

pytestmark = [pytest.mark.unit, pytest.mark.anyio]


@pytest.fixture
def open_shop(shop_settings: Settings, classifier: Any) -> Callable[[], Any]:
    return lambda: open_conversation(shop_settings, classifier, email="shopper@example.com")


async def test_search_then_stock_of_the_first_result_in_english(open_shop):
    async with open_shop() as shop:
        events = await shop.say("I am looking for a navy blue shirt")
        reply = replies(events)[0]
        shown = cards(events)
        assert shown, reply
        first = shown[0]
        assert first["kind"] == "product"
        assert first["data"]["colour"] == "Navy Blue"
        stored = shop.catalog.catalog.get_product(first["id"])
        assert stored is not None
        lowest = min(sku.price for sku in stored.skus)
        assert f"{plain_number(lowest)} CNY" in reply, "the reply quotes the stored price"
        assert "generated" in reply, "the demo data is said to be generated"

        size = stored.skus[0].size
        stock_reply = replies(
            await shop.say(f"is the first one in stock in size {size}?", session_of(events))
        )[0]
        quantity = stored.skus[0].stock
        if quantity > 0:
            assert f"{quantity} in stock" in stock_reply
        else:
            assert "sold out" in stock_reply


async def test_chinese_search_and_a_price_alert_that_fires_later(open_shop):
    async with open_shop() as shop:
        events = await shop.say("有没有藏青色的衬衫")
        reply = replies(events)[0]
        assert "找到" in reply
        first = cards(events)[0]
        session = session_of(events)
        price = float(first["data"]["price"])
        threshold = max(1.0, round(price * 0.5))

        alert_reply = replies(await shop.say(f"第一件降到{plain_number(threshold)}元以下提醒我", session))[0]
        assert "提醒" in alert_reply
        alerts = shop.catalog.catalog.list_alerts(shop.user_id)
        assert [(a.product_id, a.threshold) for a in alerts] == [(first["id"], threshold)]

        # the shop cuts the price below the threshold; the next reply starts with the news, once
        shop.catalog.catalog.set_price(first["id"], None, threshold - 1, source="test")
        notice = replies(await shop.say("你好", session))[0]
        assert notice.startswith("降价提醒")
        assert f"{plain_number(threshold - 1)} 元" in notice
        assert shop.catalog.catalog.pending_notifications(shop.user_id) == []
        assert not replies(await shop.say("你好", session))[0].startswith("降价提醒")


async def test_a_search_with_no_match_says_so_without_inventing_products(open_shop):
    async with open_shop() as shop:
        events = await shop.say("I want a purple tuxedo under 5 yuan")
        reply = replies(events)[0]
        assert cards(events) == []
        assert "nothing" in reply


async def test_an_alert_without_a_price_asks_for_one(open_shop):
    async with open_shop() as shop:
        events = await shop.say("I am looking for a navy blue shirt")
        reply = replies(await shop.say("tell me when the first one gets cheaper", session_of(events)))[0]
        assert "At what price" in reply
        assert shop.catalog.catalog.list_alerts(shop.user_id) == []


async def test_a_stock_question_about_a_kind_of_item_searches_that_size(open_shop):
    async with open_shop() as shop:
        events = await shop.say("do you have navy blue shirts in size M?")
        reply = replies(events)[0]
        assert "in stock in size M" in reply
        for card in cards(events):
            assert "M" in card["data"]["sizes_available"]


async def test_a_product_named_by_id_gets_its_alert_and_its_stock(open_shop):
    """ "Product 2288" needs no search first: the id is looked up, in English and in Chinese."""
    async with open_shop() as shop:
        product = next(iter(shop.catalog.catalog.docs()))[0]
        stored = shop.catalog.catalog.get_product(product.id)
        assert stored is not None
        events = await shop.say(f"tell me when product {product.id} drops below 50 CNY")
        assert f"I'll tell you when {stored.product.name} costs 50 CNY or less" in replies(events)[0]
        alerts = shop.catalog.catalog.list_alerts(shop.user_id)
        assert [(a.product_id, a.threshold) for a in alerts] == [(product.id, 50)]

        size = stored.skus[0].size
        stock = replies(await shop.say(f"商品{product.id}有{size}码吗", session_of(events)))[0]
        quantity = stored.skus[0].stock
        assert stored.product.name in stock, stock
        assert (f"{quantity} 件" in stock) if quantity > 0 else ("售罄" in stock), stock


async def test_an_unknown_product_id_is_said_to_be_unknown(open_shop):
    async with open_shop() as shop:
        events = await shop.say("tell me when product 99999999 drops below 50 CNY")
        assert "99999999" in replies(events)[0]
        assert shop.catalog.catalog.list_alerts(shop.user_id) == []
