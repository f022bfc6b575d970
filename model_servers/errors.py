"""Refusals over HTTP, the same way for every model server: a ``Refusal``'s code and message as
``{code, detail}`` JSON, with the status the API itself would give (413 too large, 415 not a
usable format, 422 anything else), so clients can tell a refusal from a failure worth retrying.
Servers with refusals of their own (the speech server's audio and engine errors) use the same
handler with their own statuses."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from tools.base import Refusal

_STATUS = {"too_large": 413, "unsupported_format": 415, "not_an_image": 415}


class ErrorBody(BaseModel):
    code: str
    detail: str


def add_coded_error_handler(
    app: FastAPI, error: type[Exception], statuses: Mapping[str, int], *, default: int = 422
) -> None:
    """Answer ``error`` (anything with ``code`` and ``message``) as ``{code, detail}`` with the
    status ``statuses`` gives its code."""

    async def handle(request: Request, exc: Exception) -> JSONResponse:
        code, message = str(getattr(exc, "code", "error")), str(getattr(exc, "message", exc))
        body = ErrorBody(code=code, detail=message)
        return JSONResponse(body.model_dump(), status_code=statuses.get(code, default))

    app.add_exception_handler(error, handle)


def add_refusal_handlers(app: FastAPI) -> None:
    add_coded_error_handler(app, Refusal, _STATUS)
