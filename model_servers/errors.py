"""Refusals over HTTP, the same way for every model server: a ``Refusal``'s code and message as
``{code, detail}`` JSON, with the status the API itself would give (413 too large, 415 not a
usable format, 422 anything else), so clients can tell a refusal from a failure worth retrying."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from tools.base import Refusal

_STATUS = {"too_large": 413, "unsupported_format": 415, "not_an_image": 415}


class ErrorBody(BaseModel):
    code: str
    detail: str


async def _refused(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Refusal)
    body = ErrorBody(code=exc.code, detail=exc.message)
    return JSONResponse(body.model_dump(), status_code=_STATUS.get(exc.code, 422))


def add_refusal_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Refusal, _refused)
