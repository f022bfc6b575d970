from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from core.config import Settings
from tests.conftest import TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD, make_settings

API = "/api/v1"


@dataclass
class Session:
    """A signed-in person: their id, role and the headers that prove it."""

    id: str
    email: str
    role: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def sign_in(client: TestClient, email: str, password: str) -> Session:
    response = client.post(f"{API}/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    tokens = response.json()
    me = client.get(f"{API}/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
    return Session(me["id"], me["email"], me["role"], tokens["access_token"], tokens["refresh_token"])


def build_client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    yield from build_client(make_settings(tmp_path))


@pytest.fixture
def admin(client: TestClient) -> Session:
    return sign_in(client, TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD)


@pytest.fixture
def new_user(client: TestClient, admin: Session) -> Callable[..., Session]:
    """Create an account with the given role (through the admin API) and sign it in."""
    counter = iter(range(10_000))

    def make(role: str = "user", **fields: Any) -> Session:
        email = fields.pop("email", f"{role}{next(counter)}@example.com")
        body = {"email": email, "password": "password-123", "role": role, **fields}
        response = client.post(f"{API}/users", json=body, headers=admin.headers)
        assert response.status_code == 201, response.text
        return sign_in(client, email, "password-123")

    return make
