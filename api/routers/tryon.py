"""Virtual try-on: send a photo of yourself and a garment, follow the job, fetch the picture.

``POST /tryon/jobs`` answers 202 with the queued job at once; the picture is made by a worker.
Everything that would make the job fail for a reason the person can fix (no person in the
photo, several people, a face only, a shoe instead of a garment, a product without a photo,
a corrupt or huge file) is refused here with a 4xx and a ``code``, and no job is created.
The same request sent again returns the same job (200 instead of 202).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Query, Response, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import ValidationError

from api.deps import CurrentUser, OwnTryOnJob, SettingsDep, TryOnDep, TryOnJobIdPath, UploadsDep
from api.jobs import job_events
from api.routers.wardrobe import ONE_PHOTO_BODY, read_limited
from tools.tryon.schemas import GarmentRef, TryOnJobRead

router = APIRouter(prefix="/tryon", tags=["try-on"])


@router.post(
    "/jobs",
    status_code=status.HTTP_202_ACCEPTED,
    max_body_size=ONE_PHOTO_BODY,
    responses={200: {"model": TryOnJobRead, "description": "the same request was already queued or done"}},
)
async def submit(
    response: Response,
    user: CurrentUser,
    tryon: TryOnDep,
    uploads: UploadsDep,
    settings: SettingsDep,
    photo: Annotated[UploadFile | None, File(description="JPEG, PNG or WebP of yourself")] = None,
    upload_id: Annotated[str | None, Form(pattern=r"^[0-9a-f]{32}$")] = None,
    product_id: Annotated[str | None, Form(max_length=64)] = None,
    wardrobe_item_id: Annotated[str | None, Form(pattern=r"^[0-9a-f-]{36}$")] = None,
) -> TryOnJobRead:
    """The person photo comes as ``photo`` or as an earlier upload's ``upload_id``; the garment is a
    ``product_id`` or one of your ``wardrobe_item_id``s."""
    if (photo is None) == (upload_id is None):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "send exactly one of photo or upload_id")
    try:
        ref = GarmentRef(product_id=product_id, wardrobe_item_id=wardrobe_item_id)
    except ValidationError as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "name exactly one garment: product_id or wardrobe_item_id"
        ) from exc
    if photo is not None:
        data = await read_limited(photo, settings.wardrobe.max_upload_bytes)
    else:
        assert upload_id is not None
        data = await run_in_threadpool(uploads.read, user.id, upload_id)
    job, created = await run_in_threadpool(tryon.submit, user.id, data, ref)
    if not created:
        response.status_code = status.HTTP_200_OK
    return job


@router.get("/jobs")
def list_jobs(
    user: CurrentUser, tryon: TryOnDep, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> list[TryOnJobRead]:
    return tryon.list(user.id, limit)


@router.get("/jobs/{job_id}")
def read_job(job: OwnTryOnJob) -> TryOnJobRead:
    return job


@router.post("/jobs/{job_id}/cancel")
def cancel_job(job_id: TryOnJobIdPath, user: CurrentUser, tryon: TryOnDep) -> TryOnJobRead:
    return tryon.cancel(user.id, job_id)


@router.get(
    "/jobs/{job_id}/result", response_class=Response, responses={200: {"content": {"image/jpeg": {}}}}
)
def read_result(job_id: TryOnJobIdPath, user: CurrentUser, tryon: TryOnDep) -> Response:
    return Response(
        tryon.result(user.id, job_id), media_type="image/jpeg", headers={"Cache-Control": "private"}
    )


@router.get("/jobs/{job_id}/events", response_class=EventSourceResponse)
async def follow_job(job: OwnTryOnJob, user: CurrentUser, tryon: TryOnDep) -> AsyncIterator[ServerSentEvent]:
    """Server-Sent Events: the job each time its status or step changes (``event: progress``),
    ending with ``event: done`` once it has succeeded, failed or been cancelled."""
    async for event in job_events(job, lambda: tryon.get(user.id, job.id)):
        yield event
