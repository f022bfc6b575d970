"""Kill Neo4j under a running API: recommendations degrade instead of failing, nothing the API
acknowledged is lost, and the graph catches up with SQL by itself once the server is back.

The graph is derived data: every person edge in it (a like, a purchase) is first an interaction
row in SQL. So an interaction recorded while Neo4j is down is acknowledged (201) from SQL alone,
and the recommender re-syncs the graph from SQL when it answers again (``RecommendService._resync``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from graphs.schema import NodeLabel, RelType
from tests.api.conftest import API, Session, build_client, sign_up
from tests.conftest import TEST_WEBHOOK_SECRET, make_settings
from tests.faults.bounds import bounded, wait_for
from tests.faults.servers import PrivateServer, private_server

pytestmark = [pytest.mark.integration, pytest.mark.faults]

logger = logging.getLogger(__name__)


@pytest.fixture(scope="module")
def neo4j_server() -> Iterator[PrivateServer]:
    with private_server("neo4j") as server:
        yield server


@pytest.fixture(scope="module")
def api(neo4j_server: PrivateServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    env = neo4j_server.env
    settings = make_settings(
        tmp_path_factory.mktemp("neo4j-outage"),
        catalog={"webhook_secret": TEST_WEBHOOK_SECRET, "load_on_start": True, "limit": 300},
        graph={
            "backend": "neo4j",
            "neo4j_url": env["IK_TEST_NEO4J_URL"],
            "neo4j_user": env.get("IK_TEST_NEO4J_USER", "neo4j"),
            "neo4j_password": env["IK_TEST_NEO4J_PASSWORD"],
        },
    )
    yield from build_client(settings)


def outfits(client: TestClient, user: Session, **request: Any) -> Any:
    body = {"count": 2, "season": "fall", "department": "men", **request}
    return client.post(f"{API}/recommendations/outfits", json=body, headers=user.headers)


def interact(client: TestClient, user: Session, product_id: str, kind: str) -> Any:
    body = {"product_id": product_id, "kind": kind}
    return client.post(f"{API}/recommendations/interactions", json=body, headers=user.headers)


def user_edges(client: TestClient, user_id: str, rel: RelType) -> set[str]:
    """The products the graph links the person to by ``rel`` (read straight from Neo4j)."""
    graph = client.app.state.recommend.graph  # type: ignore[attr-defined]
    rows = graph.query(
        f"MATCH (u:{NodeLabel.USER} {{id: $user}})-[:{rel}]->(p:{NodeLabel.PRODUCT}) RETURN p.id AS id",
        {"user": user_id},
    )
    return {row["id"] for row in rows}


def test_the_api_survives_a_neo4j_crash_and_the_graph_catches_up(
    api: TestClient, neo4j_server: PrivateServer
) -> None:
    client = api
    timings: dict[str, float] = {}
    user = sign_up(client)

    # --- healthy ----------------------------------------------------------------------------
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["graph"]["ok"] is True
    healthy = outfits(client, user, occasion="everyday")
    assert healthy.status_code == 200, healthy.text
    assert healthy.json()["degraded"] == []
    products = list(dict.fromkeys(i["product_id"] for o in healthy.json()["outfits"] for i in o["items"]))
    assert len(products) >= 4, products
    liked_before, unliked_during, liked_during, bought_during = products[:4]
    assert interact(client, user, liked_before, "like").status_code == 201
    assert interact(client, user, unliked_during, "like").status_code == 201
    assert user_edges(client, user.id, RelType.LIKED) == {liked_before, unliked_during}

    # --- Neo4j dies --------------------------------------------------------------------------
    started = time.monotonic()
    neo4j_server.kill()
    timings["kill_s"] = time.monotonic() - started

    health, timings["healthz_s"] = bounded(lambda: client.get("/healthz"))
    assert health.status_code == 200
    ready, timings["readyz_down_s"] = bounded(lambda: client.get("/readyz"))
    assert ready.status_code == 200, ready.text  # degraded, still serving
    assert ready.json()["status"] == "degraded"
    assert ready.json()["down"] == ["graph"]
    assert "neo4j" in ready.json()["checks"]["graph"]["error"]
    assert ready.json()["checks"]["sql"]["ok"] is True

    # Recommendations come back without the graph, correct but flagged, and are not cached.
    first, timings["recommend_first_down_s"] = bounded(lambda: outfits(client, user, occasion="work"))
    assert first.status_code == 200, first.text
    assert first.json()["degraded"] == ["graph"]
    assert first.json()["outfits"], first.json()
    assert "graph" not in first.json()["sources"]
    again, timings["recommend_again_down_s"] = bounded(lambda: outfits(client, user, occasion="work"))
    assert again.status_code == 200
    assert again.json()["cached"] is False
    assert again.json()["degraded"] == ["graph"]
    similar, timings["similar_down_s"] = bounded(
        lambda: client.get(f"{API}/recommendations/similar/{liked_before}", headers=user.headers)
    )
    assert similar.status_code == 200, similar.text

    # Interactions are acknowledged from SQL, the truth, while the graph cannot take them.
    for product_id, kind in ((unliked_during, "unlike"), (liked_during, "like"), (bought_during, "purchase")):
        recorded, took = bounded(lambda p=product_id, k=kind: interact(client, user, p, k))  # type: ignore[misc]
        assert recorded.status_code == 201, recorded.text
        timings[f"interaction_{kind}_down_s"] = took

    # A chat turn still gets a polite reply.
    turn, timings["chat_down_s"] = bounded(
        lambda: client.post(f"{API}/chat", json={"message": "推荐一套休闲的衣服"}, headers=user.headers), 30.0
    )
    assert turn.status_code == 200, turn.text
    assert any(m["text"].strip() for m in turn.json()["messages"])

    # --- Neo4j comes back; the API is not restarted -----------------------------------------
    started = time.monotonic()
    neo4j_server.start()
    timings["restart_s"] = time.monotonic() - started
    timings["readyz_back_s"] = wait_for(
        "/readyz ready", lambda: bounded(lambda: client.get("/readyz"))[0].json()["status"] == "ready"
    )
    timings["recommend_full_s"] = wait_for(
        "recommendations with the graph again",
        lambda: bounded(lambda: outfits(client, user, occasion="work"))[0].json()["degraded"] == [],
    )
    # What was acknowledged during the outage is in the graph now, and the undone like is gone.
    assert user_edges(client, user.id, RelType.LIKED) == {liked_before, liked_during}
    assert user_edges(client, user.id, RelType.BOUGHT) == {bought_during}
    assert user_edges(client, user.id, RelType.OWNS) == {bought_during}
    # New writes go straight to the graph again.
    later = products[4] if len(products) > 4 else liked_before
    assert interact(client, user, later, "purchase").status_code == 201
    assert later in user_edges(client, user.id, RelType.OWNS)
    logger.warning("neo4j outage timings: %s", {key: round(value, 2) for key, value in timings.items()})
