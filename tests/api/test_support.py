"""The support console on the real app and agent: a person asks for a human, support answers,
the person hears it on their live connection, and the assistant takes over again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import (
    API,
    Session,
    names,
    read_sse_until,
    receive_until,
    replies,
    say,
    wait_for_comment,
)

pytestmark = [pytest.mark.unit, pytest.mark.timeout(180)]

UNKNOWN = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def user(new_user: Callable[..., Session]) -> Session:
    return new_user()


@pytest.fixture
def staff(new_user: Callable[..., Session]) -> Session:
    return new_user("support")


def support_post(
    client: TestClient, staff: Session, session_id: str, action: str, **body: Any
) -> dict[str, Any]:
    response = client.post(
        f"{API}/support/sessions/{session_id}/{action}", json=body or None, headers=staff.headers
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def handoff_ids(client: TestClient, staff: Session) -> list[str]:
    response = client.get(f"{API}/support/sessions", params={"handoff_only": "true"}, headers=staff.headers)
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()]


def test_a_person_asks_for_a_human_and_gets_one_over_the_websocket(
    client: TestClient, user: Session, staff: Session
) -> None:
    with client.websocket_connect(f"{API}/chat/ws?token={user.access_token}") as ws:
        ws.receive_json()
        ws.send_json({"type": "message", "text": "I want to talk to a real person"})
        frames = receive_until(ws, "done")
        session_id = frames[0]["data"]["session_id"]
        assert "support team" in next(f for f in frames if f["event"] == "message")["data"]["text"]
        assert [f["data"] for f in frames if f["event"] == "handoff"] == [
            {"active": True, "waiting_for_support": True}
        ]

        # The console sees it waiting, with the conversation so far.
        assert handoff_ids(client, staff) == [session_id]
        everyone = client.get(
            f"{API}/support/sessions", params={"handoff_only": "false"}, headers=staff.headers
        )
        assert session_id in [s["id"] for s in everyone.json()]
        detail = client.get(f"{API}/support/sessions/{session_id}", headers=staff.headers).json()
        assert (detail["user_id"], detail["handoff"]) == (user.id, True)
        assert [e["data"]["role"] for e in detail["history"]] == ["user", "assistant"]

        answered = support_post(client, staff, session_id, "reply", text="Hi, I'm Mia from support.")
        assert [
            (e["data"]["role"], e["data"]["text"]) for e in answered["events"] if e["event"] == "message"
        ] == [("support", "Hi, I'm Mia from support.")]
        # ... and the person hears it on their open socket.
        pushed = receive_until(ws, "message")
        assert pushed[-1]["session_id"] == session_id
        assert (pushed[-1]["data"]["role"], pushed[-1]["data"]["text"]) == (
            "support",
            "Hi, I'm Mia from support.",
        )

        # While support has the thread the assistant stays quiet.
        ws.send_json({"type": "message", "text": "What size am I in jeans?", "session_id": session_id})
        frames = receive_until(ws, "done")
        assert "message" not in names(frames)
        assert {"active": True, "waiting_for_support": True} in [
            f["data"] for f in frames if f["event"] == "handoff"
        ]

        back = support_post(client, staff, session_id, "handback", answer_waiting=True)
        assert back["session"]["handoff"] is False
        answer = [e["data"]["text"] for e in back["events"] if e["event"] == "message"]
        assert "height and weight" in answer[0]
        # The assistant's answer to the waiting message reaches the person too.
        pushed = receive_until(ws, "message")
        assert (pushed[-1]["data"]["role"], pushed[-1]["data"]["text"]) == ("assistant", answer[0])

    assert handoff_ids(client, staff) == []
    history = client.get(f"{API}/chat/sessions/{session_id}", headers=user.headers).json()["history"]
    assert [e["data"]["role"] for e in history] == ["user", "assistant", "support", "user", "assistant"]
    assert "style assistant" in replies(say(client, user, "hello", session_id))[0]


def test_support_takes_over_a_quiet_session_heard_over_event_streams(
    client: TestClient, user: Session, staff: Session
) -> None:
    session_id = say(client, user, "hello")["session_id"]
    assert handoff_ids(client, staff) == []
    taken = support_post(client, staff, session_id, "takeover")
    assert (taken["session"]["handoff"], taken["session"]["staff_id"]) == (True, staff.id)
    assert handoff_ids(client, staff) == [session_id]

    with client.stream("GET", f"{API}/chat/sessions/{session_id}/events", headers=user.headers) as person:
        assert person.status_code == 200
        person_lines = person.iter_lines()
        wait_for_comment(person_lines, "subscribed")
        support_post(client, staff, session_id, "reply", text="Can I help with your order?")
        heard = read_sse_until(person_lines, lambda e: e.event == "message")
    assert (heard[-1].data["role"], heard[-1].data["text"]) == ("support", "Can I help with your order?")

    with client.stream(
        "GET", f"{API}/support/sessions/{session_id}/events", headers=staff.headers
    ) as console:
        assert console.status_code == 200
        console_lines = console.iter_lines()
        wait_for_comment(console_lines, "subscribed")
        waiting = say(client, user, "yes, where is it?", session_id)
        seen = read_sse_until(console_lines, lambda e: e.event == "handoff")
    assert waiting["messages"] == []
    assert (seen[0].event, seen[0].data["role"], seen[0].data["text"]) == (
        "message",
        "user",
        "yes, where is it?",
    )

    back = support_post(client, staff, session_id, "handback", answer_waiting=False)
    assert any("back with the assistant" in e["data"].get("text", "") for e in back["events"])
    history = client.get(f"{API}/support/sessions/{session_id}", headers=staff.headers).json()["history"]
    assert [e["data"]["role"] for e in history] == ["user", "assistant", "support", "user", "assistant"]


def test_support_routes_are_for_staff_only(client: TestClient, user: Session) -> None:
    session_id = say(client, user, "hello")["session_id"]
    for method, path in [
        ("GET", "/support/sessions"),
        ("GET", f"/support/sessions/{session_id}"),
        ("GET", f"/support/sessions/{session_id}/events"),
        ("POST", f"/support/sessions/{session_id}/takeover"),
        ("POST", f"/support/sessions/{session_id}/reply"),
        ("POST", f"/support/sessions/{session_id}/handback"),
    ]:
        body = {"text": "hi"} if path.endswith("reply") else None
        response = client.request(method, f"{API}{path}", json=body, headers=user.headers)
        assert response.status_code == 403, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert client.get(f"{API}/support/sessions").status_code == 401


def test_admins_may_use_the_console(client: TestClient, admin: Session, user: Session) -> None:
    session_id = say(client, user, "hello")["session_id"]
    assert support_post(client, admin, session_id, "takeover")["session"]["staff_id"] == admin.id


def test_support_actions_that_do_not_fit_the_session_are_409(
    client: TestClient, user: Session, staff: Session
) -> None:
    session_id = say(client, user, "hello")["session_id"]
    for action, body in [("reply", {"text": "Hello from support"}), ("handback", {})]:
        response = client.post(
            f"{API}/support/sessions/{session_id}/{action}", json=body, headers=staff.headers
        )
        assert response.status_code == 409, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"]


def test_support_on_an_unknown_session_is_404(client: TestClient, staff: Session) -> None:
    for method, path in [
        ("GET", f"/support/sessions/{UNKNOWN}"),
        ("GET", f"/support/sessions/{UNKNOWN}/events"),
        ("GET", "/support/sessions/not-a-session"),
        ("POST", f"/support/sessions/{UNKNOWN}/takeover"),
        ("POST", f"/support/sessions/{UNKNOWN}/handback"),
    ]:
        response = client.request(method, f"{API}{path}", headers=staff.headers)
        assert response.status_code == 404, (path, response.text)
    response = client.post(
        f"{API}/support/sessions/{UNKNOWN}/reply", json={"text": "hi"}, headers=staff.headers
    )
    assert response.status_code == 404


@pytest.mark.parametrize("text", ["", "   ", "z" * 4001], ids=["empty", "blank", "too-long"])
def test_support_replies_must_be_1_to_4000_characters(
    client: TestClient, user: Session, staff: Session, text: str
) -> None:
    session_id = say(client, user, "hello")["session_id"]
    support_post(client, staff, session_id, "takeover")
    response = client.post(
        f"{API}/support/sessions/{session_id}/reply", json={"text": text}, headers=staff.headers
    )
    assert response.status_code == 422, response.text
