"""The API on its production store adapters: the real PostgreSQL, Redis, S3, search and Neo4j servers.

(The production environment itself also demands a Milvus server, which these machines cannot run,
so the settings say ``test``; ``tests/core/test_config.py`` covers the production checks.)"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import API, build_client, receive_until, replies, say, sign_in
from tests.conftest import (
    TEST_ADMIN_EMAIL,
    TEST_ADMIN_PASSWORD,
    TEST_SECRET,
    TEST_WEBHOOK_SECRET,
    make_settings,
    require_service,
    reset_postgres,
)
from tools.catalog.webhook import signed_headers

pytestmark = pytest.mark.integration


@pytest.fixture
def production_client(tmp_path: Path) -> Iterator[TestClient]:
    postgres = require_service("IK_TEST_POSTGRES_URL", "PostgreSQL")
    redis = require_service("IK_TEST_REDIS_URL", "Redis")
    s3_endpoint = require_service("IK_TEST_S3_ENDPOINT", "S3 server")
    reset_postgres(postgres)
    settings = make_settings(
        tmp_path,
        auth={
            "secret_key": TEST_SECRET,
            "first_admin_email": TEST_ADMIN_EMAIL,
            "first_admin_password": TEST_ADMIN_PASSWORD,
        },
        sql={"backend": "postgresql", "url": postgres},
        # a fresh key prefix per test keeps runs on the shared Redis apart
        cache={"backend": "redis", "redis_url": redis, "key_prefix": f"ik-test-{uuid.uuid4().hex[:8]}:"},
        objects={
            "backend": "s3",
            "s3_endpoint": s3_endpoint,
            "s3_access_key": require_service("IK_TEST_S3_ACCESS_KEY", "S3 access key"),
            "s3_secret_key": require_service("IK_TEST_S3_SECRET_KEY", "S3 secret key"),
            "s3_bucket": f"ik-test-{uuid.uuid4().hex[:8]}",
            "s3_secure": False,
        },
        search={
            "backend": "elasticsearch",
            "elasticsearch_url": require_service("IK_TEST_SEARCH_URL", "the search server"),
            "elasticsearch_index": f"ik-test-{uuid.uuid4().hex[:8]}",
            "semantic": False,
        },
        catalog={"webhook_secret": TEST_WEBHOOK_SECRET, "load_on_start": True, "limit": 200},
        graph={
            "backend": "neo4j",
            "neo4j_url": require_service("IK_TEST_NEO4J_URL", "Neo4j"),
            "neo4j_user": os.environ.get("IK_TEST_NEO4J_USER", "neo4j"),
            "neo4j_password": require_service("IK_TEST_NEO4J_PASSWORD", "Neo4j password"),
        },
    )
    yield from build_client(settings)


def test_sign_up_sign_in_and_profile_on_the_production_stack(production_client: TestClient) -> None:
    client = production_client
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert all(check["ok"] for check in ready.json()["checks"].values())

    body = {"email": "prod@example.com", "password": "password-123", "locale": "zh"}
    assert client.post(f"{API}/auth/signup", json=body).status_code == 201
    me = sign_in(client, "prod@example.com", "password-123")
    response = client.patch(
        f"{API}/users/me/profile",
        json={"measurements": {"height": {"value": 64, "unit": "in"}}, "favourite_colours": ["藏青色"]},
        headers=me.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["height_cm"] == 162.56
    assert response.json()["favourite_colours"] == ["藏青色"]

    rotated = client.post(f"{API}/auth/refresh", json={"refresh_token": me.refresh_token})
    assert rotated.status_code == 200
    assert client.post(f"{API}/auth/refresh", json={"refresh_token": me.refresh_token}).status_code == 401

    admin = sign_in(client, TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD)
    listing = client.get(f"{API}/users", headers=admin.headers).json()
    assert {u["email"] for u in listing["items"]} == {TEST_ADMIN_EMAIL, "prod@example.com"}


def test_sign_in_throttling_is_shared_through_redis(production_client: TestClient) -> None:
    client = production_client
    for _ in range(10):
        client.post(f"{API}/auth/token", data={"username": TEST_ADMIN_EMAIL, "password": "wrong-password"})
    response = client.post(
        f"{API}/auth/token", data={"username": TEST_ADMIN_EMAIL, "password": "wrong-password"}
    )
    assert response.status_code == 429
    redis = client.app.state.stores.cache  # type: ignore[attr-defined]
    assert type(redis).__name__ == "RedisCache"


def test_chat_memory_and_handoff_on_postgresql(production_client: TestClient) -> None:
    """The checkpointer and session registry on PostgreSQL: a pending question survives between
    requests, and support's reply reaches the person's socket."""
    client = production_client
    assert (
        client.post(
            f"{API}/auth/signup", json={"email": "chat@example.com", "password": "password-123"}
        ).status_code
        == 201
    )
    me = sign_in(client, "chat@example.com", "password-123")
    session_id = say(client, me, "What size should I order?")["session_id"]
    assert "height 170 cm" in replies(say(client, me, "170 cm, 60 kg", session_id))[0]

    staff = sign_in(client, TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD)
    with client.websocket_connect(f"{API}/chat/ws?token={me.access_token}") as ws:
        ws.receive_json()
        ws.send_json({"type": "message", "text": "我想找人工客服", "session_id": session_id})
        assert [
            f["data"]["waiting_for_support"] for f in receive_until(ws, "done") if f["event"] == "handoff"
        ] == [True]
        reply = client.post(
            f"{API}/support/sessions/{session_id}/reply",
            json={"text": "您好，我是客服小美。"},
            headers=staff.headers,
        )
        assert reply.status_code == 200, reply.text
        assert receive_until(ws, "message")[-1]["data"]["text"] == "您好，我是客服小美。"


def test_catalogue_search_and_a_signed_stock_update_on_the_production_stack(
    production_client: TestClient,
) -> None:
    client = production_client
    page = client.get(f"{API}/catalog/search", params={"q": "藏青色衬衫", "mode": "fulltext"}).json()
    assert page["products"], page
    first = page["products"][0]
    assert first["colour"] == "Navy Blue"
    detail = client.get(f"{API}/catalog/products/{first['id']}").json()
    size = detail["skus"][0]["size"]
    body = json.dumps({"updates": [{"product_id": first["id"], "size": size, "stock": 0}]}).encode()
    headers = {
        **signed_headers(TEST_WEBHOOK_SECRET, body, delivery=uuid.uuid4().hex),
        "Content-Type": "application/json",
    }
    assert client.post(f"{API}/catalog/webhooks/inventory", content=body, headers=headers).status_code == 200
    again = client.get(
        f"{API}/catalog/search", params={"q": "藏青色衬衫", "mode": "fulltext", "limit": 50}
    ).json()
    updated = next(p for p in again["products"] if p["id"] == first["id"])
    assert size not in updated["sizes_available"]


def test_outfits_and_a_like_on_the_production_stack(production_client: TestClient) -> None:
    """Outfits over PostgreSQL, the Redis cache and the Neo4j graph; a like reaches all three."""
    client = production_client
    shopper = sign_in(client, TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD)
    body = {"season": "fall", "department": "men", "count": 2}
    first = client.post(f"{API}/recommendations/outfits", json=body, headers=shopper.headers).json()
    assert first["outfits"], first
    assert client.post(f"{API}/recommendations/outfits", json=body, headers=shopper.headers).json()["cached"]
    liked = first["outfits"][0]["items"][0]["product_id"]
    response = client.post(
        f"{API}/recommendations/interactions",
        json={"product_id": liked, "kind": "like"},
        headers=shopper.headers,
    )
    assert response.status_code == 201, response.text
    after = client.post(f"{API}/recommendations/outfits", json=body, headers=shopper.headers).json()
    assert after["cached"] is False
    graph = client.app.state.recommend.graph  # type: ignore[attr-defined]
    assert graph.backend == "neo4j"
    me = client.get(f"{API}/users/me", headers=shopper.headers).json()["id"]
    rows = graph.query("MATCH (:User {id: $u})-[:LIKED]->(p:Product) RETURN p.id AS id", {"u": me})
    assert rows == [{"id": liked}]
