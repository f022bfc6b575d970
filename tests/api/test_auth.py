from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import API, Session, build_client, sign_in
from tests.conftest import TEST_SECRET, make_settings

pytestmark = pytest.mark.unit


def test_signup_then_sign_in(client: TestClient) -> None:
    response = client.post(
        f"{API}/auth/signup", json={"email": "Mei@Example.com", "password": "password-123", "locale": "zh"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["role"] == "user"
    assert "password" not in response.text
    session = sign_in(client, "mei@example.com", "password-123")
    assert session.role == "user"
    profile = client.get(f"{API}/users/me/profile", headers=session.headers).json()
    assert profile["locale"] == "zh"


def test_signup_cannot_choose_a_role(client: TestClient) -> None:
    response = client.post(
        f"{API}/auth/signup", json={"email": "x@example.com", "password": "password-123", "role": "admin"}
    )
    assert response.status_code == 422
    assert "role" in response.json()["detail"]


def test_signup_with_a_taken_email_is_a_conflict(client: TestClient) -> None:
    body = {"email": "dup@example.com", "password": "password-123"}
    assert client.post(f"{API}/auth/signup", json=body).status_code == 201
    response = client.post(f"{API}/auth/signup", json=body)
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert "already exists" in response.json()["detail"]


def test_signup_can_be_turned_off(tmp_path: Path) -> None:
    for client in build_client(
        make_settings(
            tmp_path,
            auth={
                "secret_key": TEST_SECRET,
                "first_admin_password": "admin-password-for-tests",
                "allow_signup": False,
            },
        )
    ):
        response = client.post(
            f"{API}/auth/signup", json={"email": "a@example.com", "password": "password-123"}
        )
        assert response.status_code == 403


def test_wrong_password_is_401_and_repeated_failures_are_throttled(
    client: TestClient, admin: Session
) -> None:
    for _ in range(10):
        response = client.post(
            f"{API}/auth/token", data={"username": admin.email, "password": "wrong-password"}
        )
        assert response.status_code == 401
    response = client.post(f"{API}/auth/token", data={"username": admin.email, "password": "wrong-password"})
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0


def test_access_tokens_carry_role_and_expire(client: TestClient, admin: Session) -> None:
    claims = jwt.decode(admin.access_token, TEST_SECRET, algorithms=["HS256"], issuer="innovation-kun")
    assert claims["sub"] == admin.id
    assert claims["role"] == "admin"
    assert claims["type"] == "access"
    assert 0 < claims["exp"] - claims["iat"] <= 30 * 60


@pytest.mark.parametrize(
    "header",
    [
        "Bearer not-a-jwt",
        "Bearer "
        + jwt.encode(
            {"sub": "x", "type": "access"}, "another-secret-that-is-also-32-bytes-long", algorithm="HS256"
        ),
        "Basic dXNlcjpwYXNz",
    ],
)
def test_bad_tokens_are_401(client: TestClient, header: str) -> None:
    response = client.get(f"{API}/users/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_refresh_token_is_not_an_access_token(client: TestClient, admin: Session) -> None:
    response = client.get(f"{API}/users/me", headers={"Authorization": f"Bearer {admin.refresh_token}"})
    assert response.status_code == 401
    assert "expected a access token" in response.json()["detail"]


def test_refresh_rotates_and_reuse_revokes_the_family(client: TestClient, admin: Session) -> None:
    first = client.post(f"{API}/auth/refresh", json={"refresh_token": admin.refresh_token})
    assert first.status_code == 200
    rotated = first.json()["refresh_token"]
    assert rotated != admin.refresh_token
    # the old token is replayed (stolen?): refused, and the rotated one dies with it
    replay = client.post(f"{API}/auth/refresh", json={"refresh_token": admin.refresh_token})
    assert replay.status_code == 401
    assert "already used" in replay.json()["detail"]
    assert client.post(f"{API}/auth/refresh", json={"refresh_token": rotated}).status_code == 401


def test_logout_revokes_the_refresh_token(client: TestClient, new_user: Callable[..., Session]) -> None:
    user = new_user()
    response = client.post(
        f"{API}/auth/logout", json={"refresh_token": user.refresh_token}, headers=user.headers
    )
    assert response.status_code == 204
    assert client.post(f"{API}/auth/refresh", json={"refresh_token": user.refresh_token}).status_code == 401


def test_nobody_can_log_out_someone_else(client: TestClient, new_user: Callable[..., Session]) -> None:
    alice, bob = new_user(), new_user()
    response = client.post(
        f"{API}/auth/logout", json={"refresh_token": bob.refresh_token}, headers=alice.headers
    )
    assert response.status_code == 400
    assert client.post(f"{API}/auth/refresh", json={"refresh_token": bob.refresh_token}).status_code == 200


def test_disabling_an_account_locks_it_out_at_once(
    client: TestClient, admin: Session, new_user: Callable[..., Session]
) -> None:
    user = new_user()
    assert (
        client.patch(f"{API}/users/{user.id}", json={"is_active": False}, headers=admin.headers).status_code
        == 200
    )
    assert client.get(f"{API}/users/me", headers=user.headers).status_code == 401
    assert client.post(f"{API}/auth/refresh", json={"refresh_token": user.refresh_token}).status_code == 401
    response = client.post(f"{API}/auth/token", data={"username": user.email, "password": "password-123"})
    assert response.status_code == 401


def test_changing_the_password_signs_out_other_devices(
    client: TestClient, new_user: Callable[..., Session]
) -> None:
    user = new_user()
    response = client.patch(
        f"{API}/users/me",
        json={"current_password": "password-123", "new_password": "new-password-456"},
        headers=user.headers,
    )
    assert response.status_code == 200
    assert client.post(f"{API}/auth/refresh", json={"refresh_token": user.refresh_token}).status_code == 401
    sign_in(client, user.email, "new-password-456")


def test_changing_the_password_needs_the_current_one(
    client: TestClient, new_user: Callable[..., Session]
) -> None:
    user = new_user()
    response = client.patch(
        f"{API}/users/me",
        json={"current_password": "guess", "new_password": "new-password-456"},
        headers=user.headers,
    )
    assert response.status_code == 400
    assert "current_password" in response.json()["detail"]
    half = client.patch(f"{API}/users/me", json={"new_password": "new-password-456"}, headers=user.headers)
    assert half.status_code == 422
