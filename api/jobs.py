"""Following an asynchronous job over Server-Sent Events, for every kind of job the API queues."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from fastapi.concurrency import run_in_threadpool
from fastapi.sse import ServerSentEvent

from tools.jobs import JobRead

#: How often the stream looks at the job, and how long it follows one at most.
POLL_S = 0.2
MAX_FOLLOW_S = 600.0


async def job_events(first: JobRead, read: Callable[[], JobRead]) -> AsyncIterator[ServerSentEvent]:
    """``event: progress`` each time the job's status or step changes, then ``event: done`` once it
    has succeeded, failed or been cancelled. ``read`` fetches the job again (cache first)."""
    job, last, waited = first, None, 0.0
    while True:
        seen = (job.status, job.stage, job.progress)
        if job.done:
            yield ServerSentEvent(data=job.model_dump(mode="json"), event="done", id=job.id)
            return
        if seen != last:
            yield ServerSentEvent(data=job.model_dump(mode="json"), event="progress", id=job.id)
            last = seen
        if waited >= MAX_FOLLOW_S:
            return
        await asyncio.sleep(POLL_S)
        waited += POLL_S
        job = await run_in_threadpool(read)
