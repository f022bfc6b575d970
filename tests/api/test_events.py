"""Writes made through the API reach the event bus through the outbox."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from storage.events import Event, Topic
from tests.api.conftest import API, Session

pytestmark = pytest.mark.unit


def test_a_profile_update_is_announced_on_the_bus(
    client: TestClient, new_user: Callable[..., Session]
) -> None:
    me = new_user()
    response = client.patch(f"{API}/users/me/profile", json={"styles": ["classic"]}, headers=me.headers)
    assert response.status_code == 200
    bus = client.app.state.stores.events  # type: ignore[attr-defined]
    events: list[Event] = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(e.type == "profile.updated" for e in events):
        delivered = bus.poll(Topic.USER_BEHAVIOR_EVENTS, "test", timeout_s=0.1)
        bus.commit(Topic.USER_BEHAVIOR_EVENTS, "test", delivered)
        events += [d.event for d in delivered]
    updated = [e for e in events if e.type == "profile.updated"]
    assert len(updated) == 1
    assert updated[0].key == me.id
    assert updated[0].payload == {"user_id": me.id, "fields": ["styles"]}
    assert any(e.type == "user.created" and e.key == me.id for e in events)
