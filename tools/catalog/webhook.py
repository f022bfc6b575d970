"""Signed stock/price webhooks from shops and suppliers.

A sender signs each call with the shared secret (``IK_CATALOG__WEBHOOK_SECRET``)
and three headers:

* ``X-IK-Timestamp``: unix seconds when the call was signed. Calls further than
  the tolerance (``IK_CATALOG__WEBHOOK_TOLERANCE_S``) from now are refused, so a
  captured call cannot be replayed later.
* ``X-IK-Delivery``: a unique id per delivery (1 to 128 characters of letters,
  digits, ``-_.:``). A delivery id already processed is refused, so a captured
  call cannot be replayed within the window either; it is recorded in the same
  transaction as the updates it carries, so a failed delivery can be retried.
* ``X-IK-Signature``: ``sha256=`` followed by the hex HMAC-SHA256, keyed with the
  secret, of ``f"{timestamp}.{delivery}."`` followed by the raw request body.

The body is JSON: ``{"updates": [{"product_id": "...", "size": "M", "price":
199.0, "stock": 3}, ...]}`` with at most 1000 updates, applied all or none.

Refusals: 401 (missing or bad signature, stale timestamp), 409 (replayed
delivery), 422 (body not valid, unknown product or size, absurd price). The
signature is checked before anything else is looked at, so an unsigned caller
learns nothing about the catalog.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tools.catalog.connectors import validation_reason
from tools.catalog.schemas import StockPriceUpdate, UpdateResult
from tools.catalog.service import CatalogError, CatalogService, DuplicateDelivery

TIMESTAMP_HEADER = "x-ik-timestamp"
DELIVERY_HEADER = "x-ik-delivery"
SIGNATURE_HEADER = "x-ik-signature"
SIGNATURE_PREFIX = "sha256="
MAX_UPDATES = 1000
WEBHOOK_SOURCE = "webhook"
_DELIVERY_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,128}$")


class WebhookRejected(Exception):
    def __init__(self, status: Literal[401, 409, 422], reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class WebhookPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    updates: list[StockPriceUpdate] = Field(min_length=1, max_length=MAX_UPDATES)


class WebhookResult(BaseModel):
    delivery_id: str
    result: UpdateResult


def signature(secret: str, timestamp: str, delivery: str, body: bytes) -> str:
    """The ``X-IK-Signature`` value for a call (senders and tests use it too)."""
    message = f"{timestamp}.{delivery}.".encode() + body
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str, body: bytes, *, delivery: str, timestamp: int | None = None
) -> dict[str, str]:
    """Headers a sender attaches to ``body``."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "X-IK-Timestamp": stamp,
        "X-IK-Delivery": delivery,
        "X-IK-Signature": signature(secret, stamp, delivery, body),
    }


def verify(
    secret: str, headers: Mapping[str, str], body: bytes, *, now: float, tolerance_s: int
) -> tuple[str, int]:
    """Check signature and timestamp; returns (delivery id, timestamp) or raises ``WebhookRejected``."""
    lowered = {k.lower(): v for k, v in headers.items()}
    stamp = lowered.get(TIMESTAMP_HEADER, "").strip()
    delivery = lowered.get(DELIVERY_HEADER, "").strip()
    given = lowered.get(SIGNATURE_HEADER, "").strip()
    if not (stamp and delivery and given):
        raise WebhookRejected(401, "missing X-IK-Timestamp, X-IK-Delivery or X-IK-Signature header")
    expected = signature(secret, stamp, delivery, body)
    # Constant-time, on bytes so a non-ASCII header cannot raise before the comparison.
    if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        raise WebhookRejected(401, "signature does not match")
    if not stamp.isdigit():
        raise WebhookRejected(401, "X-IK-Timestamp must be unix seconds")
    timestamp = int(stamp)
    if abs(now - timestamp) > tolerance_s:
        raise WebhookRejected(401, f"timestamp is more than {tolerance_s} s away from now")
    if not _DELIVERY_ID.match(delivery):
        raise WebhookRejected(422, "X-IK-Delivery must be 1-128 characters of letters, digits, -_.:")
    return delivery, timestamp


def parse_payload(body: bytes) -> WebhookPayload:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WebhookRejected(422, f"body is not JSON: {exc}") from exc
    try:
        return WebhookPayload.model_validate(data)
    except ValidationError as exc:
        raise WebhookRejected(422, validation_reason(exc)) from exc


class WebhookProcessor:
    """Verify, parse and apply one webhook call; the HTTP router maps ``WebhookRejected`` to a status."""

    def __init__(self, catalog_service: CatalogService, secret: str, tolerance: int = 300) -> None:
        if not secret:
            raise ValueError("a webhook secret is required")
        self.catalog = catalog_service
        self.secret = secret
        self.tolerance = tolerance

    def handle(self, headers: Mapping[str, str], body: bytes, now: float | None = None) -> WebhookResult:
        delivery, _ = verify(
            self.secret, headers, body, now=time.time() if now is None else now, tolerance_s=self.tolerance
        )
        payload = parse_payload(body)
        try:
            result = self.catalog.apply_update(payload.updates, source=WEBHOOK_SOURCE, delivery_id=delivery)
        except DuplicateDelivery as exc:
            raise WebhookRejected(409, str(exc)) from exc
        except CatalogError as exc:
            raise WebhookRejected(422, str(exc)) from exc
        return WebhookResult(delivery_id=delivery, result=result)
