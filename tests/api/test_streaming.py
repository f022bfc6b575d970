"""The plumbing under the chat routes: turns that outlive their listener, eager hub subscriptions."""

from __future__ import annotations

import asyncio

import pytest

from agent.service import ChatEvent, SessionHub
from api.streaming import sse_bytes

pytestmark = [pytest.mark.unit, pytest.mark.anyio]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_a_subscription_hears_what_is_published_as_soon_as_it_is_entered() -> None:
    hub = SessionHub()
    with hub.listen("s1") as events:
        hub.publish("s1", ChatEvent(event="message", data={"text": "hi"}))
        hub.publish("s2", ChatEvent(event="message", data={"text": "elsewhere"}))
        assert (await asyncio.wait_for(anext(events), 1)).data == {"text": "hi"}
    await asyncio.sleep(0.01)
    hub.publish("s1", ChatEvent(event="message"))  # nobody left listening: no error, nothing queued


def test_server_sent_events_keep_chinese_readable() -> None:
    frame = sse_bytes(ChatEvent(event="message", data={"text": "你好\nthere"}), 7)
    assert frame == 'event: message\ndata: {"text": "你好\\nthere"}\nid: 7\n\n'.encode()
