"""The console's reading side: who is talking, their profile and wardrobe, support's internal notes,
and the admin's figures, on the real app."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import API, Session, say
from tests.api.test_wardrobe import add, photo
from tools.support.metrics import bucket_quantile

pytestmark = [pytest.mark.unit, pytest.mark.timeout(180)]

UNKNOWN = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def user(new_user: Callable[..., Session]) -> Session:
    return new_user(full_name="Ada Lovelace")


@pytest.fixture
def staff(new_user: Callable[..., Session]) -> Session:
    return new_user("support")


def test_the_list_says_who_is_talking(client: TestClient, user: Session, staff: Session) -> None:
    session_id = say(client, user, "hello")["session_id"]
    listed = client.get(f"{API}/support/sessions", headers=staff.headers).json()
    mine = next(s for s in listed if s["id"] == session_id)
    assert (mine["user_id"], mine["user_email"], mine["user_name"]) == (user.id, user.email, "Ada Lovelace")
    assert mine["turns"] == 1
    waiting = client.get(f"{API}/support/sessions", params={"handoff_only": True}, headers=staff.headers)
    assert waiting.json() == []


def test_support_sees_the_person_profile_and_wardrobe(
    client: TestClient, user: Session, staff: Session
) -> None:
    updated = client.patch(
        f"{API}/users/me/profile",
        json={"measurements": {"height": {"value": 170, "unit": "cm"}}},
        headers=user.headers,
    )
    assert updated.status_code == 200, updated.text
    manual = client.post(
        f"{API}/wardrobe/items/manual",
        json={"name": "navy blazer", "category": "Blazers"},
        headers=user.headers,
    ).json()
    added = add(client, user, photo("Tshirts", 3))
    assert added.status_code == 201, added.text
    tee = added.json()["item"]
    session_id = say(client, user, "hello")["session_id"]

    person = client.get(f"{API}/support/sessions/{session_id}/person", headers=staff.headers)
    assert person.status_code == 200, person.text
    body = person.json()
    assert (body["user"]["id"], body["user"]["email"]) == (user.id, user.email)
    assert (body["profile"]["user_id"], body["profile"]["height_cm"]) == (user.id, 170)
    assert [i["id"] for i in body["wardrobe"]] == [tee["id"], manual["id"]]  # newest first

    # The person's photo reaches support through the session (the wardrobe route serves only the caller's).
    cutout = client.get(
        f"{API}/support/sessions/{session_id}/wardrobe/{tee['id']}/photo",
        params={"variant": "cutout"},
        headers=staff.headers,
    )
    assert cutout.status_code == 200, cutout.text
    assert cutout.headers["content-type"] in ("image/png", "image/jpeg")
    assert cutout.content
    assert client.get(f"{API}/wardrobe/items/{tee['id']}/photo", headers=staff.headers).status_code == 404
    no_photo = client.get(
        f"{API}/support/sessions/{session_id}/wardrobe/{manual['id']}/photo", headers=staff.headers
    )
    assert no_photo.status_code == 404


def test_a_photo_of_someone_else_is_not_served_through_a_session(
    client: TestClient, new_user: Callable[..., Session], user: Session, staff: Session
) -> None:
    other = new_user()
    item = add(client, other, photo("Tshirts", 4)).json()["item"]
    session_id = say(client, user, "hello")["session_id"]
    response = client.get(
        f"{API}/support/sessions/{session_id}/wardrobe/{item['id']}/photo", headers=staff.headers
    )
    assert response.status_code == 404


def test_notes_are_kept_oldest_first_and_never_reach_the_person(
    client: TestClient, user: Session, staff: Session, admin: Session
) -> None:
    session_id = say(client, user, "hello")["session_id"]
    url = f"{API}/support/sessions/{session_id}/notes"
    assert client.get(url, headers=staff.headers).json() == []
    first = client.post(url, json={"text": "  Asked about jeans sizes.  "}, headers=staff.headers)
    assert first.status_code == 201, first.text
    assert first.json()["text"] == "Asked about jeans sizes."
    assert (first.json()["author_id"], first.json()["author_email"]) == (staff.id, staff.email)
    second = client.post(url, json={"text": "Follow up on Monday"}, headers=admin.headers)
    assert second.status_code == 201

    notes = client.get(url, headers=staff.headers).json()
    assert [(n["text"], n["author_email"], n["session_id"]) for n in notes] == [
        ("Asked about jeans sizes.", staff.email, session_id),
        ("Follow up on Monday", admin.email, session_id),
    ]
    history = client.get(f"{API}/chat/sessions/{session_id}", headers=user.headers).json()["history"]
    assert not any("jeans sizes" in str(e) for e in history)


@pytest.mark.parametrize(
    "body",
    [{"text": ""}, {"text": "   "}, {"text": "z" * 2001}, {}, {"text": "ok", "private": True}],
    ids=["empty", "blank", "too-long", "missing", "unknown-field"],
)
def test_a_bad_note_is_422_with_the_reason(
    client: TestClient, user: Session, staff: Session, body: object
) -> None:
    session_id = say(client, user, "hello")["session_id"]
    response = client.post(f"{API}/support/sessions/{session_id}/notes", json=body, headers=staff.headers)
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith("invalid request")
    assert client.get(f"{API}/support/sessions/{session_id}/notes", headers=staff.headers).json() == []


def test_the_console_routes_are_for_staff_and_know_unknown_sessions(
    client: TestClient, user: Session, staff: Session
) -> None:
    session_id = say(client, user, "hello")["session_id"]
    for method, path in [
        ("GET", f"/support/sessions/{session_id}/person"),
        ("GET", f"/support/sessions/{session_id}/notes"),
        ("POST", f"/support/sessions/{session_id}/notes"),
        ("GET", f"/support/sessions/{session_id}/wardrobe/x/photo"),
        ("GET", "/admin/metrics"),
    ]:
        body = {"text": "hi"} if method == "POST" else None
        response = client.request(method, f"{API}{path}", json=body, headers=user.headers)
        assert response.status_code == 403, (path, response.text)
        assert "roles" in response.json()["detail"]
    for method, path in [
        ("GET", f"/support/sessions/{UNKNOWN}/person"),
        ("GET", f"/support/sessions/{UNKNOWN}/notes"),
        ("POST", f"/support/sessions/{UNKNOWN}/notes"),
        ("GET", "/support/sessions/not-a-session/notes"),
    ]:
        body = {"text": "hi"} if method == "POST" else None
        response = client.request(method, f"{API}{path}", json=body, headers=staff.headers)
        assert response.status_code == 404, (path, response.text)
        assert "no such chat session" in response.json()["detail"]


def test_admin_metrics_count_what_happened(
    client: TestClient, admin: Session, user: Session, staff: Session
) -> None:
    assert client.get(f"{API}/admin/metrics", headers=staff.headers).status_code == 403
    quiet = say(client, user, "hello")["session_id"]
    asked = say(client, user, "I want to talk to a real person")["session_id"]
    client.post(f"{API}/support/sessions/{quiet}/takeover", headers=staff.headers)
    for _ in range(3):
        assert client.get(f"{API}/support/sessions", headers=staff.headers).status_code == 200
    client.get(f"{API}/support/sessions/{UNKNOWN}", headers=staff.headers)

    response = client.get(f"{API}/admin/metrics", headers=admin.headers)
    assert response.status_code == 200, response.text
    figures = response.json()
    routes = {(r["method"], r["route"]): r for r in figures["routes"]}
    listing = routes[("GET", "/api/v1/support/sessions")]
    assert listing["by_status"]["200"] == listing["requests"] >= 3
    assert listing["p50_s"] is not None
    assert 0 < listing["p50_s"] <= listing["p95_s"]
    assert listing["error_rate"] == 0
    detail = routes[("GET", "/api/v1/support/sessions/{session_id}")]
    assert (detail["client_errors"], detail["server_errors"]) == (1, 0)
    assert figures["requests_total"] >= sum(r["requests"] for r in figures["routes"]) - 1
    assert figures["sessions"] == {"live": 2, "with_support": 2, "waiting_for_support": 1, "taken_over": 1}
    assert asked != quiet
    roles = {a["role"]: a for a in figures["accounts"]}
    assert {role: counts["active"] for role, counts in roles.items()} == {"admin": 1, "support": 1, "user": 1}
    assert figures["products"] == 0
    assert figures["support_notes"] == 0
    assert set(figures["jobs"]) == {"tryon", "image"}


def test_quantiles_are_interpolated_inside_histogram_buckets() -> None:
    buckets = [(0.1, 50.0), (0.5, 90.0), (1.0, 100.0), (float("inf"), 100.0)]
    assert bucket_quantile(0.5, buckets) == pytest.approx(0.1)
    assert bucket_quantile(0.25, buckets) == pytest.approx(0.05)
    assert bucket_quantile(0.7, buckets) == pytest.approx(0.3)
    assert bucket_quantile(0.95, buckets) == pytest.approx(0.75)
    assert bucket_quantile(0.99, [(0.1, 1.0), (float("inf"), 10.0)]) == pytest.approx(0.1)
    assert bucket_quantile(0.5, [(0.1, 0.0), (float("inf"), 0.0)]) is None
    assert bucket_quantile(0.5, []) is None
