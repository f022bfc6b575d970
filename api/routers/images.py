"""Outfit pictures: a board of an outfit's real product (and wardrobe) photos, and, where a
text-to-image server is set up, a generated picture made as a job.

No image model runs in the embedded deployment; the board is what can be shown honestly, and its
``generative: false`` says so; ``POST /images/generate`` answers 503 there. A person reads only
their own images and jobs (anyone else's is a 404).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CurrentUser, ImageGenDep
from api.jobs import job_events
from tools.imagegen.board import MAX_ITEMS
from tools.imagegen.service import ImageGenService, ImageJobRead
from tools.jobs import JobError, JobQueue

router = APIRouter(prefix="/images", tags=["images"])
JobIdPath = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$")]


class OutfitBoardRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=MAX_ITEMS
    )
    wardrobe_item_ids: list[Annotated[str, Field(pattern=r"^[0-9a-f-]{36}$")]] = Field(
        default_factory=list, max_length=MAX_ITEMS
    )
    title: str | None = Field(default=None, max_length=60)


class OutfitImageOut(BaseModel):
    id: str
    url: str
    generative: bool
    pieces: list[str]


@router.post("/outfit-board", status_code=status.HTTP_201_CREATED)
def make_outfit_board(body: OutfitBoardRequest, user: CurrentUser, images: ImageGenDep) -> OutfitImageOut:
    image = images.outfit_board(
        user.id, product_ids=body.product_ids, wardrobe_item_ids=body.wardrobe_item_ids, title=body.title
    )
    return OutfitImageOut(id=image.id, url=image.url, generative=image.generative, pieces=image.pieces)


@router.get("/{image_id}", response_class=Response, responses={200: {"content": {"image/png": {}}}})
def read_image(
    image_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")], user: CurrentUser, images: ImageGenDep
) -> Response:
    return Response(
        images.read(user.id, image_id), media_type="image/png", headers={"Cache-Control": "private"}
    )


class GenerateRequest(OutfitBoardRequest):
    occasion: str | None = Field(default=None, max_length=40)
    style: str | None = Field(default=None, max_length=40)
    gender: Literal["men", "women"] | None = None
    seed: int = Field(default=0, ge=0, le=2**31 - 1)


@router.post(
    "/generate",
    status_code=status.HTTP_202_ACCEPTED,
    responses={200: {"model": ImageJobRead, "description": "the same picture was already asked for"}},
)
def generate(
    body: GenerateRequest, response: Response, user: CurrentUser, images: ImageGenDep
) -> ImageJobRead:
    """A generated picture of someone wearing the outfit, as a job: follow ``/images/jobs/{id}/events``."""
    job, created = images.generate(
        user.id,
        product_ids=body.product_ids,
        wardrobe_item_ids=body.wardrobe_item_ids,
        occasion=body.occasion,
        style=body.style,
        gender=body.gender,
        seed=body.seed,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return job


def _image_jobs(images: ImageGenService) -> JobQueue[Any, ImageJobRead]:
    if images.jobs is None:
        raise JobError("unavailable", "No image-generation model is set up in this deployment.")
    return images.jobs


@router.get("/jobs/{job_id}")
def read_image_job(job_id: JobIdPath, user: CurrentUser, images: ImageGenDep) -> ImageJobRead:
    return _image_jobs(images).get(user.id, job_id)


@router.post("/jobs/{job_id}/cancel")
def cancel_image_job(job_id: JobIdPath, user: CurrentUser, images: ImageGenDep) -> ImageJobRead:
    return _image_jobs(images).cancel(user.id, job_id)


@router.get("/jobs/{job_id}/result", response_class=Response, responses={200: {"content": {"image/png": {}}}})
def read_image_job_result(job_id: JobIdPath, user: CurrentUser, images: ImageGenDep) -> Response:
    png = _image_jobs(images).result(user.id, job_id)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private"})


@router.get("/jobs/{job_id}/events", response_class=EventSourceResponse)
async def follow_image_job(
    job_id: JobIdPath, user: CurrentUser, images: ImageGenDep
) -> AsyncIterator[ServerSentEvent]:
    """Server-Sent Events: ``progress`` on each change, then ``done``."""
    jobs = _image_jobs(images)
    first = await run_in_threadpool(jobs.get, user.id, job_id)
    async for event in job_events(first, lambda: jobs.get(user.id, job_id)):
        yield event
