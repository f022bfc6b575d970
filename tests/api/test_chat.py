"""The chat API on the real app and the real agent (template replies, no LLM): Server-Sent Events,
JSON turns, sessions and their memory, the WebSocket."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import fastapi.routing
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from starlette.websockets import WebSocketDisconnect

from api.errors import SESSION_NOT_FOUND
from api.main import create_app
from api.tokens import ISSUER
from storage.sql.models import ChatSession
from storage.sql.types import utcnow
from tests.api.conftest import (
    API,
    SSE,
    Session,
    names,
    parse_sse,
    read_sse_until,
    receive_until,
    replies,
    say,
    sign_in,
    wait_for_comment,
)
from tests.conftest import TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD, make_settings

pytestmark = [pytest.mark.unit, pytest.mark.timeout(180)]


@pytest.fixture
def user(new_user: Callable[..., Session]) -> Session:
    return new_user()


# --- one turn over Server-Sent Events ---------------------------------------------------------------


def test_an_english_turn_streams_as_server_sent_events(client: TestClient, user: Session) -> None:
    response = client.post(
        f"{API}/chat", json={"message": "What size should I order?"}, headers={**user.headers, **SSE}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"

    events = parse_sse(response.text)
    order = names(events)
    assert order[0] == "session"
    assert order[-1] == "done"
    assert order.index("tool_started") < order.index("message") < order.index("done")
    assert [e.id for e in events] == [str(n) for n in range(1, len(events) + 1)]
    session_id = events[0].data["session_id"]
    assert events[-1].data == {"session_id": session_id}

    [message] = [e.data for e in events if e.event == "message"]
    assert message["role"] == "assistant"
    assert "height and weight" in message["text"]
    assert "".join(e.data["text"] for e in events if e.event == "token") == message["text"]


def test_a_chinese_turn_streams_and_is_answered_in_chinese(client: TestClient, user: Session) -> None:
    response = client.post(
        f"{API}/chat",
        json={"message": "帮我记住：身高165，体重52公斤", "locale": "zh"},
        headers={**user.headers, **SSE},
    )
    assert response.status_code == 200, response.text
    events = parse_sse(response.text)
    assert names(events)[0] == "session"
    assert names(events)[-1] == "done"
    [message] = [e.data for e in events if e.event == "message"]
    assert "保存" in message["text"]
    assert "身高 165 cm" in message["text"]
    assert "".join(e.data["text"] for e in events if e.event == "token") == message["text"]


# --- JSON turns and memory -----------------------------------------------------------------------


def test_without_event_stream_the_whole_turn_comes_back_as_json(client: TestClient, user: Session) -> None:
    response = client.post(f"{API}/chat", json={"message": "hello"}, headers=user.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    turn = response.json()
    assert names(turn["events"])[0] == "session"
    assert names(turn["events"])[-1] == "done"
    assert turn["session_id"] == turn["events"][0]["data"]["session_id"]
    assert turn["messages"] == [e["data"] for e in turn["events"] if e["event"] == "message"]
    assert "style assistant" in replies(turn)[0]


def test_a_follow_up_on_the_same_session_answers_the_pending_question(
    client: TestClient, user: Session
) -> None:
    first = say(client, user, "What size should I order?")
    session_id = first["session_id"]
    assert "height and weight" in replies(first)[0]

    second = say(client, user, "170 cm, 60 kg", session_id)
    assert second["session_id"] == session_id
    assert "height 170 cm" in replies(second)[0]
    assert "weight 60 kg" in replies(second)[0]

    listed = client.get(f"{API}/chat/sessions", headers=user.headers)
    assert listed.status_code == 200
    [info] = listed.json()
    assert (info["id"], info["turns"], info["handoff"]) == (session_id, 2, False)
    assert info["title"] == "What size should I order?"  # the first message names it, not the second

    detail = client.get(f"{API}/chat/sessions/{session_id}", headers=user.headers).json()
    assert detail["id"] == session_id
    history = [(e["data"]["role"], e["data"]["text"]) for e in detail["history"]]
    assert [role for role, _ in history] == ["user", "assistant", "user", "assistant"]
    assert history[2] == ("user", "170 cm, 60 kg")


def test_someone_elses_session_is_not_found(
    client: TestClient, user: Session, new_user: Callable[..., Session]
) -> None:
    session_id = say(client, user, "hello")["session_id"]
    other = new_user()

    for response in (
        client.post(f"{API}/chat", json={"message": "hi", "session_id": session_id}, headers=other.headers),
        client.post(
            f"{API}/chat", json={"message": "hi", "session_id": session_id}, headers={**other.headers, **SSE}
        ),
        client.get(f"{API}/chat/sessions/{session_id}", headers=other.headers),
        client.get(f"{API}/chat/sessions/{session_id}/events", headers=other.headers),
        client.post(f"{API}/chat", json={"message": "hi", "session_id": "not-a-uuid"}, headers=user.headers),
    ):
        assert response.status_code == 404, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert session_id not in response.json()["detail"]
    assert client.get(f"{API}/chat/sessions", headers=other.headers).json() == []


@pytest.mark.parametrize(
    "body",
    [{}, {"message": "x" * 20_001}, {"message": "hi", "locale": "fr"}, {"message": "hi", "extra": 1}],
    ids=["missing", "too-long", "bad-locale", "unknown-field"],
)
def test_invalid_requests_are_422(client: TestClient, user: Session, body: dict[str, Any]) -> None:
    response = client.post(f"{API}/chat", json=body, headers=user.headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("text", ["", "   ", "y" * 5000], ids=["empty", "blank", "over-4000"])
def test_messages_the_guard_refuses_get_a_polite_reply(client: TestClient, user: Session, text: str) -> None:
    turn = say(client, user, text)
    [message] = turn["messages"]
    assert message["source"] == "guard"
    assert message["text"]


def test_chat_needs_a_signed_in_person(client: TestClient) -> None:
    for response in (
        client.post(f"{API}/chat", json={"message": "hi"}),
        client.post(f"{API}/chat", json={"message": "hi"}, headers={"Authorization": "Bearer nonsense"}),
        client.get(f"{API}/chat/sessions"),
        client.get(f"{API}/chat/sessions/00000000-0000-0000-0000-000000000000"),
    ):
        assert response.status_code == 401, response.text
        assert response.headers["content-type"] == "application/problem+json"


def test_a_client_that_leaves_mid_stream_does_not_cut_the_turn_short(
    client: TestClient, user: Session
) -> None:
    with client.stream(
        "POST", f"{API}/chat", json={"message": "What size should I order?"}, headers={**user.headers, **SSE}
    ) as response:
        assert response.status_code == 200
        first = read_sse_until(response.iter_lines(), lambda e: e.event == "session")
    session_id = first[0].data["session_id"]

    # The turn goes on without its client: the reply lands in the history all the same.
    for _ in range(100):
        history = client.get(f"{API}/chat/sessions/{session_id}", headers=user.headers).json()["history"]
        if len(history) == 2:
            break
        time.sleep(0.1)
    assert [e["data"]["role"] for e in history] == ["user", "assistant"]
    assert "height and weight" in history[1]["data"]["text"]
    assert "style assistant" in replies(say(client, user, "hello", session_id))[0]


# --- the person's event stream -------------------------------------------------------------------


def test_the_session_event_stream_carries_what_is_said_later(client: TestClient, user: Session) -> None:
    session_id = say(client, user, "hello")["session_id"]
    with client.stream("GET", f"{API}/chat/sessions/{session_id}/events", headers=user.headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        lines = response.iter_lines()
        wait_for_comment(lines, "subscribed")
        say(client, user, "What size should I order?", session_id)
        events = read_sse_until(lines, lambda e: e.event == "message" and e.data["role"] == "assistant")
    assert [(e.event, e.data.get("role")) for e in events if e.event == "message"] == [
        ("message", "user"),
        ("message", "assistant"),
    ]
    assert events[0].data["text"] == "What size should I order?"
    assert [e.id for e in events] == [str(n) for n in range(1, len(events) + 1)]


def test_a_quiet_event_stream_gets_keepalive_comments(
    client: TestClient, user: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fastapi.routing, "_PING_INTERVAL", 0.05)
    session_id = say(client, user, "hello")["session_id"]
    with client.stream("GET", f"{API}/chat/sessions/{session_id}/events", headers=user.headers) as response:
        lines = response.iter_lines()
        wait_for_comment(lines, "subscribed")
        wait_for_comment(lines, "ping")


# --- WebSocket ---------------------------------------------------------------------------------


def test_websocket_turns_with_the_token_in_the_query(client: TestClient, user: Session) -> None:
    with client.websocket_connect(f"{API}/chat/ws?token={user.access_token}") as ws:
        ready = ws.receive_json()
        assert ready["event"] == "ready"
        assert ready["data"]["user_id"] == user.id
        assert ready["data"]["expires_at"] > time.time()
        ws.send_json({"type": "message", "text": "What size should I order?"})
        frames = receive_until(ws, "done")
        assert names(frames)[0] == "session"
        session_id = frames[0]["data"]["session_id"]
        assert all(f["session_id"] == session_id for f in frames)
        # Each event once: the hub's copy of the turn's own events is not sent again.
        assert names(frames).count("message") == 1
        assert "height and weight" in frames[names(frames).index("message")]["data"]["text"]

        ws.send_json({"type": "message", "text": "170 cm, 60 kg", "session_id": session_id, "locale": "en"})
        frames = receive_until(ws, "done")
        [message] = [f["data"] for f in frames if f["event"] == "message"]
        assert "height 170 cm" in message["text"]
        assert names(frames).count("session") == 1


def test_websocket_auth_by_first_frame_and_bad_frames(client: TestClient, user: Session) -> None:
    with client.websocket_connect(f"{API}/chat/ws") as ws:
        ws.send_json({"type": "auth", "token": user.access_token})
        assert ws.receive_json()["event"] == "ready"

        ws.send_text("not json")
        assert ws.receive_json()["event"] == "error"
        ws.send_json({"type": "message"})
        error = ws.receive_json()
        assert error["event"] == "error"
        assert "text" in error["data"]["detail"]
        ws.send_json({"type": "message", "text": "hi", "session_id": "00000000-0000-0000-0000-000000000000"})
        assert ws.receive_json() == {
            "event": "error",
            "data": {"detail": "no such chat session (it may have expired)"},
        }

        # Still open and working.
        ws.send_json({"type": "message", "text": "你好"})
        frames = receive_until(ws, "done")
        assert [f["data"]["role"] for f in frames if f["event"] == "message"] == ["assistant"]


@pytest.mark.parametrize(
    "connect",
    ["?token=nonsense", "", "?token="],
    ids=["bad-query-token", "bad-first-frame", "empty-query-token"],
)
def test_websocket_without_a_valid_token_is_closed_4401(client: TestClient, connect: str) -> None:
    with client.websocket_connect(f"{API}/chat/ws{connect}") as ws:
        if not connect:
            ws.send_json({"type": "auth", "token": "nonsense"})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4401


def test_websocket_wants_auth_before_anything_else(client: TestClient) -> None:
    with client.websocket_connect(f"{API}/chat/ws") as ws:
        ws.send_json({"type": "message", "text": "hello"})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4401


def test_websocket_relays_what_another_device_says_on_a_session_it_used(
    client: TestClient, user: Session
) -> None:
    with client.websocket_connect(f"{API}/chat/ws?token={user.access_token}") as ws:
        ws.receive_json()
        ws.send_json({"type": "message", "text": "hello"})
        session_id = receive_until(ws, "done")[0]["data"]["session_id"]
        say(client, user, "What size should I order?", session_id)  # from the person's laptop, say
        frames = receive_until(ws, "message")
        assert frames[0]["data"] == {
            "id": frames[0]["data"]["id"],
            "role": "user",
            "text": "What size should I order?",
        }
        frames = receive_until(ws, "message")
        assert frames[-1]["data"]["role"] == "assistant"
        assert "height and weight" in frames[-1]["data"]["text"]


def test_tokens_in_websocket_urls_stay_out_of_the_server_log(client: TestClient) -> None:
    record = logging.LogRecord(
        "uvicorn.error",
        logging.INFO,
        __file__,
        1,
        '%s - "WebSocket %s" [accepted]',
        ("127.0.0.1:50000", f"{API}/chat/ws?token=eyJ.secret.part&v=1"),
        None,
    )
    assert logging.getLogger("uvicorn.error").filter(record)
    assert (
        record.getMessage() == f'127.0.0.1:50000 - "WebSocket {API}/chat/ws?token=[redacted]&v=1" [accepted]'
    )


# --- expiry ------------------------------------------------------------------------------------


def test_sessions_idle_past_their_ttl_are_purged_in_the_background(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    with TestClient(create_app(settings)) as client:
        person = sign_in(client, TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD)
        session_id = say(client, person, "What size should I order?")["session_id"]
        with client.app.state.stores.db.session() as db:  # type: ignore[attr-defined]
            db.execute(
                update(ChatSession)
                .where(ChatSession.id == session_id)
                .values(last_active_at=utcnow() - timedelta(hours=25))
            )

    # The purge runs when the app starts and every ten minutes after.
    with TestClient(create_app(settings)) as client:
        person = sign_in(client, TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD)
        for _ in range(100):
            detail = client.get(f"{API}/chat/sessions/{session_id}", headers=person.headers).json()
            if not detail["history"]:
                break
            time.sleep(0.1)
        assert detail["expired"] is True
        assert detail["history"] == []
        with client.app.state.stores.db.session() as db:  # type: ignore[attr-defined]
            assert db.get(ChatSession, session_id).expired_at is not None
        assert client.get(f"{API}/chat/sessions", headers=person.headers).json() == []


def _short_lived_token(client: TestClient, user: Session, seconds: float) -> str:
    """An access token for ``user`` that expires in ``seconds`` (the settings allow no less than a minute)."""
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER, "sub": user.id, "role": user.role, "iat": now, "type": "access",
        "jti": str(uuid.uuid4()), "exp": now + timedelta(seconds=seconds),
    }  # fmt: skip
    return str(client.app.state.tokens._encode(claims))  # type: ignore[attr-defined]


def test_websocket_closes_when_its_token_expires(client: TestClient, user: Session) -> None:
    with client.websocket_connect(f"{API}/chat/ws?token={_short_lived_token(client, user, 1.5)}") as ws:
        assert ws.receive_json()["event"] == "ready"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()  # nothing is sent; the socket is closed at the token's expiry
    assert closed.value.code == 4401
    assert "token expired" in (closed.value.reason or "")


def test_websocket_stays_open_with_a_renewed_token(client: TestClient, user: Session) -> None:
    with client.websocket_connect(f"{API}/chat/ws?token={_short_lived_token(client, user, 1.5)}") as ws:
        ws.receive_json()
        ws.send_json({"type": "auth", "token": user.access_token})  # a fresh 30-minute token
        renewed = ws.receive_json()
        assert renewed["event"] == "ready"
        assert renewed["data"]["expires_at"] > time.time() + 60
        time.sleep(2)
        ws.send_json({"type": "message", "text": "hello"})
        assert [f["event"] for f in receive_until(ws, "done")][-1] == "done"


def test_websocket_refuses_a_renewal_for_another_account(
    client: TestClient, user: Session, new_user: Callable[..., Session]
) -> None:
    other = new_user()
    with client.websocket_connect(f"{API}/chat/ws?token={user.access_token}") as ws:
        ws.receive_json()
        ws.send_json({"type": "auth", "token": other.access_token})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4401


def test_websocket_of_a_disabled_account_is_closed_at_its_next_message(
    client: TestClient, admin: Session, user: Session
) -> None:
    with client.websocket_connect(f"{API}/chat/ws?token={user.access_token}") as ws:
        ws.receive_json()
        disabled = client.patch(f"{API}/users/{user.id}", json={"is_active": False}, headers=admin.headers)
        assert disabled.status_code == 200
        ws.send_json({"type": "message", "text": "hello"})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4401


def test_a_second_tab_follows_a_session_it_only_watches(client: TestClient, user: Session) -> None:
    session_id = say(client, user, "hello")["session_id"]
    with client.websocket_connect(f"{API}/chat/ws?token={user.access_token}") as ws:
        ws.receive_json()
        ws.send_json({"type": "watch", "session_id": session_id})
        assert ws.receive_json() == {"event": "watching", "session_id": session_id, "data": {}}
        say(client, user, "What size should I order?", session_id)  # typed in the first tab
        frames = receive_until(ws, "done")
        assert all(frame["session_id"] == session_id for frame in frames)
        said = [(f["data"]["role"], f["data"]["text"]) for f in frames if f["event"] == "message"]
        assert said[0] == ("user", "What size should I order?")
        assert said[1][0] == "assistant"
        assert "height and weight" in said[1][1]
        assert "".join(f["data"]["text"] for f in frames if f["event"] == "token") == said[1][1]


def test_watching_someone_elses_or_a_made_up_session_is_refused(
    client: TestClient, user: Session, new_user: Callable[..., Session]
) -> None:
    theirs = say(client, new_user(), "hello")["session_id"]
    with client.websocket_connect(f"{API}/chat/ws?token={user.access_token}") as ws:
        ws.receive_json()
        for session_id in (theirs, "not-a-session"):
            ws.send_json({"type": "watch", "session_id": session_id})
            assert ws.receive_json() == {"event": "error", "data": {"detail": SESSION_NOT_FOUND}}
        ws.send_json({"type": "watch"})
        error = ws.receive_json()
        assert error["event"] == "error"
        assert "session_id" in error["data"]["detail"]


def test_each_reply_keeps_the_tool_calls_behind_it(client: TestClient, user: Session) -> None:
    asked = say(client, user, "Remember: I'm 165 cm and 52 kg")
    [call] = asked["messages"][0]["tools"]
    assert call["tool"] == "update_profile"
    assert call["arguments"] == {
        "changes": {"measurements": {"height": 165.0, "weight": 52.0}},
        "confirmed": False,
    }
    assert (call["ok"], call["facts"]) == (False, [])
    assert "confirm" in call["error"]

    saved = say(client, user, "yes", asked["session_id"])
    [call] = saved["messages"][0]["tools"]
    assert (call["tool"], call["ok"], call["error"]) == ("update_profile", True, None)
    assert call["arguments"]["confirmed"] is True
    assert "height 165 cm" in call["facts"]
    detail = client.get(f"{API}/chat/sessions/{asked['session_id']}", headers=user.headers).json()
    kept = [e["data"]["tools"] for e in detail["history"] if e["data"]["role"] == "assistant"]
    assert kept == [asked["messages"][0]["tools"], saved["messages"][0]["tools"]]


def test_a_session_is_named_by_the_first_message_with_words(client: TestClient, user: Session) -> None:
    session_id = say(client, user, "   ")["session_id"]
    [info] = client.get(f"{API}/chat/sessions", headers=user.headers).json()
    assert info["title"] is None
    long = "I need   an outfit for a summer wedding in Hangzhou, " + "something light and breathable " * 5
    say(client, user, long, session_id)
    [info] = client.get(f"{API}/chat/sessions", headers=user.headers).json()
    assert info["title"] == " ".join(long.split())[:80]
