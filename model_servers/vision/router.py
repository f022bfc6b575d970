"""HTTP routes of the vision server; refusals carry the same codes as the API's photo checks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from model_servers.errors import ErrorBody
from model_servers.vision.protocol import (
    MAX_UPLOAD_BYTES,
    METHOD_HEADER,
    PERSON_HEADER,
    SEGMENT_PATH,
    Health,
)
from model_servers.vision.serving import VisionServing

router = APIRouter()


def _serving(request: Request) -> VisionServing:
    serving: VisionServing = request.app.state.serving
    return serving


@router.get("/health")
def health(request: Request) -> Health:
    return Health(status="ok", segmenter=_serving(request).name)


@router.post(
    SEGMENT_PATH,
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, 413: {"model": ErrorBody}, 422: {"model": ErrorBody}},
    max_body_size=MAX_UPLOAD_BYTES + 64 * 1024,
)
async def segment(request: Request, image: Annotated[UploadFile, File()]) -> Response:
    data = await image.read(MAX_UPLOAD_BYTES + 1)
    result = await run_in_threadpool(_serving(request).segment, data)
    return Response(
        result.mask_png,
        media_type="image/png",
        headers={PERSON_HEADER: "1" if result.person else "0", METHOD_HEADER: result.method},
    )
