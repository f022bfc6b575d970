"""The catalog over HTTP: search, products, stock, prices, photos, feeds, the signed webhook, alerts.

The app loads the first 300 products of the shipped catalog (full-text search only, so
no vectors are encoded); every check is on what a client receives and what is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import API, Session, sign_in
from tests.conftest import TEST_WEBHOOK_SECRET

pytestmark = pytest.mark.unit

#: The first product of the shipped catalog (a navy blue Turtle shirt) and one with a real photo.
SHIRT = "15970"
WITH_PHOTO = "2288"


def signed(
    body: bytes, *, secret: str = TEST_WEBHOOK_SECRET, at: int | None = None, delivery: str | None = None
) -> dict[str, str]:
    timestamp = str(at if at is not None else int(time.time()))
    delivery = delivery or uuid.uuid4().hex
    digest = hmac.new(secret.encode(), f"{timestamp}.{delivery}.".encode() + body, hashlib.sha256).hexdigest()
    return {
        "X-IK-Timestamp": timestamp,
        "X-IK-Delivery": delivery,
        "X-IK-Signature": f"sha256={digest}",
        "Content-Type": "application/json",
    }


def product(shop: TestClient, product_id: str) -> dict[str, Any]:
    response = shop.get(f"{API}/catalog/products/{product_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def first_sku(shop: TestClient, product_id: str) -> dict[str, Any]:
    skus: list[dict[str, Any]] = product(shop, product_id)["skus"]
    return skus[0]


def test_search_understands_english_and_chinese_and_filters(shop: TestClient) -> None:
    english = shop.get(f"{API}/catalog/search", params={"q": "navy shirt", "mode": "fulltext"}).json()
    assert english["total"] >= 1
    assert english["products"][0]["colour"] == "Navy Blue"
    assert english["facets"]["colour"]["Navy Blue"] >= 1

    chinese = shop.get(f"{API}/catalog/search", params={"q": "藏青色衬衫", "mode": "fulltext"}).json()
    assert SHIRT in [p["id"] for p in chinese["products"]]

    cheap = shop.get(f"{API}/catalog/search", params={"q": "shirt", "price_max": 150, "limit": 100}).json()
    assert cheap["products"], "some shirts cost 150 CNY or less in the generated data"
    assert all(p["price"] <= 150 for p in cheap["products"])
    # a dollar amount is converted to the catalog's currency before it filters
    dollars = shop.get(
        f"{API}/catalog/search", params={"q": "shirt", "price_max": 20, "currency": "USD"}
    ).json()
    assert all(p["price"] <= 20 * 7.3 for p in dollars["products"])


def test_search_refuses_bad_parameters(shop: TestClient) -> None:
    assert shop.get(f"{API}/catalog/search", params={"limit": 1000}).status_code == 422
    inverted = shop.get(f"{API}/catalog/search", params={"price_min": 500, "price_max": 100})
    assert inverted.status_code == 422
    assert "price_min" in inverted.json()["detail"]
    # text that would be query syntax in FTS5 is searched for, not executed
    odd = shop.get(f"{API}/catalog/search", params={"q": '"shirt* OR (NEAR -^'})
    assert odd.status_code == 200


def test_product_stock_price_history_and_photos(shop: TestClient) -> None:
    detail = product(shop, SHIRT)
    assert detail["product"]["name"] == "Turtle Check Men Navy Blue Shirt"
    assert detail["product"]["generated"] is True
    assert detail["skus"], "every product has at least one SKU"
    size = detail["skus"][0]["size"]
    stock = shop.get(f"{API}/catalog/products/{SHIRT}/stock", params={"size": size}).json()
    assert [level["size"] for level in stock["sizes"]] == [size]
    unknown_size = shop.get(f"{API}/catalog/products/{SHIRT}/stock", params={"size": "XXXXXL"})
    assert unknown_size.status_code == 422
    history = shop.get(f"{API}/catalog/products/{SHIRT}/price-history").json()
    assert history
    assert all(point["price"] > 0 for point in history)

    assert shop.get(f"{API}/catalog/products/nope").status_code == 404
    assert shop.get(f"{API}/catalog/products/..%2Fetc/image").status_code in (404, 422)
    photo = shop.get(f"{API}/catalog/products/{WITH_PHOTO}/image")
    assert photo.headers["content-type"] == "image/jpeg"
    assert photo.content[:2] == b"\xff\xd8"
    placeholder = shop.get(f"{API}/catalog/products/{SHIRT}/image")
    assert placeholder.headers["content-type"].startswith("image/svg+xml")
    assert placeholder.headers["x-placeholder"] == "true"


def test_webhook_updates_stock_and_refuses_bad_signatures_and_replays(shop: TestClient) -> None:
    sku = first_sku(shop, SHIRT)
    body = json.dumps({"updates": [{"product_id": SHIRT, "size": sku["size"], "stock": 0}]}).encode()
    url = f"{API}/catalog/webhooks/inventory"

    forged = shop.post(url, content=body, headers=signed(body, secret="wrong-secret"))
    assert forged.status_code == 401
    stale = shop.post(url, content=body, headers=signed(body, at=int(time.time()) - 3600))
    assert stale.status_code == 401
    assert first_sku(shop, SHIRT)["stock"] == sku["stock"], "refused calls change nothing"

    headers = signed(body)
    accepted = shop.post(url, content=body, headers=headers)
    assert accepted.status_code == 200, accepted.text
    assert first_sku(shop, SHIRT)["stock"] == 0
    replay = shop.post(url, content=body, headers=headers)
    assert replay.status_code == 409

    absurd = json.dumps({"updates": [{"product_id": SHIRT, "size": sku["size"], "price": -5}]}).encode()
    assert shop.post(url, content=absurd, headers=signed(absurd)).status_code == 422
    negative = json.dumps({"updates": [{"product_id": SHIRT, "size": sku["size"], "stock": -1}]}).encode()
    assert shop.post(url, content=negative, headers=signed(negative)).status_code == 422

    # search sees the new stock at once: the size is no longer offered
    page = shop.get(
        f"{API}/catalog/search", params={"q": "Turtle Check navy shirt", "mode": "fulltext"}
    ).json()
    found = next(p for p in page["products"] if p["id"] == SHIRT)
    assert sku["size"] not in found["sizes_available"]


def test_feed_import_reports_bad_rows_and_needs_an_admin(
    shop: TestClient, shop_admin: Session, shopper: Session
) -> None:
    feed = (
        b"id,name,brand,gender,master_category,sub_category,article_type,colour,season,year,usage,size,price,stock\n"
        b"feed-1,Acme Women White Dress,Acme,Women,Apparel,Dress,Dresses,White,Summer,2024,Casual,M,299,4\n"
        b"feed-1,Acme Women White Dress,Acme,Women,Apparel,Dress,Dresses,White,Summer,2024,Casual,L,299,0\n"
        b"feed-2,Broken Price Dress,Acme,Women,Apparel,Dress,Dresses,White,Summer,2024,Casual,M,-3,4\n"
    )
    files = {"file": ("feed.csv", io.BytesIO(feed), "text/csv")}
    assert shop.post(f"{API}/catalog/imports", files=files, headers=shopper.headers).status_code == 403
    files = {"file": ("feed.csv", io.BytesIO(feed), "text/csv")}
    report = shop.post(f"{API}/catalog/imports", files=files, headers=shop_admin.headers)
    assert report.status_code == 200, report.text
    body = report.json()
    assert len(body["rejected"]) == 1
    assert body["rejected"][0]["line"] == 4
    assert shop.get(f"{API}/catalog/products/feed-2").status_code == 404
    dress = product(shop, "feed-1")
    assert {s["size"]: s["stock"] for s in dress["skus"]} == {"M": 4, "L": 0}
    # the indexes follow the importer's events (outbox relay, then the indexer's consumer)
    deadline = time.monotonic() + 10
    while True:
        page = shop.get(f"{API}/catalog/search", params={"q": "Acme white dress", "mode": "fulltext"}).json()
        if (page["products"] and page["products"][0]["id"] == "feed-1") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert page["products"][0]["id"] == "feed-1"
    assert page["products"][0]["sizes_available"] == ["M"]


def test_price_alert_fires_once_on_a_drop_and_is_private(
    shop: TestClient, shopper: Session, new_shopper: Callable[[], Session]
) -> None:
    price = min(s["price"] for s in product(shop, SHIRT)["skus"])
    created = shop.post(
        f"{API}/users/me/price-alerts",
        json={"product_id": SHIRT, "threshold": round(price * 0.8, 2)},
        headers=shopper.headers,
    )
    assert created.status_code == 201, created.text
    alert_id = created.json()["id"]
    other = new_shopper()
    assert shop.get(f"{API}/users/me/price-alerts", headers=other.headers).json() == []
    assert shop.delete(f"{API}/users/me/price-alerts/{alert_id}", headers=other.headers).status_code == 404

    body = json.dumps({"updates": [{"product_id": SHIRT, "price": round(price * 0.7, 2)}]}).encode()
    assert (
        shop.post(f"{API}/catalog/webhooks/inventory", content=body, headers=signed(body)).status_code == 200
    )
    notes = shop.get(f"{API}/users/me/price-alerts/notifications", headers=shopper.headers).json()
    assert [n["product_id"] for n in notes] == [SHIRT]
    ack = shop.post(
        f"{API}/users/me/price-alerts/notifications/ack",
        json={"ids": [notes[0]["id"]]},
        headers=shopper.headers,
    )
    assert ack.status_code == 204
    assert shop.get(f"{API}/users/me/price-alerts/notifications", headers=shopper.headers).json() == []

    vague = shop.post(
        f"{API}/users/me/price-alerts",
        json={"query": "something nice", "threshold": 100},
        headers=shopper.headers,
    )
    assert vague.status_code == 422
    both = shop.post(
        f"{API}/users/me/price-alerts",
        json={"query": "navy shirt", "product_id": SHIRT, "threshold": 100},
        headers=shopper.headers,
    )
    assert both.status_code == 422


@pytest.fixture
def new_shopper(shop: TestClient, shop_admin: Session) -> Callable[[], Session]:
    def make() -> Session:
        email = f"other-{uuid.uuid4().hex[:8]}@example.com"
        body = {"email": email, "password": "password-123", "role": "user"}
        assert shop.post(f"{API}/users", json=body, headers=shop_admin.headers).status_code == 201
        return sign_in(shop, email, "password-123")

    return make


@pytest.mark.parametrize(
    ("name", "body", "reason"),
    [
        ("feed.csv", b"id,name\n\xff\xfe broken", "not UTF-8"),
        ("feed.json", b'{"not": "a list"}', "must be an array"),
        ("feed.json", b"[{", "not valid JSON"),
    ],
)
def test_unreadable_feeds_are_refused_whole(
    shop: TestClient, shop_admin: Session, name: str, body: bytes, reason: str
) -> None:
    files = {"file": (name, io.BytesIO(body), "application/octet-stream")}
    response = shop.post(f"{API}/catalog/imports", files=files, headers=shop_admin.headers)
    assert response.status_code == 422
    assert reason in response.json()["detail"]
    assert "nothing was imported" in response.json()["detail"]
