"""Signed stock/price webhooks: signature, freshness, replay protection, payload limits."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select

from storage.sql import Database
from storage.sql.models import WebhookDelivery
from tools.catalog.service import CatalogService
from tools.catalog.webhook import (
    MAX_UPDATES,
    WebhookProcessor,
    WebhookRejected,
    signature,
    signed_headers,
)

SECRET = "webhook-secret-for-tests"
TEE = "53759"


@pytest.fixture
def processor(catalog: CatalogService) -> WebhookProcessor:
    return WebhookProcessor(catalog, SECRET, tolerance=300)


def _body(*updates: dict[str, object]) -> bytes:
    return json.dumps({"updates": list(updates)}).encode()


def _rejected(
    processor: WebhookProcessor, headers: dict[str, str], body: bytes, now: float | None = None
) -> WebhookRejected:
    with pytest.raises(WebhookRejected) as caught:
        processor.handle(headers, body, now=now)
    return caught.value


def test_a_signed_call_is_applied_once(
    processor: WebhookProcessor, catalog: CatalogService, database: Database
) -> None:
    body = _body({"product_id": TEE, "size": "m", "price": 77, "stock": 4})
    headers = signed_headers(SECRET, body, delivery="d-1")
    result = processor.handle(headers, body)
    assert result.delivery_id == "d-1"
    assert (result.result.price_changes, result.result.stock_changes) == (1, 1)
    answer = catalog.check_stock(TEE, "M")
    assert (answer.sizes[0].price, answer.sizes[0].quantity) == (77, 4)
    assert catalog.price_history(TEE)[-1].source == "webhook"
    replay = _rejected(processor, headers, body)
    assert replay.status == 409
    with database.session() as session:
        assert list(session.scalars(select(WebhookDelivery.id))) == ["d-1"]


def test_headers_are_case_insensitive(processor: WebhookProcessor) -> None:
    body = _body({"product_id": TEE, "price": 88})
    headers = {k.lower(): v for k, v in signed_headers(SECRET, body, delivery="d-2").items()}
    assert processor.handle(headers, body).result.price_changes == 5


def test_bad_signatures_are_refused(processor: WebhookProcessor) -> None:
    body = _body({"product_id": TEE, "price": 88})
    headers = signed_headers(SECRET, body, delivery="d-3")
    assert _rejected(processor, headers, body + b" ").status == 401
    assert _rejected(processor, {**headers, "X-IK-Signature": "sha256=" + "0" * 64}, body).status == 401
    assert _rejected(processor, signed_headers("other-secret", body, delivery="d-3"), body).status == 401
    missing = {k: v for k, v in headers.items() if k != "X-IK-Delivery"}
    assert _rejected(processor, missing, body).status == 401
    # The delivery id is signed: changing it breaks the signature.
    assert _rejected(processor, {**headers, "X-IK-Delivery": "d-4"}, body).status == 401


def test_stale_or_future_timestamps_are_refused(processor: WebhookProcessor) -> None:
    body = _body({"product_id": TEE, "price": 88})
    now = time.time()
    old = signed_headers(SECRET, body, delivery="d-5", timestamp=int(now) - 301)
    assert "timestamp" in _rejected(processor, old, body, now=now).reason
    future = signed_headers(SECRET, body, delivery="d-6", timestamp=int(now) + 400)
    assert _rejected(processor, future, body, now=now).status == 401
    fresh = signed_headers(SECRET, body, delivery="d-7", timestamp=int(now) - 200)
    assert processor.handle(fresh, body, now=now).delivery_id == "d-7"


def test_invalid_payloads_are_422_and_can_be_retried(
    processor: WebhookProcessor, catalog: CatalogService, database: Database
) -> None:
    cases = [
        b"not json",
        json.dumps({"updates": []}).encode(),
        json.dumps({"updates": [{"product_id": TEE}]}).encode(),
        json.dumps({"updates": [{"product_id": TEE, "stock": 1}]}).encode(),  # stock needs a size
        json.dumps({"updates": [{"product_id": TEE, "size": "M", "price": 1}] * (MAX_UPDATES + 1)}).encode(),
        _body({"product_id": "nope", "price": 100}),
        _body({"product_id": TEE, "size": "EU 40", "stock": 1}),
        _body({"product_id": TEE, "price": 0.01}),
        _body({"product_id": TEE, "size": "M", "stock": -1}),
    ]
    for index, body in enumerate(cases):
        headers = signed_headers(SECRET, body, delivery=f"bad-{index}")
        assert _rejected(processor, headers, body).status == 422, body[:80]
    with database.session() as session:
        assert list(session.scalars(select(WebhookDelivery.id))) == []
    # A refused delivery was not recorded, so the sender can fix the body and retry with the same id.
    fixed = _body({"product_id": TEE, "price": 100})
    assert processor.handle(signed_headers(SECRET, fixed, delivery="bad-5"), fixed).delivery_id == "bad-5"


def test_signature_format() -> None:
    value = signature("s", "1700000000", "d", b"{}")
    assert value.startswith("sha256=")
    assert len(value) == len("sha256=") + 64
    assert value == signature("s", "1700000000", "d", b"{}")
    assert value != signature("s", "1700000001", "d", b"{}")


def test_a_secret_is_required(catalog: CatalogService) -> None:
    with pytest.raises(ValueError, match="secret"):
        WebhookProcessor(catalog, "")
