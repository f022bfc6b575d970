from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession

from api.main import create_app
from core.config import Settings
from storage.sql.models import Product
from tests.conftest import TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD, TEST_WEBHOOK_SECRET, make_settings

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


PERSON_PASSWORD = "password-123"


def sign_up(client: TestClient) -> Session:
    """A new person with a fresh e-mail address, signed up through the public route and signed in."""
    email = f"person-{uuid.uuid4().hex[:10]}@example.com"
    response = client.post(f"{API}/auth/signup", json={"email": email, "password": PERSON_PASSWORD})
    assert response.status_code == 201, response.text
    return sign_in(client, email, PERSON_PASSWORD)


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


# --- a shop: the first 300 products of the shipped catalog --------------------------------------


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = make_settings(
        tmp_path_factory.mktemp("shop"),
        catalog={"webhook_secret": TEST_WEBHOOK_SECRET, "load_on_start": True, "limit": 300},
    )
    yield from build_client(settings)


#: Catalogue products with real photos (the shop loads the first 300 rows, which have none).
RED_TEE = "1529"  # "Ferrari Tee", Tshirts
BACKPACK = "1526"  # "Puma Big Cat Backpack Black", Backpacks


def add_products_with_photos(app: Any) -> None:
    """``app``: the FastAPI app (``client.app``) whose database gets the two products."""
    db = app.state.stores.db
    rows = [
        (RED_TEE, "Ferrari Tee", "Topwear", "Tshirts"),
        (BACKPACK, "Puma Big Cat Backpack", "Bags", "Backpacks"),
    ]
    with db.session() as session:
        for product_id, name, sub_category, article_type in rows:
            if session.get(Product, product_id) is None:
                session.add(
                    Product(id=product_id, source="test", name=name, sub_category=sub_category,
                            article_type=article_type, image=f"thumbnails/{product_id}.jpg")
                )  # fmt: skip


@pytest.fixture(scope="module")
def shop_admin(shop: TestClient) -> Session:
    return sign_in(shop, TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD)


@pytest.fixture
def shopper(shop: TestClient, shop_admin: Session) -> Session:
    """A new customer account per test, so one test's alerts or feedback never show in another's."""
    email = f"shopper-{uuid.uuid4().hex[:8]}@example.com"
    body = {"email": email, "password": "password-123", "role": "user"}
    assert shop.post(f"{API}/users", json=body, headers=shop_admin.headers).status_code == 201
    return sign_in(shop, email, "password-123")


# --- chat -------------------------------------------------------------------------------------

SSE = {"Accept": "text/event-stream"}


@dataclass
class SSEEvent:
    event: str
    data: dict[str, Any]
    id: str | None


def parse_sse(text: str) -> list[SSEEvent]:
    """The events of a Server-Sent Events body (comments and keep-alives skipped)."""
    events = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if line and not line.startswith(":"):
                name, _, value = line.partition(": ")
                fields[name] = value
        if "event" in fields:
            events.append(SSEEvent(fields["event"], json.loads(fields["data"]), fields.get("id")))
    return events


def read_sse_until(lines: Iterator[str], done: Callable[[SSEEvent], bool]) -> list[SSEEvent]:
    """Read a live stream line by line until an event satisfies ``done``."""
    events: list[SSEEvent] = []
    block: list[str] = []
    for line in lines:
        if line:
            block.append(line)
            continue
        events.extend(parse_sse("\n".join(block)))
        block = []
        if events and done(events[-1]):
            return events
    raise AssertionError(f"the stream ended first: {events}")


def wait_for_comment(lines: Iterator[str], comment: str) -> None:
    for line in lines:
        if line == f": {comment}":
            return
    raise AssertionError(f"the stream ended before ': {comment}'")


def say(client: TestClient, who: Session, text: str, session_id: str | None = None) -> dict[str, Any]:
    """One chat turn in JSON mode."""
    response = client.post(
        f"{API}/chat", json={"message": text, "session_id": session_id}, headers=who.headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def replies(turn: dict[str, Any]) -> list[str]:
    return [m["text"] for m in turn["messages"]]


def receive_until(ws: WebSocketTestSession, event: str) -> list[dict[str, Any]]:
    frames = []
    while True:
        frame: dict[str, Any] = ws.receive_json()
        frames.append(frame)
        if frame["event"] == event:
            return frames


def names(events: list[Any]) -> list[str]:
    return [e.event if hasattr(e, "event") else e["event"] for e in events]
