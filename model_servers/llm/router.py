"""HTTP routes of the embedded LLM server, and OpenAI-shaped error bodies for every failure.

Clients written for OpenAI and vLLM read ``{"error": {"message", ...}}`` and
expect 400 for a bad request, so FastAPI's default 422 validation body is
replaced here rather than taught to every client.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from model_servers.llm.protocol import (
    ChatCompletionRequest,
    ChatCompletionResponse,
    ErrorInfo,
    ErrorResponse,
    ModelList,
)
from model_servers.llm.serving import OpenAIServingChat, ServingError

router = APIRouter()

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Invalid request (OpenAI's error body)"},
    404: {"model": ErrorResponse, "description": "Unknown model"},
    500: {"model": ErrorResponse, "description": "Generation failed"},
}


def _serving(request: Request) -> OpenAIServingChat:
    serving: OpenAIServingChat = request.app.state.serving
    return serving


@router.get("/health")
async def health() -> dict[str, str]:
    """200 once the model is loaded (the lifespan loads it before the server accepts connections)."""
    return {"status": "ok"}


@router.get("/v1/models", response_model=ModelList)
async def show_available_models(request: Request) -> ModelList:
    return _serving(request).show_available_models()


@router.post("/v1/chat/completions", response_model=ChatCompletionResponse, responses=_ERRORS)
async def create_chat_completion(body: ChatCompletionRequest, request: Request) -> Response:
    result = await _serving(request).create_chat_completion(body)
    if isinstance(result, ChatCompletionResponse):
        return JSONResponse(result.model_dump(mode="json"))
    return StreamingResponse(
        result,
        media_type="text/event-stream",
        # Proxies must pass tokens through as they come, not buffer the whole answer.
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _error(
    status_code: int, message: str, error_type: str, *, param: str | None = None, code: Any = None
) -> Response:
    body = ErrorResponse(error=ErrorInfo(message=message, type=error_type, param=param, code=code))
    return JSONResponse(body.model_dump(mode="json"), status_code=status_code)


async def _serving_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServingError)
    return JSONResponse(exc.to_response().model_dump(mode="json"), status_code=exc.status_code)


async def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems: list[str] = []
    params: list[str] = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ()) if part != "body"]
        where = ".".join(location)
        if where:
            params.append(where)
        reason = str(error.get("msg", "invalid"))
        problems.append(f"{where}: {reason}" if where else reason)
    message = "; ".join(problems[:5]) or "invalid request"
    return _error(400, message, "invalid_request_error", param=params[0] if params else None)


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    error_type = "not_found_error" if exc.status_code == 404 else "invalid_request_error"
    return _error(exc.status_code, str(exc.detail), error_type, code=exc.status_code)


def add_exception_handlers(app: FastAPI) -> None:
    """Answer every error, including FastAPI's own, in OpenAI's shape."""
    app.add_exception_handler(ServingError, _serving_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
