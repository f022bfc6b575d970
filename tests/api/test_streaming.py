"""The plumbing under the chat routes: turns that outlive their listener, eager hub subscriptions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from agent.service import ChatEvent, SessionHub, SessionNotFound
from api.streaming import TurnRunner, sse_bytes

pytestmark = [pytest.mark.unit, pytest.mark.anyio]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def slow_turn(finished: list[str], pause: float = 0.05) -> AsyncIterator[ChatEvent]:
    for name in ("session", "message", "done"):
        await asyncio.sleep(pause)
        yield ChatEvent(event=name)
        finished.append(name)


async def test_a_turn_runs_to_the_end_after_its_listener_leaves() -> None:
    runner, finished = TurnRunner(), list[str]()
    events = runner.run(slow_turn(finished))
    assert (await anext(events)).event == "session"
    await events.aclose()
    await runner.drain(timeout_s=5)
    assert finished == ["session", "message", "done"]


async def test_errors_reach_the_listener() -> None:
    async def unknown() -> AsyncIterator[ChatEvent]:
        raise SessionNotFound("x")
        yield ChatEvent(event="done")  # pragma: no cover

    with pytest.raises(SessionNotFound):
        await anext(TurnRunner().run(unknown()))


async def test_drain_cancels_turns_that_do_not_finish_in_time() -> None:
    runner, finished = TurnRunner(), list[str]()
    events = runner.run(slow_turn(finished, pause=60))
    waiting = asyncio.ensure_future(anext(events))
    await asyncio.sleep(0.01)
    await runner.drain(timeout_s=0.05)
    # The listener is not left hanging: its stream simply ends.
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(waiting, 1)
    assert finished == []


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
