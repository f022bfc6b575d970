"""CatalogStore: caches that follow inventory events, and alerts on a search that fire on a drop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.events import Event
from storage.stores import Stores, build_stores
from tests.conftest import TEST_WEBHOOK_SECRET, make_settings
from tools.catalog.runtime import open_catalog
from tools.catalog.service import InvalidAlert
from tools.catalog.store import CatalogStore
from tools.profile.service import AccountService

pytestmark = pytest.mark.unit


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[tuple[CatalogStore, Stores]]:
    settings = make_settings(
        tmp_path, catalog={"webhook_secret": TEST_WEBHOOK_SECRET, "load_on_start": True, "limit": 300}
    )
    stores = build_stores(settings)
    try:
        yield open_catalog(settings, stores), stores
    finally:
        stores.close()


def _price_event(product_id: str, old: float, new: float) -> Event:
    return Event(
        type="price.changed",
        key=product_id,
        payload={"product_id": product_id, "size": None, "old_price": old, "new_price": new},
    )


def test_cached_details_and_pages_follow_an_inventory_event(shop: tuple[CatalogStore, Stores]) -> None:
    store, _ = shop
    page = store.search("navy shirt", mode="fulltext", limit=5)
    product_id = page.hits[0].doc.id
    before = store.product(product_id)
    assert before is not None
    store.catalog.set_price(product_id, None, 4321.0, source="test")
    assert store.product(product_id) == before, "details stay cached until the event arrives"
    store.on_inventory_event(_price_event(product_id, before.skus[0].price, 4321.0))
    after = store.product(product_id)
    assert after is not None
    assert {sku.price for sku in after.skus} == {4321.0}
    again = store.search("navy shirt", mode="fulltext", limit=5)
    assert next(h.doc for h in again.hits if h.doc.id == product_id).price == 4321.0


def test_an_alert_on_a_search_fires_for_a_matching_product_that_drops(
    shop: tuple[CatalogStore, Stores],
) -> None:
    store, stores = shop
    user = AccountService(stores.db).create_user(email="watcher@example.com", password="a-long-password-1")
    alert = store.create_alert(user.id, query="navy blue shirt", threshold=50.0)
    assert alert.filters["colour"] == ["Navy Blue"]
    assert alert.filters["article_type"] == ["Shirts"]
    with pytest.raises(InvalidAlert, match="too vague"):
        store.create_alert(user.id, query="something nice", threshold=50.0)
    shirt = store.search("navy blue shirt", mode="fulltext", limit=1).hits[0].doc
    other = store.search("black watch", mode="fulltext", limit=1).hits[0].doc
    assert other.colour != "Navy Blue"

    # a rise, and a drop of something else, fire nothing
    store.catalog.set_price(shirt.id, None, shirt.price + 10, source="test")
    store.on_inventory_event(_price_event(shirt.id, shirt.price, shirt.price + 10))
    store.catalog.set_price(other.id, None, 10.0, source="test")
    store.on_inventory_event(_price_event(other.id, other.price, 10.0))
    assert store.catalog.pending_notifications(user.id) == []

    store.catalog.set_price(shirt.id, None, 45.0, source="test")
    store.on_inventory_event(_price_event(shirt.id, shirt.price + 10, 45.0))
    fired = store.catalog.pending_notifications(user.id)
    assert [(n.alert_id, n.product_id, n.price) for n in fired] == [(alert.id, shirt.id, 45.0)]
