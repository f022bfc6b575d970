"""Chat turns that run to the end whoever stops listening."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from agent.service import ChatEvent, SessionNotFound
from agent.turns import TurnRunner

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
