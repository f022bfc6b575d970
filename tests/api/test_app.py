"""Probes, metrics, request ids, error format and the OpenAPI page."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import API, Session

pytestmark = pytest.mark.unit


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_every_store(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    checks = response.json()["checks"]
    assert set(checks) == {"sql", "cache", "objects", "events", "vectors", "graph"}
    assert all(check["ok"] for check in checks.values())


def test_readyz_reports_a_broken_store(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable() -> bool:
        raise ConnectionError("database is down")

    monkeypatch.setattr(client.app.state.stores.db, "ping", unreachable)  # type: ignore[attr-defined]
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["sql"]["ok"] is False
    assert response.json()["checks"]["sql"]["error"] == "ConnectionError: database is down"
    assert response.json()["checks"]["cache"]["ok"] is True
    assert response.json()["down"] == ["sql"]


def test_readyz_names_a_store_whose_ping_says_no(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Kafka bus's ping answers False rather than raising: the probe still says which store."""
    monkeypatch.setattr(client.app.state.stores.events, "ping", lambda: False)  # type: ignore[attr-defined]
    response = client.get("/readyz")
    assert response.status_code == 200  # degraded: events wait in the outbox
    assert response.json()["status"] == "degraded"
    assert response.json()["down"] == ["events"]
    assert response.json()["checks"]["events"]["error"] == "the events store does not answer"


def test_readyz_reports_a_graph_that_does_not_answer(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client.app.state.recommend.graph, "ping", lambda: False)  # type: ignore[attr-defined]
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["graph"] == {
        "ok": False,
        "ms": response.json()["checks"]["graph"]["ms"],
        "error": "the embedded knowledge graph does not answer",
    }


def test_openapi_and_docs_are_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "Innovation-kun"
    assert f"{API}/users/me/profile" in spec["paths"]
    assert "OAuth2PasswordBearer" in spec["components"]["securitySchemes"]
    assert client.get("/docs").status_code == 200


def test_metrics_count_requests_by_route_template(client: TestClient, admin: Session) -> None:
    client.get(f"{API}/users/{admin.id}", headers=admin.headers)
    text = client.get("/metrics").text
    assert 'http_requests_total{method="GET",route="/api/v1/users/{user_id}",status="200"}' in text
    assert admin.id not in text


def test_request_ids_are_echoed_or_generated(client: TestClient) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    generated = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"}).headers["x-request-id"]
    assert generated != "bad id with spaces"
    assert len(generated) == 32


def test_errors_are_problem_json_with_the_request_id(client: TestClient) -> None:
    response = client.get(f"{API}/users/me", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 401
    assert body["title"] == "Unauthorized"
    assert body["request_id"] == "req-42"
    assert body["detail"].startswith("not signed in")


def test_unknown_routes_are_404_problems(client: TestClient) -> None:
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.json()["status"] == 404


def test_access_log_is_one_json_line_with_the_request_id(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    client.get("/healthz", headers={"X-Request-ID": "log-test"})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    entry = next(line for line in lines if line.get("request_id") == "log-test")
    assert entry["msg"] == "request"
    assert entry["status"] == 200
    assert entry["path"] == "/healthz"
    assert logging.getLogger().handlers  # configured by the app


def test_an_unhandled_error_is_a_500_problem_with_the_request_id(client: TestClient) -> None:
    @client.app.get("/boom")  # type: ignore[attr-defined,untyped-decorator]
    def boom() -> None:
        raise RuntimeError("bug")

    response = client.get("/boom", headers={"X-Request-ID": "req-500"})
    assert response.status_code == 500
    assert response.json()["request_id"] == "req-500"
    assert "bug" not in response.text
