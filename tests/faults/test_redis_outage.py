"""Redis killed under the API: it only holds copies and counters, so every feature keeps working
(slower, unthrottled, uncached), what was acknowledged meanwhile is kept, and caching and sign-in
throttling come back by themselves when Redis does."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.routers.auth import LOGIN_ATTEMPTS
from tests.api.conftest import API, PERSON_PASSWORD, Session, build_client, sign_up
from tests.conftest import TEST_WEBHOOK_SECRET, make_settings
from tests.faults.bounds import answered, wait_for
from tests.faults.servers import PrivateServer, private_server

pytestmark = [pytest.mark.integration, pytest.mark.faults]

RECOVERY_S = 30.0
OUTFITS = {"season": "fall", "department": "men", "count": 2}


@pytest.fixture(scope="module")
def redis_server() -> Iterator[PrivateServer]:
    with private_server("redis") as server:
        yield server


@pytest.fixture
def api(redis_server: PrivateServer, tmp_path: Path) -> Iterator[TestClient]:
    redis_server.start()  # idempotent; restarts it if a failed test left it dead
    settings = make_settings(
        tmp_path,
        cache={
            "backend": "redis",
            "redis_url": redis_server.env["IK_TEST_REDIS_URL"],
            "key_prefix": f"ik-fault-{uuid.uuid4().hex[:8]}:",
        },
        catalog={"webhook_secret": TEST_WEBHOOK_SECRET, "load_on_start": True, "limit": 300},
    )
    yield from build_client(settings)


def wrong_password(client: TestClient, email: str) -> int:
    form = {"username": email, "password": "not-the-password"}
    return int(client.post(f"{API}/auth/token", data=form).status_code)


def test_the_api_keeps_working_without_redis_and_recovers_its_caches(
    api: TestClient, redis_server: PrivateServer
) -> None:
    me: Session = sign_up(api)
    email = me.email
    first = api.post(f"{API}/recommendations/outfits", json=OUTFITS, headers=me.headers).json()
    assert first["outfits"]
    assert api.post(f"{API}/recommendations/outfits", json=OUTFITS, headers=me.headers).json()["cached"]

    redis_server.kill()

    assert api.get("/healthz").status_code == 200
    ready = answered(api.get, "/readyz")
    assert ready.status_code == 200  # degraded, still serving
    assert ready.json()["status"] == "degraded"
    checks = ready.json()["checks"]
    assert checks["cache"]["ok"] is False
    assert checks["sql"]["ok"] is True

    # Sign-in works (unthrottled), and so do search, chat, outfits and the wardrobe.
    assert answered(
        api.post, f"{API}/auth/token", data={"username": email, "password": PERSON_PASSWORD}
    ).is_success
    assert all(wrong_password(api, email) == 401 for _ in range(LOGIN_ATTEMPTS + 1))
    page = answered(api.get, f"{API}/catalog/search", params={"q": "navy shirt", "mode": "fulltext"})
    assert page.status_code == 200, page.text
    assert page.json()["products"]
    turn = answered(api.post, f"{API}/chat", json={"message": "show me a navy shirt"}, headers=me.headers)
    assert turn.status_code == 200, turn.text
    assert turn.json()["messages"][0]["text"]
    outfits = answered(api.post, f"{API}/recommendations/outfits", json=OUTFITS, headers=me.headers)
    assert outfits.status_code == 200
    assert outfits.json()["outfits"]
    assert outfits.json()["cached"] is False

    # Writes acknowledged while Redis is down are kept (their truth is in SQL).
    liked = outfits.json()["outfits"][0]["items"][0]["product_id"]
    like = answered(
        api.post,
        f"{API}/recommendations/interactions",
        json={"product_id": liked, "kind": "like"},
        headers=me.headers,
    )
    assert like.status_code == 201, like.text
    item = answered(
        api.post,
        f"{API}/wardrobe/items/manual",
        json={"name": "navy blazer", "category": "Blazers", "colour": "Navy Blue"},
        headers=me.headers,
    )
    assert item.status_code == 201, item.text

    redis_server.start()
    wait_for("the cache back", lambda: api.get("/readyz").json()["checks"]["cache"]["ok"], RECOVERY_S)

    behaviour = api.app.state.recommend.behaviour  # type: ignore[attr-defined]
    assert [(h.product_id, h.kind.value) for h in behaviour.history(me.id)][:1] == [(liked, "like")]
    items = api.get(f"{API}/wardrobe/items", headers=me.headers).json()
    assert [i["id"] for i in items] == [item.json()["id"]]

    # Caching and throttling are back without restarting the API.
    api.post(f"{API}/recommendations/outfits", json=OUTFITS, headers=me.headers)
    assert api.post(f"{API}/recommendations/outfits", json=OUTFITS, headers=me.headers).json()["cached"]
    statuses = [wrong_password(api, email) for _ in range(LOGIN_ATTEMPTS + 1)]
    assert statuses[-1] == 429, statuses
