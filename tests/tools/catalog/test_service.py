"""Catalog rules on SQLite and PostgreSQL: loading, reading, writing, events and price alerts."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from core.config import Settings
from rag.documents import size_key
from storage.sql import Database
from storage.sql.models import OutboxEvent, PriceHistory, Sku
from tools.catalog.schemas import StockPriceUpdate
from tools.catalog.service import (
    MAX_ACTIVE_ALERTS,
    AlertLimit,
    AlertNotFound,
    CatalogService,
    InvalidAlert,
    InvalidPrice,
    InvalidStock,
    ProductNotFound,
    SizeNotFound,
)
from tools.profile.service import AccountService

TEE = "53759"  # Men's T-shirt: sizes S..XXL
SHOE = "9204"  # Men's casual shoes: EU 39..46
WATCH = "59263"  # One Size
WITH_PHOTO = "2288"


def _events(db: Database, type_: str) -> list[OutboxEvent]:
    with db.session() as session:
        return list(session.scalars(select(OutboxEvent).where(OutboxEvent.type == type_)))


def _restock_all(catalog: CatalogService, product_id: str, quantity: int = 5) -> None:
    detail = catalog.get_product(product_id)
    assert detail is not None
    catalog.apply_update(
        [StockPriceUpdate(product_id=product_id, size=s.size, stock=quantity) for s in detail.skus],
        source="test",
    )


# --- loading and reading ---------------------------------------------------------------------------


def test_load_is_idempotent(empty_catalog: CatalogService, sql_settings: Settings) -> None:
    first = empty_catalog.load_shipped(sql_settings.catalog_dir, limit=50)
    assert first.products == 50
    assert first.inserted == first.rows > 50
    again = empty_catalog.load_shipped(sql_settings.catalog_dir, limit=50)
    assert (again.inserted, again.unchanged) == (0, first.rows)
    assert empty_catalog.count_products() == 50
    more = empty_catalog.load_shipped(sql_settings.catalog_dir, limit=60)
    assert more.inserted > 0
    assert empty_catalog.count_products() == 60


def test_a_reload_keeps_prices_set_since(catalog: CatalogService, sql_settings: Settings) -> None:
    catalog.set_price(TEE, None, 88, source="admin")
    catalog.load_shipped(sql_settings.catalog_dir, limit=200)
    detail = catalog.get_product(TEE)
    assert detail is not None
    assert {s.price for s in detail.skus} == {88.0}


def test_products_come_with_their_sizes(catalog: CatalogService) -> None:
    detail = catalog.get_product(TEE)
    assert detail is not None
    assert detail.product.generated
    assert detail.product.article_type == "Tshirts"
    assert [s.size for s in detail.skus] == ["S", "M", "L", "XL", "XXL"]
    assert detail.product.brand
    assert catalog.get_product("no-such-product") is None
    ids = [s.product.id for s in catalog.get_products([WATCH, "missing", TEE, WATCH])]
    assert ids == [WATCH, TEE]


def test_docs_are_denormalised_for_search(catalog: CatalogService) -> None:
    batches = list(catalog.docs(batch=64))
    docs = [d for batch in batches for d in batch]
    assert len(docs) == 200
    assert len(batches) == 4
    by_id = {d.id: d for d in docs}
    detail = catalog.get_product(SHOE)
    assert detail is not None
    doc = by_id[SHOE]
    assert doc.price == min(s.price for s in detail.skus)
    assert doc.sizes_available == [s.size for s in detail.skus if s.stock > 0]
    assert doc.in_stock == bool(doc.sizes_available)
    assert doc.generated
    assert by_id[WITH_PHOTO].image_url == f"/api/v1/catalog/products/{WITH_PHOTO}/image"
    assert by_id[TEE].image_url is None
    assert [d.id for batch in catalog.docs([TEE, "missing", SHOE]) for d in batch] == sorted([TEE, SHOE])


def test_image_file_stays_inside_the_catalog(catalog: CatalogService, sql_settings: Settings) -> None:
    path = catalog.image_file(WITH_PHOTO, sql_settings.catalog_dir)
    assert path is not None
    assert path.name == f"{WITH_PHOTO}.jpg"
    assert catalog.image_file(TEE, sql_settings.catalog_dir) is None
    assert catalog.image_file(WITH_PHOTO, Path("/nonexistent")) is None


def test_stock_by_size_is_forgiving(catalog: CatalogService) -> None:
    catalog.set_stock(TEE, "M", 7)
    answer = catalog.check_stock(TEE, "m")
    assert answer.size == "M"
    assert answer.sizes[0].quantity == 7
    assert answer.in_stock
    assert answer.generated
    catalog.set_stock(SHOE, "EU 40", 0)
    shoe = catalog.check_stock(SHOE, "40")
    assert shoe.size == "EU 40"
    assert not shoe.in_stock
    assert len(catalog.check_stock(SHOE).sizes) == 8
    with pytest.raises(SizeNotFound, match=r"sizes are: EU 39, EU 40"):
        catalog.check_stock(SHOE, "52")
    with pytest.raises(ProductNotFound):
        catalog.check_stock("nope")


def test_size_keys() -> None:
    assert size_key("m") == size_key("M") == size_key(" medium ")
    assert size_key("40") == size_key("EU 40") == size_key("eu40")
    assert size_key("W32") == size_key("32")
    assert size_key("one size") == size_key("One Size") == size_key("free size")
    assert size_key("XXL") == size_key("2XL")


def test_generated_price_history(catalog: CatalogService) -> None:
    points = catalog.price_history(TEE)
    assert len(points) >= 2
    assert all(p.size is None and p.source == "generated" for p in points)
    assert [p.at for p in points] == sorted(p.at for p in points)
    detail = catalog.get_product(TEE)
    assert detail is not None
    assert points[-1].price == detail.skus[0].price
    assert len(catalog.price_history(TEE, days=1)) == 1
    with pytest.raises(ProductNotFound):
        catalog.price_history("nope")


# --- writing -------------------------------------------------------------------------------------


def test_set_price_writes_history_and_events(catalog: CatalogService, database: Database) -> None:
    before = catalog.get_product(TEE)
    assert before is not None
    catalog.set_price(TEE, "L", 123.456, source="admin")
    after = catalog.get_product(TEE)
    assert after is not None
    prices = {s.size: s.price for s in after.skus}
    assert prices["L"] == 123.46
    assert prices["M"] == before.skus[1].price
    history = catalog.price_history(TEE)
    assert history[-1].size == "L"
    assert history[-1].price == 123.46
    assert history[-1].source == "admin"
    events = _events(database, "price.changed")
    assert len(events) == 1
    assert events[0].key == TEE
    assert events[0].topic == "inventory-updates"
    assert events[0].payload["size"] == "L"
    assert events[0].payload["new_price"] == 123.46
    assert events[0].payload["old_price"] == before.skus[2].price
    catalog.set_price(TEE, None, 99)
    assert len(_events(database, "price.changed")) == 1 + 5
    assert catalog.price_history(TEE)[-1].size is None
    catalog.set_price(TEE, None, 99)  # no change: no history, no event
    assert len(_events(database, "price.changed")) == 6


def test_set_stock_emits_stock_events(catalog: CatalogService, database: Database) -> None:
    catalog.set_stock(TEE, "xl", 0)
    catalog.set_stock(TEE, "xl", 3)
    events = _events(database, "stock.changed")
    assert [e.payload["new_stock"] for e in events][-2:] == [0, 3]
    assert events[-1].payload["in_stock"] is True
    assert events[-1].payload["size"] == "XL"


def test_absurd_values_are_refused(catalog: CatalogService, database: Database) -> None:
    with pytest.raises(InvalidPrice, match="outside the accepted range"):
        catalog.set_price(TEE, "M", 0.5)
    with pytest.raises(InvalidPrice):
        catalog.set_price(TEE, None, 5_000_000)
    with pytest.raises(InvalidStock, match="negative"):
        catalog.set_stock(TEE, "M", -1)
    with pytest.raises(SizeNotFound):
        catalog.set_stock(TEE, "EU 40", 1)
    with pytest.raises(ProductNotFound):
        catalog.set_price("nope", None, 100)
    assert _events(database, "price.changed") == []


def test_a_batch_is_all_or_nothing(catalog: CatalogService, database: Database) -> None:
    before = catalog.get_product(TEE)
    with pytest.raises(ProductNotFound):
        catalog.apply_update(
            [
                StockPriceUpdate(product_id=TEE, size="M", price=10),
                StockPriceUpdate(product_id="nope", size="M", stock=1),
            ],
            source="test",
        )
    assert catalog.get_product(TEE) == before
    assert _events(database, "price.changed") == []
    result = catalog.apply_update(
        [{"product_id": TEE, "size": "M", "price": 10, "stock": 2}, {"product_id": WATCH, "price": 999}],
        source="test",
    )
    assert (result.price_changes, result.stock_changes) == (2, 1)
    assert result.product_ids == sorted([TEE, WATCH])
    with database.session() as session:
        sku = session.get(Sku, f"{TEE}/M")
        assert sku is not None
        assert (sku.price, sku.stock) == (10.0, 2)
        sources = set(session.scalars(select(PriceHistory.source).where(PriceHistory.sku_id == f"{TEE}/M")))
        assert "test" in sources


# --- price alerts --------------------------------------------------------------------------------


def test_a_price_drop_fires_an_alert_once(catalog: CatalogService, database: Database, user_id: str) -> None:
    _restock_all(catalog, TEE)
    catalog.set_price(TEE, None, 200)
    alert = catalog.create_price_alert(user_id, product_id=TEE, threshold=150)
    assert alert.active
    assert not alert.already_met
    assert alert.current_price == 200
    catalog.set_price(TEE, None, 160)
    assert catalog.pending_notifications(user_id) == []
    catalog.set_price(TEE, None, 149)
    pending = catalog.pending_notifications(user_id)
    assert len(pending) == 1
    assert (pending[0].product_id, pending[0].price, pending[0].threshold) == (TEE, 149.0, 150.0)
    assert pending[0].product_name
    events = _events(database, "price_alert.triggered")
    assert len(events) == 1
    assert events[0].key == user_id
    assert events[0].payload["notification_id"] == pending[0].id
    fired = catalog.list_alerts(user_id)[0]
    assert not fired.active
    assert fired.triggered_at is not None
    assert fired.last_price == 149
    catalog.set_price(TEE, None, 100)  # fires once only
    assert len(catalog.pending_notifications(user_id)) == 1
    assert catalog.mark_delivered(user_id, [pending[0].id, "someone-elses"]) == 1
    assert catalog.pending_notifications(user_id) == []
    assert catalog.mark_delivered(user_id, [pending[0].id]) == 0


def test_a_size_alert_waits_for_stock_in_that_size(catalog: CatalogService, user_id: str) -> None:
    catalog.set_stock(SHOE, "EU 42", 0)
    catalog.set_stock(SHOE, "EU 43", 4)
    catalog.set_price(SHOE, None, 500)
    alert = catalog.create_price_alert(user_id, product_id=SHOE, threshold=400, size="42")
    assert alert.size == "EU 42"
    catalog.set_price(SHOE, None, 380)  # cheap enough, but not in the size
    assert catalog.pending_notifications(user_id) == []
    catalog.set_stock(SHOE, "EU 42", 2)  # the restock fires it
    pending = catalog.pending_notifications(user_id)
    assert [(n.size, n.price) for n in pending] == [("EU 42", 380.0)]


def test_an_alert_already_met_fires_only_on_a_further_drop(catalog: CatalogService, user_id: str) -> None:
    _restock_all(catalog, WATCH)
    catalog.set_price(WATCH, None, 300)
    alert = catalog.create_price_alert(user_id, product_id=WATCH, threshold=350)
    assert alert.already_met
    assert alert.current_price == 300
    assert alert.active
    catalog.set_stock(WATCH, "One Size", 9)
    assert catalog.pending_notifications(user_id) == []
    catalog.set_price(WATCH, None, 280)
    assert [n.price for n in catalog.pending_notifications(user_id)] == [280.0]


def test_setting_the_same_alert_again_moves_its_threshold(catalog: CatalogService, user_id: str) -> None:
    first = catalog.create_price_alert(user_id, product_id=TEE, threshold=100)
    second = catalog.create_price_alert(user_id, product_id=TEE, threshold=80)
    assert first.id == second.id
    assert second.threshold == 80
    assert len(catalog.list_alerts(user_id)) == 1


def test_alert_validation(catalog: CatalogService, user_id: str) -> None:
    with pytest.raises(ProductNotFound):
        catalog.create_price_alert(user_id, product_id="nope", threshold=100)
    with pytest.raises(SizeNotFound):
        catalog.create_price_alert(user_id, product_id=TEE, threshold=100, size="EU 40")
    with pytest.raises(InvalidAlert):
        catalog.create_price_alert(user_id, product_id=TEE, query="red dress", threshold=100)
    with pytest.raises(InvalidAlert):
        catalog.create_price_alert(user_id, threshold=100)
    with pytest.raises(InvalidPrice):
        catalog.create_price_alert(user_id, product_id=TEE, threshold=0.01)
    with pytest.raises(InvalidAlert, match="filters"):
        catalog.create_price_alert(
            user_id, query="dress", filters={"colour": "not-a-list", "bogus": 1}, threshold=9
        )
    with pytest.raises(InvalidAlert, match="no user"):
        catalog.create_price_alert("no-such-user", product_id=TEE, threshold=100)


def test_active_alerts_are_limited(catalog: CatalogService, user_id: str) -> None:
    for i in range(MAX_ACTIVE_ALERTS):
        catalog.create_price_alert(user_id, query=f"shirt {i}", threshold=100)
    with pytest.raises(AlertLimit):
        catalog.create_price_alert(user_id, product_id=TEE, threshold=100)
    catalog.cancel_alert(user_id, catalog.list_alerts(user_id)[0].id)
    assert catalog.create_price_alert(user_id, product_id=TEE, threshold=100).active


def test_another_persons_alert_is_not_found(
    catalog: CatalogService, accounts: AccountService, user_id: str
) -> None:
    other = accounts.create_user(email="other@example.com", password="password-2").id
    alert = catalog.create_price_alert(other, product_id=TEE, threshold=50)
    with pytest.raises(AlertNotFound):
        catalog.cancel_alert(user_id, alert.id)
    assert catalog.list_alerts(user_id) == []
    cancelled = catalog.cancel_alert(other, alert.id)
    assert not cancelled.active
    assert catalog.list_alerts(other, active_only=True) == []


def test_query_alerts_are_fired_by_the_caller(
    catalog: CatalogService, database: Database, user_id: str
) -> None:
    alert = catalog.create_price_alert(
        user_id, query="  navy shirt ", filters={"colour": ["Navy Blue"], "gender": ["Men"]}, threshold=200
    )
    assert alert.query == "navy shirt"
    assert alert.filters == {"colour": ["Navy Blue"], "gender": ["Men"]}
    assert [a.id for a in catalog.query_alerts()] == [alert.id]
    with pytest.raises(InvalidPrice):
        catalog.notify_query_alert(alert.id, TEE, 250)
    note = catalog.notify_query_alert(alert.id, TEE, 180)
    assert note is not None
    assert note.query == "navy shirt"
    assert note.price == 180
    assert catalog.notify_query_alert(alert.id, TEE, 150) is None  # fired once
    assert catalog.query_alerts() == []
    assert [n.id for n in catalog.pending_notifications(user_id)] == [note.id]
    assert len(_events(database, "price_alert.triggered")) == 1
