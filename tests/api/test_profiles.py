from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import API, Session

pytestmark = pytest.mark.unit


def test_profile_round_trip_in_mixed_units(client: TestClient, new_user: Callable[..., Session]) -> None:
    me = new_user()
    body = {
        "measurements": {
            "height": {"value": 5 * 12 + 5, "unit": "in"},
            "weight": {"value": 115, "unit": "lb"},
            "chest": 86,
            "waist": {"value": 26, "unit": "in"},
            "hips": 92,
            "inseam": 76,
            "shoulder": 38,
            "shoe_size": {"value": 7, "system": "US_women"},
        },
        "body_shape": "pear",
        "fit_preference": "regular",
        "department": "women",
        "styles": ["minimalist", "business"],
        "favourite_colours": ["navy", "白色"],
        "avoided_colours": ["orange"],
        "budget": {"min": 100, "max": 800, "currency": "CNY"},
        "home_city": "上海",
        "locale": "zh",
        "preferred_units": {"length": "in", "weight": "lb"},
        "consents": {"use_measurements": True, "store_photos": True},
    }
    response = client.patch(f"{API}/users/me/profile", json=body, headers=me.headers)
    assert response.status_code == 200, response.text
    profile = response.json()
    assert profile["height_cm"] == 165.1
    assert profile["weight_kg"] == 52.16
    assert profile["waist_cm"] == 66.04
    assert profile["shoe_size_eu"] == 38
    assert profile["favourite_colours"] == ["navy", "白色"]
    assert profile["budget"] == {"min": 100, "max": 800, "currency": "CNY"}
    assert profile["consents"]["store_photos"] is True
    assert profile["consents"]["marketing"] is False
    assert client.get(f"{API}/users/me/profile", headers=me.headers).json() == profile


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"measurements": {"height": {"value": 165, "unit": "in"}}}, "outside 50-250 cm"),
        ({"measurements": {"height": {"value": 165, "unit": "kg"}}}, "unit"),
        ({"measurements": {"height": -3}}, "greater than 0"),
        ({"measurements": {"height": 170, "weight": 300}}, "BMI"),
        ({"measurements": {"wingspan": 170}}, "Extra inputs are not permitted"),
        ({"favourite_color": ["navy"]}, "Extra inputs are not permitted"),
        ({"budget": {"min": 900, "max": 100}}, "budget min 900 is above max 100"),
        ({"fit_preference": "baggy"}, "fit_preference"),
        ({"favourite_colours": ["navy"], "avoided_colours": ["Navy"]}, "both favourite and avoided: navy"),
    ],
)
def test_bad_profiles_get_422_with_a_reason_and_nothing_is_written(
    client: TestClient, new_user: Callable[..., Session], body: dict[str, Any], reason: str
) -> None:
    me = new_user()
    before = client.get(f"{API}/users/me/profile", headers=me.headers).json()
    response = client.patch(f"{API}/users/me/profile", json=body, headers=me.headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert reason in response.json()["detail"]
    assert client.get(f"{API}/users/me/profile", headers=me.headers).json() == before


def test_malformed_json_is_422(client: TestClient, new_user: Callable[..., Session]) -> None:
    me = new_user()
    response = client.patch(
        f"{API}/users/me/profile",
        content=b'{"locale": ',
        headers={**me.headers, "content-type": "application/json"},
    )
    assert response.status_code == 422
    assert "JSON" in response.json()["detail"]


def test_oversized_bodies_are_refused_before_parsing(
    client: TestClient, new_user: Callable[..., Session]
) -> None:
    me = new_user()
    huge = {"home_city": "x" * (2 * 1024 * 1024)}
    response = client.patch(f"{API}/users/me/profile", json=huge, headers=me.headers)
    assert response.status_code == 413
    assert client.get(f"{API}/users/me/profile", headers=me.headers).json()["home_city"] is None
