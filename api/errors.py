"""Errors as RFC 9457 problem details (``application/problem+json``).

Every 4xx says what was wrong in ``detail``; validation errors also list each
field under ``errors``. A 5xx is a bug: ``api.middleware`` logs it with its
traceback and the caller gets only the request id to quote. A store that is down
is not a bug: it is a 503 with ``Retry-After`` and a ``code`` naming the store; the
transaction rolled back, so the caller may retry the same request.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from agent.service import HandoffConflict, SessionNotFound
from core.logging import request_id_var
from storage.errors import StoreUnavailable
from tools.base import ServiceError
from tools.profile.service import AccountError, EmailTaken, InvalidProfile, LastAdmin, NotFound, WrongPassword
from tools.recommend.service import RecommendError
from tools.sizing.service import SizingError
from tools.tryon.engine import TryOnRejected
from tools.uploads import UnknownUpload
from tools.wardrobe.images import ImageRejected
from tools.wardrobe.service import WardrobeError

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
SESSION_NOT_FOUND = "no such chat session (it may have expired)"


def problem(
    status: int,
    detail: str,
    *,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    request_id = request_id_var.get()
    if request_id:
        body["request_id"] = request_id
    body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for error in exc.errors():
        # Drop ``input`` (it may hold a password) and ``ctx`` (it may hold exception objects).
        location = [str(part) for part in error.get("loc", ())]
        errors.append({"loc": location, "msg": error.get("msg", ""), "type": error.get("type", "")})
    return errors


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).description
    return problem(exc.status_code, detail, instance=request.url.path, headers=exc.headers)


async def _validation_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _field_errors(exc)
    summary = "; ".join(f"{'.'.join(e['loc'][1:] or e['loc'])}: {e['msg']}" for e in errors[:5]) + (
        "; ..." if len(errors) > 5 else ""
    )
    return problem(422, f"invalid request: {summary}", instance=request.url.path, errors=errors)


_ACCOUNT_STATUS: dict[type[AccountError], int] = {
    NotFound: 404,
    EmailTaken: 409,
    InvalidProfile: 422,
    WrongPassword: 400,
    LastAdmin: 409,
}


async def _account_error(request: Request, exc: Exception) -> JSONResponse:
    """Domain errors from ``tools`` carry a message meant for the caller; map them to their status."""
    assert isinstance(exc, AccountError)
    status = next((code for kind, code in _ACCOUNT_STATUS.items() if isinstance(exc, kind)), 400)
    return problem(status, str(exc), instance=request.url.path)


async def _session_not_found(request: Request, exc: Exception) -> JSONResponse:
    # The id is not echoed: unknown, expired and someone else's sessions must read the same.
    return problem(404, SESSION_NOT_FOUND, instance=request.url.path)


async def _handoff_conflict(request: Request, exc: Exception) -> JSONResponse:
    return problem(409, str(exc), instance=request.url.path)


async def _sizing_error(request: Request, exc: Exception) -> JSONResponse:
    """Advice the service declined to guess: ``code`` says why and ``missing`` what would fix it."""
    assert isinstance(exc, SizingError)
    return problem(422, str(exc), instance=request.url.path, code=exc.code, missing=exc.missing)


async def _recommend_error(request: Request, exc: Exception) -> JSONResponse:
    """An unknown product is a 404; anything else the service refused is the caller's 422."""
    assert isinstance(exc, RecommendError)
    status = 404 if exc.code == "unknown_product" else 422
    return problem(status, exc.message, instance=request.url.path, code=exc.code)


#: A refused photo: too big is 413, a format we do not take is 415, anything else about the file 422.
_IMAGE_STATUS = {"too_large": 413, "unsupported_format": 415, "not_an_image": 415}
_WARDROBE_STATUS = {"not_found": 404, "duplicate": 409, "wardrobe_full": 409}


async def _image_rejected(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ImageRejected)
    return problem(_IMAGE_STATUS.get(exc.code, 422), exc.message, instance=request.url.path, code=exc.code)


