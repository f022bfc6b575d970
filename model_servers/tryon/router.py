"""HTTP routes of the try-on server; refusals carry the API's codes so the client can tell them apart."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from model_servers.errors import ErrorBody
from model_servers.tryon.protocol import (
    ENGINE_HEADER,
    MAX_UPLOAD_BYTES,
    TIMINGS_HEADER,
    TRYON_PATH,
    Health,
)
from model_servers.tryon.serving import TryOnServing
from tools.tryon.engine import GarmentKind
from tools.wardrobe.images import encode_png

router = APIRouter()


def _serving(request: Request) -> TryOnServing:
    serving: TryOnServing = request.app.state.serving
    return serving


@router.get("/health")
def health(request: Request) -> Health:
    serving = _serving(request)
    return Health(status="ok", engine=serving.name, max_batch=serving.max_batch)


async def _read(upload: UploadFile | None) -> bytes | None:
    return None if upload is None else await upload.read(MAX_UPLOAD_BYTES + 1)


@router.post(
    TRYON_PATH,
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, 413: {"model": ErrorBody}, 422: {"model": ErrorBody}},
    max_body_size=4 * MAX_UPLOAD_BYTES + 64 * 1024,
)
async def tryon(
    request: Request,
    person: Annotated[UploadFile, File()],
    garment: Annotated[UploadFile, File()],
    kind: Annotated[GarmentKind, Form()],
    seed: Annotated[int, Form(ge=0, le=2**31 - 1)] = 0,
    garment_mask: Annotated[UploadFile | None, File()] = None,
    agnostic: Annotated[UploadFile | None, File()] = None,
) -> Response:
    serving = _serving(request)
    person_data, garment_data = (
        await person.read(MAX_UPLOAD_BYTES + 1),
        await garment.read(MAX_UPLOAD_BYTES + 1),
    )
    job = await run_in_threadpool(
        serving.request,
        person_data,
        garment_data,
        kind,
        garment_mask=await _read(garment_mask),
        agnostic=await _read(agnostic),
        seed=seed,
    )
    result = await run_in_threadpool(serving.run, job)
    png = await run_in_threadpool(encode_png, result.image)
    return Response(
        png,
        media_type="image/png",
        headers={ENGINE_HEADER: result.engine, TIMINGS_HEADER: json.dumps(result.timings_ms)},
    )
