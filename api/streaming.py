"""Plumbing between ``ChatService`` and the chat routes: hub subscriptions that are live before
anything is published, and the SSE wire format. (Turns that outlive their client: ``agent.turns``.)"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi.sse import ServerSentEvent, format_sse_event

from agent.service import ChatEvent, SessionHub


def event_json(event: ChatEvent) -> str:
    return json.dumps(event.model_dump(mode="json")["data"], ensure_ascii=False)


def sse_event(event: ChatEvent, event_id: int) -> ServerSentEvent:
    return ServerSentEvent(event=event.event, raw_data=event_json(event), id=str(event_id))


def sse_bytes(event: ChatEvent, event_id: int) -> bytes:
    return format_sse_event(data_str=event_json(event), event=event.event, id=str(event_id))


async def session_stream(hub: SessionHub, session_id: str) -> AsyncIterator[ServerSentEvent]:
    """Everything published for one session, for as long as the client listens.

    Opens with a ``subscribed`` comment: from that line on, nothing published is missed. FastAPI
    interleaves ``: ping`` comments while the session is quiet, so proxies keep the stream open.
    """
    with hub.listen(session_id) as events:
        yield ServerSentEvent(comment="subscribed")
        event_id = 0
        async for event in events:
            event_id += 1
            yield sse_event(event, event_id)