async def _wardrobe_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, WardrobeError)
    status = _WARDROBE_STATUS.get(exc.code, 422)
    return problem(status, exc.message, instance=request.url.path, code=exc.code, **exc.details)


_SERVICE_STATUS = {"not_found": 404, "not_cancellable": 409, "not_ready": 409, "unavailable": 503}


async def _tryon_rejected(request: Request, exc: Exception) -> JSONResponse:
    """The photo or garment cannot be tried on; nothing was queued."""
    assert isinstance(exc, TryOnRejected)
    return problem(422, exc.message, instance=request.url.path, code=exc.code)


async def _service_error(request: Request, exc: Exception) -> JSONResponse:
    """Jobs and pictures: a missing one is 404, a finished one 409, a service not set up 503."""
    assert isinstance(exc, ServiceError)
    status = _SERVICE_STATUS.get(exc.code, 422)
    return problem(status, exc.message, instance=request.url.path, code=exc.code)


async def _unknown_upload(request: Request, exc: Exception) -> JSONResponse:
    return problem(404, str(exc), instance=request.url.path, code="unknown_upload")


#: Seconds a caller should wait before retrying a request refused because a store is down:
#: long enough for a restarted server or a pool's reconnect, short enough to feel alive.
RETRY_AFTER_S = 5
STORE_DOWN = "{what} is unavailable right now; please retry shortly"


def is_database_outage(exc: BaseException) -> bool:
    """A lost, refused or saturated database, as opposed to a bad query (which stays a 500 bug).

    Raw psycopg errors count too: the agent's checkpointer talks to PostgreSQL without SQLAlchemy.
    """
    if isinstance(exc, PoolTimeout):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        exc = exc.orig if exc.orig is not None else exc
    if isinstance(exc, psycopg.Error):
        if exc.sqlstate is None:  # raised by the client: no connection, lost, or none free in the pool
            return isinstance(exc, psycopg.OperationalError)
        # connection exceptions, a server shutting down or starting, too many connections
        return exc.sqlstate.startswith(("08", "57P", "53"))
    # SQLite held by another writer for longer than its busy timeout: retryable, not a bug.
    return isinstance(exc, sqlite3.OperationalError) and "database is locked" in str(exc)


def outage(exc: BaseException) -> tuple[str, str] | None:
    """``(code, detail)`` when ``exc`` means a store is down (the request may be retried as is)."""
    if isinstance(exc, StoreUnavailable):
        return "store_unavailable", STORE_DOWN.format(what="a storage service")
    if is_database_outage(exc):
        return "database_unavailable", STORE_DOWN.format(what="the database")
    return None


async def _store_down(request: Request, exc: Exception) -> JSONResponse:
    found = outage(exc)
    if found is None:
        raise exc
    code, detail = found
    logger.warning(code.replace("_", " "), extra={"path": request.url.path, "error": str(exc)[:500]})
    return problem(
        503, detail, instance=request.url.path, headers={"Retry-After": str(RETRY_AFTER_S)}, code=code
    )


def install_error_handlers(app: FastAPI) -> None:
    for outage_type in (StoreUnavailable, DBAPIError, PoolTimeout, psycopg.OperationalError):
        app.add_exception_handler(outage_type, _store_down)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(RequestValidationError, _validation_exception)
    app.add_exception_handler(AccountError, _account_error)
    app.add_exception_handler(SessionNotFound, _session_not_found)
    app.add_exception_handler(HandoffConflict, _handoff_conflict)
    app.add_exception_handler(SizingError, _sizing_error)
    app.add_exception_handler(RecommendError, _recommend_error)
    app.add_exception_handler(ImageRejected, _image_rejected)
    app.add_exception_handler(WardrobeError, _wardrobe_error)
    app.add_exception_handler(UnknownUpload, _unknown_upload)
    app.add_exception_handler(TryOnRejected, _tryon_rejected)
    app.add_exception_handler(ServiceError, _service_error)
