"""The sizing API: advice, feedback, charts (admin-editable), conversions, and its refusals.

No fit model is trained in these settings, so advice comes from the charts and says so;
the model's own path is covered by the service and model tests.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import API, Session

pytestmark = pytest.mark.unit

#: The first product of the shipped catalog: a men's navy shirt sold in letter sizes.
SHIRT = "15970"


def test_advice_from_stated_measurements_reads_the_chart(shop: TestClient, shopper: Session) -> None:
    chart = shop.get(
        f"{API}/sizing/charts",
        params={"department": "men", "group": "top", "system": "letter"},
        headers=shopper.headers,
    ).json()
    m_row = next(row for row in chart["sizes"] if row["label"] == "M")
    low, high = m_row["body"]["chest"]
    response = shop.post(
        f"{API}/sizing/recommend",
        json={"product_id": SHIRT, "measurements": {"chest": (low + high) / 2}},
        headers=shopper.headers,
    )
    assert response.status_code == 200, response.text
    advice = response.json()
    assert advice["recommended"]["size"] == "M"
    assert advice["method"] == "chart"
    assert advice["model_version"] is None
    assert advice["recommended"]["chart"]["chest"] == [low, high]


def test_missing_measurements_are_a_422_naming_them(shop: TestClient, shopper: Session) -> None:
    response = shop.post(f"{API}/sizing/recommend", json={"product_id": SHIRT}, headers=shopper.headers)
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "missing_measurements"
    assert "chest" in problem["missing"]


def test_impossible_measurements_are_refused(shop: TestClient, shopper: Session) -> None:
    response = shop.post(
        f"{API}/sizing/recommend",
        json={"product_id": SHIRT, "measurements": {"height": 30, "weight": 60}},
        headers=shopper.headers,
    )
    assert response.status_code == 422
    assert "height" in response.json()["detail"]


def test_unknown_product_is_404(shop: TestClient, shopper: Session) -> None:
    response = shop.post(f"{API}/sizing/recommend", json={"product_id": "999999999"}, headers=shopper.headers)
    assert response.status_code == 404


def test_feedback_is_stored_and_listed_and_bad_sizes_are_refused(shop: TestClient, shopper: Session) -> None:
    bad = shop.post(
        f"{API}/sizing/feedback",
        json={"product_id": SHIRT, "size": "XXXXXL", "fit": "small"},
        headers=shopper.headers,
    )
    assert bad.status_code == 422
    assert bad.json()["code"] == "unknown_size"
    good = shop.post(
        f"{API}/sizing/feedback",
        json={"product_id": SHIRT, "size": "m", "fit": "small", "note": "tight across the shoulders"},
        headers=shopper.headers,
    )
    assert good.status_code == 201, good.text
    assert good.json()["size"] == "M"
    assert good.json()["person_feedback"] == {"n": 1, "small": 1, "large": 0}
    listed = shop.get(f"{API}/sizing/feedback", headers=shopper.headers).json()
    assert [(row["size"], row["fit"], row["note"]) for row in listed] == [
        ("M", "small", "tight across the shoulders")
    ]
    wrong_label = shop.post(
        f"{API}/sizing/feedback",
        json={"product_id": SHIRT, "size": "M", "fit": "tight"},
        headers=shopper.headers,
    )
    assert wrong_label.status_code == 422


def test_admins_edit_brand_charts_and_advice_uses_them(
    shop: TestClient, shop_admin: Session, shopper: Session
) -> None:
    base = {"department": "men", "group": "top", "system": "letter"}
    default = shop.get(f"{API}/sizing/charts", params=base, headers=shopper.headers).json()
    assert default["brand"] is None
    brand_chart = {**default, "brand": "Acme Tailors", "source": "Acme's own table"}
    assert shop.put(f"{API}/sizing/charts", json=brand_chart, headers=shopper.headers).status_code == 403
    saved = shop.put(f"{API}/sizing/charts", json=brand_chart, headers=shop_admin.headers)
    assert saved.status_code == 200, saved.text
    found = shop.get(
        f"{API}/sizing/charts", params={**base, "brand": "acme tailors"}, headers=shopper.headers
    ).json()
    assert found["brand"] == "Acme Tailors"
    assert found["source"] == "Acme's own table"
    stored = shop.get(f"{API}/sizing/charts/stored", headers=shopper.headers).json()
    assert [c["brand"] for c in stored] == ["Acme Tailors"]
    broken = {**brand_chart, "sizes": list(reversed(brand_chart["sizes"]))}
    assert shop.put(f"{API}/sizing/charts", json=broken, headers=shop_admin.headers).status_code == 422
    params = {**base, "brand": "Acme Tailors"}
    assert shop.delete(f"{API}/sizing/charts", params=params, headers=shop_admin.headers).status_code == 204
    assert shop.delete(f"{API}/sizing/charts", params=params, headers=shop_admin.headers).status_code == 404


def test_size_conversion(shop: TestClient, shopper: Session) -> None:
    ok = shop.get(
        f"{API}/sizing/convert",
        params={"label": "M", "to": "CN", "department": "women", "group": "top"},
        headers=shopper.headers,
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["result"].endswith("A")
    unknown = shop.get(
        f"{API}/sizing/convert",
        params={"label": "QQ", "to": "EU", "department": "women", "group": "top"},
        headers=shopper.headers,
    )
    assert unknown.status_code == 422
    assert "QQ" in unknown.json()["detail"]


def test_model_info_says_when_no_model_is_trained(shop: TestClient, shopper: Session) -> None:
    info = shop.get(f"{API}/sizing/model", headers=shopper.headers).json()
    assert info == {"version": None, "manifest": None}
