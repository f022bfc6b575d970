"""What a model server said when it refused: the one reading of an error body every HTTP client
shares (our servers' ``{code, detail}``, OpenAI's and vLLM's ``{error: {message, code}}``, FastAPI's
validation ``detail``, or the raw body), quoted short enough for a log line or an error message."""

from __future__ import annotations

import json

import httpx

#: How much of a server's body a message quotes.
QUOTE_CHARS = 500


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + "…"


def server_error(response: httpx.Response, *, limit: int = QUOTE_CHARS) -> tuple[str | None, str]:
    """The server's error code, if it gave one, and its explanation."""
    try:
        body = response.json()
    except ValueError:
        return None, quote(response.text, limit) or response.reason_phrase
    if not isinstance(body, dict):
        return None, quote(response.text, limit)
    error = body.get("error")
    if isinstance(error, dict):
        code = error.get("code")
        message = error.get("message") or response.reason_phrase
        return (str(code) if code is not None else None), quote(str(message), limit)
    if isinstance(error, str):
        return None, quote(error, limit)
    code = body.get("code")
    detail = body.get("detail")
    if isinstance(detail, str):
        message = detail
    elif detail is not None:
        message = json.dumps(detail, ensure_ascii=False)
    else:
        message = response.text
    return (str(code) if code is not None else None), quote(message, limit)
