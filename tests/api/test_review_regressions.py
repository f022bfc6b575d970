"""Inputs and sequences that once produced a 500 or a wrong result (found in review)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import API, Session, build_client, sign_in
from tests.conftest import TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD, make_settings

pytestmark = pytest.mark.unit


def test_nul_characters_are_refused_not_stored(client: TestClient, new_user: Callable[..., Session]) -> None:
    # PostgreSQL cannot store NUL; it must be a 4xx on every backend, before any query.
    response = client.post(
        f"{API}/auth/token", data={"username": "a\x00b@example.com", "password": "whatever1"}
    )
    assert response.status_code == 401
    signup = {"email": "v@example.com", "password": "password123", "full_name": "x\x00"}
    assert client.post(f"{API}/auth/signup", json=signup).status_code == 422
    me = new_user()
    assert (
        client.patch(f"{API}/users/me", json={"full_name": "a\x00b"}, headers=me.headers).status_code == 422
    )
    response = client.patch(f"{API}/users/me/profile", json={"home_city": "a\x00b"}, headers=me.headers)
    assert response.status_code == 422


@pytest.mark.parametrize("shoe", [1e308, {"value": 1e308, "system": "UK"}, {"value": 5000, "system": "CN"}])
def test_absurd_shoe_sizes_are_422(
    client: TestClient, new_user: Callable[..., Session], shoe: object
) -> None:
    me = new_user()
    response = client.patch(
        f"{API}/users/me/profile", json={"measurements": {"shoe_size": shoe}}, headers=me.headers
    )
    assert response.status_code == 422


def test_infant_cn_shoe_sizes_in_millimetres(client: TestClient, new_user: Callable[..., Session]) -> None:
    me = new_user()
    body = {"measurements": {"shoe_size": {"value": 95, "system": "CN"}}}
    response = client.patch(f"{API}/users/me/profile", json=body, headers=me.headers)
    assert response.status_code == 200, response.text
    assert response.json()["shoe_size_eu"] == 16.5


def test_a_partial_budget_keeps_the_rest(client: TestClient, new_user: Callable[..., Session]) -> None:
    me = new_user()
    client.patch(
        f"{API}/users/me/profile",
        json={"budget": {"min": 100, "max": 500, "currency": "USD"}},
        headers=me.headers,
    )
    response = client.patch(f"{API}/users/me/profile", json={"budget": {"max": 800}}, headers=me.headers)
    assert response.json()["budget"] == {"min": 100, "max": 800, "currency": "USD"}
    crossed = client.patch(f"{API}/users/me/profile", json={"budget": {"max": 50}}, headers=me.headers)
    assert crossed.status_code == 422
    assert "budget min 100 is above max 50" in crossed.json()["detail"]
    cleared = client.patch(f"{API}/users/me/profile", json={"budget": None}, headers=me.headers)
    assert cleared.json()["budget"] == {"min": None, "max": None, "currency": None}


def test_a_budget_without_a_currency_defaults_to_cny(
    client: TestClient, new_user: Callable[..., Session]
) -> None:
    me = new_user()
    response = client.patch(f"{API}/users/me/profile", json={"budget": {"max": 300}}, headers=me.headers)
    assert response.json()["budget"] == {"min": None, "max": 300, "currency": "CNY"}


@pytest.mark.parametrize(
    "body",
    [
        {"preferred_units": None},
        {"preferred_units": {"length": None}},
        {"consents": None},
        {"consents": {"marketing": None}},
    ],
)
def test_fields_that_cannot_be_cleared_refuse_null(
    client: TestClient, new_user: Callable[..., Session], body: dict[str, object]
) -> None:
    me = new_user()
    response = client.patch(f"{API}/users/me/profile", json=body, headers=me.headers)
    assert response.status_code == 422
    assert "cannot" in response.json()["detail"]


def test_huge_offsets_are_422(client: TestClient, admin: Session) -> None:
    response = client.get(f"{API}/users", params={"offset": "99999999999999999999"}, headers=admin.headers)
    assert response.status_code == 422


def test_the_last_active_admin_cannot_be_removed(
    client: TestClient, admin: Session, new_user: Callable[..., Session]
) -> None:
    other = new_user("admin")
    assert (
        client.patch(f"{API}/users/{other.id}", json={"is_active": False}, headers=admin.headers).status_code
        == 200
    )
    # a disabled admin does not count: deleting oneself now would leave nobody able to sign in as admin
    response = client.delete(f"{API}/users/me", headers=admin.headers)
    assert response.status_code == 409


def test_disabling_or_demoting_the_last_active_admin_is_refused(
    client: TestClient, admin: Session, new_user: Callable[..., Session]
) -> None:
    other, third = new_user("admin"), new_user("admin")
    # other disables the first admin: fine, other is still an active admin
    assert (
        client.patch(f"{API}/users/{admin.id}", json={"is_active": False}, headers=other.headers).status_code
        == 200
    )
    assert (
        client.patch(f"{API}/users/{third.id}", json={"role": "user"}, headers=other.headers).status_code
        == 200
    )
    # now `other` is the only active admin; nobody may take that away
    lone = client.patch(f"{API}/users/{other.id}", json={"role": "support"}, headers=other.headers)
    assert lone.status_code == 409


def test_a_restart_with_a_disabled_first_admin_still_starts(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    for client in build_client(settings):
        admin = sign_in(client, TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD)
        response = client.post(
            f"{API}/users",
            json={"email": "boss@example.com", "password": "password-123", "role": "admin"},
            headers=admin.headers,
        )
        boss = sign_in(client, response.json()["email"], "password-123")
        client.patch(f"{API}/users/{admin.id}", json={"is_active": False}, headers=boss.headers)
        client.patch(f"{API}/users/{boss.id}", json={"is_active": False}, headers=admin.headers)
    for client in build_client(settings):  # the lifespan must not crash on the existing account
        assert client.get("/healthz").status_code == 200
