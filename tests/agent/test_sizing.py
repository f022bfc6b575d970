"""Size conversations on a real catalogue slice: advice, missing measurements, fit feedback.

Judged by the state left behind and by the reply against the service's own answer:
the size the person reads is the one the service advises, a clarifying question
names what is missing, and feedback is in the database after the thanks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from core.config import Settings
from storage.stores import Stores
from tests.agent.conftest import open_conversation, replies, session_of
from tests.tools.sizing.fakes import LogisticFitModel
from tools.catalog.store import CatalogStore
from tools.profile.schemas import Department
from tools.profile.service import AccountService, ProfileService
from tools.registry import ToolServices
from tools.sizing.chartbook import ChartBook
from tools.sizing.service import Body, SizingService

pytestmark = [pytest.mark.unit, pytest.mark.anyio]


@pytest.fixture
def open_fitting(shop_settings: Settings, classifier: Any) -> Callable[[], Any]:
    def services(
        stores: Stores, catalog: CatalogStore, accounts: AccountService, profiles: ProfileService
    ) -> ToolServices:
        sizing = SizingService(stores.db, ChartBook(stores.db), LogisticFitModel())  # type: ignore[arg-type]
        return ToolServices(accounts=accounts, profiles=profiles, catalog=catalog, sizing=sizing)

    return lambda: open_conversation(shop_settings, classifier, email="fit@example.com", services=services)


async def test_advice_names_the_size_the_service_advises(open_fitting):
    async with open_fitting() as shop:
        product_id = shop.first("Women", "Tops")
        events = await shop.say(f"which size of product {product_id} should I order? I'm 165 cm and 55 kg")
        reply = replies(events)[0]
        detail = shop.catalog.product(product_id)
        assert detail is not None
        expected = shop.services.sizing.recommend(
            shop.user_id, detail, Body(values={"height": 165.0, "weight": 55.0}, department=Department.women)
        )
        assert f"advised size is {expected.recommended.size}" in reply, reply
        assert "estimated from height and weight" in reply, "an estimate is said to be one"


async def test_missing_measurements_are_asked_for_then_used(open_fitting):
    async with open_fitting() as shop:
        product_id = shop.first("Women", "Tops")
        first = await shop.say(f"which size should I get for product {product_id}?")
        question = replies(first)[0]
        assert "chest" in question, question
        answer = await shop.say("my chest is 88 cm", session_id=session_of(first))
        reply = " ".join(replies(answer))
        assert "advised size is" in reply, reply
        assert "your chest is 88 cm" in reply, reply
        assert "Shall I save this to your profile: chest 88 cm?" in reply, "stated measurements are offered"


async def test_fit_feedback_is_recorded(open_fitting):
    async with open_fitting() as shop:
        product_id = shop.first("Women", "Tops")
        events = await shop.say(f"the M of product {product_id} was too tight")
        reply = replies(events)[0]
        stored = shop.services.sizing.list_feedback(shop.user_id)
        saved = [(row["product_id"], row["size"], row["fit"]) for row in stored]
        assert saved == [(product_id, "M", "small")]
        assert "Thanks" in reply, reply


async def test_chinese_advice_in_chinese(open_fitting):
    async with open_fitting() as shop:
        product_id = shop.first("Men", "Tshirts")
        events = await shop.say(f"编号{product_id}我该买什么码？我身高175，体重70公斤")
        reply = replies(events)[0]
        assert "建议选" in reply, reply
        assert "由身高体重估算" in reply, reply
