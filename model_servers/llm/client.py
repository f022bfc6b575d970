"""The one client the application uses for any OpenAI-compatible chat endpoint.

vLLM in production and the embedded llama.cpp server in development speak the
same protocol, so everything above this module is written once against
:class:`LLMClient` and never learns which one it talks to. Every failure
(unreachable, timeout, HTTP error, output that does not match the requested
schema) surfaces as :class:`LLMError`, so callers can fall back to templates
with one ``except``.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from core.telemetry import AsyncTracedTransport
from model_servers.http_errors import quote, server_error

if TYPE_CHECKING:
    from core.config import LLMSettings

M = TypeVar("M", bound=BaseModel)

Messages = Sequence[Mapping[str, str]]


class LLMError(Exception):
    """The model could not answer usefully: unreachable, timed out, refused, or off-schema."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        #: The HTTP status when the server answered with an error, else ``None``.
        self.status_code = status_code


def _schema_name(schema: type[BaseModel]) -> str:
    # OpenAI and vLLM require ^[a-zA-Z0-9_-]{1,64}$; generic models are named like ``Page[Item]``.
    return re.sub(r"[^a-zA-Z0-9_-]", "_", schema.__name__)[:64] or "response"


class LLMClient:
    """Async chat completions against ``base_url`` (ending in ``/v1``) for one ``model``."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout_s: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout_s = timeout_s
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.AsyncClient(
            base_url=self.base_url + "/",
            headers=headers,
            timeout=httpx.Timeout(timeout_s),
            # a client span and a traceparent header per request while tracing is on
            transport=AsyncTracedTransport(transport, "llm"),
        )

    @classmethod
    def from_settings(cls, llm: LLMSettings) -> LLMClient | None:
        """The client the settings describe, or ``None`` when no LLM is configured (template replies)."""
        url = llm.url
        if llm.provider == "none" or url is None:
            return None
        api_key = llm.api_key.get_secret_value() if llm.api_key is not None else None
        return cls(url, llm.model, api_key=api_key, timeout_s=llm.timeout_s)

    # --- calls ---------------------------------------------------------------------------------

    def _body(
        self,
        messages: Messages,
        *,
        max_tokens: int,
        temperature: float,
        stop: Sequence[str] | None,
        stream: bool,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [dict(message) for message in messages],
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": stream,
        }
        if stop:
            body["stop"] = list(stop)
        return body

    async def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = await self._http.post("chat/completions", json=body)
        except httpx.TimeoutException as exc:
            raise LLMError(f"LLM server at {self.base_url} timed out after {self.timeout_s:g} s") from exc
        except httpx.HTTPError as exc:
            raise LLMError(f"cannot reach the LLM server at {self.base_url}: {exc!r}") from exc
        self._raise_for_status(response)
        try:
            payload = response.json()
        except ValueError as exc:
            raise LLMError(f"LLM server sent a body that is not JSON: {quote(response.text)}") from exc
        if not isinstance(payload, dict):
            raise LLMError(f"LLM server sent an unexpected body: {quote(response.text)}")
        return payload

    def _raise_for_status(self, response: httpx.Response) -> None:
        if response.is_success:
            return
        raise LLMError(
            f"LLM server answered HTTP {response.status_code}: {server_error(response)[1]}",
            status_code=response.status_code,
        )

    @staticmethod
    def _first_choice(payload: dict[str, Any]) -> dict[str, Any]:
        try:
            choice = payload["choices"][0]
            if not isinstance(choice, dict):
                raise TypeError("choice is not an object")
        except (KeyError, IndexError, TypeError) as exc:
            raise LLMError(f"LLM reply has no choices: {quote(json.dumps(payload))}") from exc
        return choice

    async def complete(
        self,
        messages: Messages,
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        stop: Sequence[str] | None = None,
    ) -> str:
        """The assistant's reply to ``messages``."""
        payload = await self._post(
            self._body(messages, max_tokens=max_tokens, temperature=temperature, stop=stop, stream=False)
        )
        content = self._first_choice(payload).get("message", {}).get("content")
        return content if isinstance(content, str) else ""

    async def stream(
        self,
        messages: Messages,
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        stop: Sequence[str] | None = None,
    ) -> AsyncIterator[str]:
        """The reply as text pieces, as the server produces them (server-sent events)."""
        body = self._body(messages, max_tokens=max_tokens, temperature=temperature, stop=stop, stream=True)
        try:
            async with self._http.stream("POST", "chat/completions", json=body) as response:
                if not response.is_success:
                    await response.aread()
                    self._raise_for_status(response)
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue  # blank separators, comments, event names
                    data = line[len("data:") :].strip()
                    if data == "[DONE]":
                        return
                    text = self._delta_text(data)
                    if text:
                        yield text
        except httpx.TimeoutException as exc:
            raise LLMError(
                f"LLM server at {self.base_url} sent nothing for {self.timeout_s:g} s while streaming"
            ) from exc
        except httpx.HTTPError as exc:
            raise LLMError(f"cannot reach the LLM server at {self.base_url}: {exc!r}") from exc
        raise LLMError("LLM stream ended without [DONE]; the reply may be incomplete")

    @staticmethod
    def _delta_text(data: str) -> str:
        try:
            chunk = json.loads(data)
        except ValueError as exc:
            raise LLMError(f"LLM stream sent an event that is not JSON: {quote(data)}") from exc
        if not isinstance(chunk, dict):
            raise LLMError(f"LLM stream sent an unexpected event: {quote(data)}")
        if "error" in chunk:
            error = chunk["error"]
            message = error.get("message") if isinstance(error, dict) else error
            raise LLMError(f"LLM server failed while streaming: {message}")
        choices = chunk.get("choices") or []
        if not choices or not isinstance(choices[0], dict):
            return ""  # e.g. the usage-only last chunk
        content = (choices[0].get("delta") or {}).get("content")
        return content if isinstance(content, str) else ""

    async def structured(self, messages: Messages, schema: type[M], *, max_tokens: int = 256) -> M:
        """The reply as an instance of ``schema``, the server constrained to emit JSON matching it.

        Uses OpenAI's ``json_schema`` response format, which vLLM (guided
        decoding) and the embedded server (a llama.cpp grammar) both enforce;
        the reply is validated here anyway, since a reply cut off at
        ``max_tokens`` is not valid JSON whatever the grammar.
        """
        body = self._body(messages, max_tokens=max_tokens, temperature=0.0, stop=None, stream=False)
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {
                "name": _schema_name(schema),
                "schema": schema.model_json_schema(),
                "strict": True,
            },
        }
        choice = self._first_choice(await self._post(body))
        content = choice.get("message", {}).get("content")
        if not isinstance(content, str):
            raise LLMError(f"LLM reply for {schema.__name__} has no text content")
        if choice.get("finish_reason") == "length":
            raise LLMError(
                f"LLM reply for {schema.__name__} was cut off at max_tokens={max_tokens}: {quote(content)}"
            )
        try:
            return schema.model_validate_json(content)
        except ValidationError as exc:
            raise LLMError(
                f"LLM reply does not match {schema.__name__}: {exc.error_count()} error(s), "
                f"first: {exc.errors()[0]['msg']}; reply: {quote(content)}"
            ) from exc

    async def health(self) -> bool:
        """Whether the server answers and serves ``model``: ``GET /v1/models``, which vLLM and OpenAI have.

        Asking for the model list (not a bare ``/health``) also proves the API key
        works and the name is right, so ``True`` means a completion can succeed.
        """
        try:
            response = await self._http.get("models")
        except httpx.HTTPError:
            return False
        if not response.is_success:
            return False
        try:
            models = response.json().get("data", [])
            return any(isinstance(card, dict) and card.get("id") == self.model for card in models)
        except (ValueError, AttributeError):
            return False

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
