"""The recommendations API: outfits, complete-the-look, similar pieces, interactions, and refusals.

The shop serves the first 300 products of the shipped catalogue; what exactly is recommended is
the service tests' subject, so these tests check the HTTP contract and the effects.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import API, Session

pytestmark = pytest.mark.unit

#: A men's navy shirt (the first shipped product) and a deodorant, which is never part of an outfit.
SHIRT = "15970"
DEODORANT = "18461"


def test_outfits_for_an_occasion(shop: TestClient, shopper: Session) -> None:
    body = {"occasion": "work", "season": "fall", "department": "men", "count": 2}
    response = shop.post(f"{API}/recommendations/outfits", json=body, headers=shopper.headers)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["applied"]["occasion"] == "work"
    assert result["applied"]["department"] == "men"
    assert result["outfits"], result["shortfall"]
    for outfit in result["outfits"]:
        slots = [item["slot"] for item in outfit["items"]]
        assert {"top", "bottom", "shoes"} <= set(slots)
        assert outfit["total_price"] == pytest.approx(sum(item["price"] for item in outfit["items"]))
        assert outfit["reasons"]
    again = shop.post(f"{API}/recommendations/outfits", json=body, headers=shopper.headers).json()
    assert again["cached"] is True


def test_an_interaction_is_applied_before_the_response(shop: TestClient, shopper: Session) -> None:
    body = {"product_id": SHIRT, "kind": "like", "occasion": "work"}
    response = shop.post(f"{API}/recommendations/interactions", json=body, headers=shopper.headers)
    assert response.status_code == 201, response.text
    assert response.json()["generation"] == 1
    second = shop.post(f"{API}/recommendations/interactions", json=body, headers=shopper.headers)
    assert second.json()["generation"] == 2


def test_complete_the_look_and_similar(shop: TestClient, shopper: Session) -> None:
    look = shop.post(
        f"{API}/recommendations/complete-the-look",
        json={"product_id": SHIRT, "season": "fall", "count": 1},
        headers=shopper.headers,
    )
    assert look.status_code == 200, look.text
    outfits = look.json()["outfits"]
    assert outfits, look.json()["shortfall"]
    assert outfits[0]["items"][0]["product_id"] == SHIRT
    similar = shop.get(f"{API}/recommendations/similar/{SHIRT}", params={"limit": 3}, headers=shopper.headers)
    assert similar.status_code == 200, similar.text
    items = similar.json()["items"]
    assert 0 < len(items) <= 3
    assert SHIRT not in {item["product_id"] for item in items}


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        (
            "post",
            "/recommendations/interactions",
            {"product_id": "999999999", "kind": "like"},
            404,
            "unknown_product",
        ),
        ("get", "/recommendations/similar/999999999", None, 404, "unknown_product"),
        ("post", "/recommendations/complete-the-look", {"product_id": DEODORANT}, 422, "not_outfit_item"),
    ],
)
def test_refusals_are_problems_with_a_code(
    shop: TestClient,
    shopper: Session,
    method: str,
    path: str,
    body: dict[str, object] | None,
    status: int,
    code: str,
) -> None:
    response = shop.request(method.upper(), f"{API}{path}", json=body, headers=shopper.headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code


@pytest.mark.parametrize(
    "body",
    [
        {"count": 99},
        {"occasion": "moon landing"},
        {"budget_max": -5},
        {"temperature_c": 80},
        {"colour": ["red"]},
    ],
)
def test_malformed_requests_are_422(shop: TestClient, shopper: Session, body: dict[str, object]) -> None:
    response = shop.post(f"{API}/recommendations/outfits", json=body, headers=shopper.headers)
    assert response.status_code == 422


def test_recommendations_need_a_signed_in_person(shop: TestClient) -> None:
    assert shop.post(f"{API}/recommendations/outfits", json={}).status_code == 401
