"""Chat turns that outlive whoever asked for them (a request, a socket, a spoken reply cut short)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass

from agent.service import ChatEvent

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Failed:
    error: Exception


_END = object()


class TurnRunner:
    """Runs chat turns as tasks that the request or socket only listens to.

    A client that goes away mid-reply cancels its request. Were the turn the request's own
    coroutine, the graph would stop between nodes and the person would come back to their
    message with no answer; here the turn finishes, is checkpointed, and shows in the history.
    """

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self, turn: AsyncIterator[ChatEvent]) -> AsyncGenerator[ChatEvent, None]:
        """The turn's events as they come; its errors (``SessionNotFound``) are raised here."""
        queue: asyncio.Queue[ChatEvent | _Failed | object] = asyncio.Queue()
        listening = True

        async def pump() -> None:
            try:
                async for event in turn:
                    queue.put_nowait(event)
            except Exception as exc:
                if not listening:
                    logger.exception("a chat turn failed after its client left")
                queue.put_nowait(_Failed(exc))
            finally:
                queue.put_nowait(_END)

        task = asyncio.create_task(pump())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        try:
            while True:
                item = await queue.get()
                if isinstance(item, _Failed):
                    raise item.error
                if not isinstance(item, ChatEvent):
                    return
                yield item
        finally:
            listening = False

    async def drain(self, timeout_s: float = 30.0) -> None:
        """Let running turns finish before the agent closes; cancel what is still running after that."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=timeout_s)
        for task in pending:
            task.cancel()
        if pending:
            logger.warning("cancelled chat turns still running at shutdown", extra={"turns": len(pending)})
            await asyncio.gather(*pending, return_exceptions=True)
