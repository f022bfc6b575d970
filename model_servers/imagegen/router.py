"""HTTP routes of the text-to-image server; every refusal is a 422 ``{code, detail}``."""

from __future__ import annotations

import json

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from model_servers.errors import ErrorBody, add_refusal_handlers
from model_servers.imagegen.protocol import (
    IMAGES_PATH,
    MAX_CONTROL_BYTES,
    MODEL_HEADER,
    TIMINGS_HEADER,
    Health,
    ImageRequest,
)
from model_servers.imagegen.serving import ImageGenServing
from tools.wardrobe.images import encode_png

router = APIRouter()


def _serving(request: Request) -> ImageGenServing:
    serving: ImageGenServing = request.app.state.serving
    return serving


@router.get("/health")
def health(request: Request) -> Health:
    serving = _serving(request)
    return Health(
        status="ok",
        model=serving.name,
        max_batch=serving.max_batch,
        controls=list(serving.pipeline.control_kinds),
    )


@router.post(
    IMAGES_PATH,
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, 422: {"model": ErrorBody}},
    max_body_size=2 * MAX_CONTROL_BYTES + 64 * 1024,
)
async def images(request: Request, body: ImageRequest) -> Response:
    serving = _serving(request)
    job = await run_in_threadpool(serving.request, body)
    result = await run_in_threadpool(serving.run, job)
    png = await run_in_threadpool(encode_png, result.rgb)
    return Response(
        png,
        media_type="image/png",
        headers={MODEL_HEADER: serving.name, TIMINGS_HEADER: json.dumps(result.timings_ms)},
    )


def _describe(error: dict[str, object]) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")  # type: ignore[attr-defined]
    return f"{where}: {error.get('msg', 'invalid')}" if where else str(error.get("msg", "invalid"))


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's validation errors in the server's one error shape, so clients read one body."""
    assert isinstance(exc, RequestValidationError)
    detail = "; ".join(_describe(dict(e)) for e in exc.errors())
    return JSONResponse(ErrorBody(code="invalid_request", detail=detail).model_dump(), status_code=422)


def add_exception_handlers(app: FastAPI) -> None:
    add_refusal_handlers(app)
    app.add_exception_handler(RequestValidationError, _invalid)
