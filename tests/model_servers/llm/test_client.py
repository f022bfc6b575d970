"""LLMClient against the real embedded app (in process) and against scripted failures."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, SecretStr

from core.config import LLMSettings
from model_servers.llm.client import LLMClient, LLMError
from tests.model_servers.llm.conftest import MODEL

if TYPE_CHECKING:
    from model_servers.llm.serving import LlamaEngine

pytestmark = pytest.mark.unit

T = TypeVar("T")
QUESTION = [{"role": "user", "content": "Name one colour that goes with grey."}]


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


@pytest.fixture(scope="module")
def app(engine: LlamaEngine) -> FastAPI:
    from model_servers.llm.app import create_app

    return create_app(engine=engine, model_name=MODEL)


@pytest.fixture
def connect(app: FastAPI) -> Callable[..., LLMClient]:
    """Clients wired to the in-process app through httpx's ASGI transport."""

    def make(model: str = MODEL, **kwargs: Any) -> LLMClient:
        return LLMClient("http://llm/v1", model, transport=httpx.ASGITransport(app=app), **kwargs)

    return make


def scripted(handler: Callable[[httpx.Request], httpx.Response]) -> LLMClient:
    return LLMClient("http://llm/v1", MODEL, transport=httpx.MockTransport(handler))


# --- against the real model -----------------------------------------------------------------------


def test_complete_and_stream_give_the_same_text(connect: Callable[..., LLMClient]) -> None:
    async def go() -> tuple[str, list[str]]:
        async with connect() as client:
            text = await client.complete(QUESTION, max_tokens=10)
            pieces = [piece async for piece in client.stream(QUESTION, max_tokens=10)]
        return text, pieces

    text, pieces = run(go())
    assert text.strip()
    assert len(pieces) > 3
    assert "".join(pieces) == text


def test_stop_sequences_reach_the_server(connect: Callable[..., LLMClient]) -> None:
    async def go() -> tuple[str, str]:
        async with connect() as client:
            full = await client.complete(QUESTION, max_tokens=10)
            return full, await client.complete(QUESTION, max_tokens=10, stop=[full.split()[1]])

    full, cut = run(go())
    assert cut == full[: full.index(full.split()[1])]


class Colour(BaseModel):
    colour: Literal["black", "white", "blue", "red", "green", "pink"]
    reason: Literal["contrast", "harmony"]


def test_structured_returns_a_validated_model(connect: Callable[..., LLMClient]) -> None:
    async def go() -> Colour:
        async with connect() as client:
            return await client.structured(
                [{"role": "system", "content": "Answer in JSON."}, *QUESTION], Colour, max_tokens=40
            )

    answer = run(go())
    assert isinstance(answer, Colour)


def test_structured_reply_cut_off_at_max_tokens_is_an_error(connect: Callable[..., LLMClient]) -> None:
    async def go() -> Colour:
        async with connect() as client:
            return await client.structured(QUESTION, Colour, max_tokens=3)

    with pytest.raises(LLMError, match="cut off at max_tokens=3"):
        run(go())


def test_health_is_true_only_for_the_served_model(connect: Callable[..., LLMClient]) -> None:
    async def go() -> tuple[bool, bool]:
        async with connect() as served, connect(model="other-model") as other:
            return await served.health(), await other.health()

    assert run(go()) == (True, False)


@pytest.mark.parametrize("streaming", [False, True])
def test_http_errors_carry_status_and_the_servers_message(
    connect: Callable[..., LLMClient], streaming: bool
) -> None:
    async def go(client: LLMClient, messages: list[dict[str, str]]) -> None:
        async with client:
            if streaming:
                async for _ in client.stream(messages):
                    pass
            else:
                await client.complete(messages)

    with pytest.raises(LLMError, match=r"HTTP 404: The model `nope` does not exist") as not_found:
        run(go(connect(model="nope"), QUESTION))
    assert not_found.value.status_code == 404

    too_long = [{"role": "user", "content": "shirt " * 3000}]
    with pytest.raises(LLMError, match="HTTP 400: This model's maximum context length") as bad:
        run(go(connect(), too_long))
    assert bad.value.status_code == 400


# --- scripted failures ------------------------------------------------------------------------------


def test_server_errors_are_llm_errors() -> None:
    overloaded = scripted(
        lambda _: httpx.Response(503, json={"error": {"message": "overloaded", "type": "server_error"}})
    )
    with pytest.raises(LLMError, match="HTTP 503: overloaded") as error:
        run(overloaded.complete(QUESTION))
    assert error.value.status_code == 503

    crashed = scripted(lambda _: httpx.Response(500, text="Internal Server Error"))
    with pytest.raises(LLMError, match="HTTP 500: Internal Server Error"):
        run(crashed.complete(QUESTION))


def test_unreachable_server_is_an_llm_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again below: nothing listens there

    async def go() -> None:
        async with LLMClient(f"http://127.0.0.1:{port}/v1", MODEL, timeout_s=2) as client:
            assert not await client.health()
            await client.complete(QUESTION)

    with pytest.raises(LLMError, match="cannot reach the LLM server") as error:
        run(go())
    assert error.value.status_code is None


def test_timeouts_are_llm_errors() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    client = scripted(slow)
    with pytest.raises(LLMError, match="timed out after 30 s"):
        run(client.complete(QUESTION))

    async def drain() -> None:
        async for _ in client.stream(QUESTION):
            pass

    with pytest.raises(LLMError, match="sent nothing for 30 s"):
        run(drain())


def sse(*events: str) -> httpx.Response:
    body = "".join(f"data: {event}\n\n" for event in events)
    return httpx.Response(200, text=body, headers={"content-type": "text/event-stream"})


def chunk(text: str) -> str:
    return json.dumps({"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]})


def test_stream_parses_events_and_reports_failures() -> None:
    async def collect(client: LLMClient) -> list[str]:
        return [piece async for piece in client.stream(QUESTION)]

    usage_only = json.dumps({"choices": [], "usage": {"prompt_tokens": 1}})
    assert run(collect(scripted(lambda _: sse(chunk("Hel"), chunk("lo"), usage_only, "[DONE]")))) == [
        "Hel",
        "lo",
    ]

    failing = scripted(lambda _: sse(chunk("Hel"), json.dumps({"error": {"message": "decode failed"}})))
    with pytest.raises(LLMError, match="failed while streaming: decode failed"):
        run(collect(failing))

    with pytest.raises(LLMError, match=r"ended without \[DONE\]"):
        run(collect(scripted(lambda _: sse(chunk("Hel")))))


def test_structured_reply_that_is_not_the_schema_is_an_error() -> None:
    seen: list[dict[str, Any]] = []

    def reply(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        message = {"role": "assistant", "content": '{"colour": "mauve"}'}
        return httpx.Response(200, json={"choices": [{"message": message, "finish_reason": "stop"}]})

    with pytest.raises(LLMError, match="does not match Colour"):
        run(scripted(reply).structured(QUESTION, Colour))
    response_format = seen[0]["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "Colour"
    assert response_format["json_schema"]["strict"] is True
    assert response_format["json_schema"]["schema"] == Colour.model_json_schema()


def test_requests_carry_the_model_options_and_api_key() -> None:
    seen: list[httpx.Request] = []

    def reply(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        message = {"role": "assistant", "content": "ok"}
        return httpx.Response(200, json={"choices": [{"message": message, "finish_reason": "stop"}]})

    client = LLMClient("http://vllm:8000/v1/", "qwen", api_key="k-1", transport=httpx.MockTransport(reply))
    assert run(client.complete(QUESTION, max_tokens=7, temperature=0.3, stop=["\n"])) == "ok"
    request = seen[0]
    assert str(request.url) == "http://vllm:8000/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer k-1"
    assert json.loads(request.content) == {
        "model": "qwen",
        "messages": QUESTION,
        "max_tokens": 7,
        "temperature": 0.3,
        "stream": False,
        "stop": ["\n"],
    }


def test_from_settings_follows_the_provider() -> None:
    assert LLMClient.from_settings(LLMSettings(provider="none")) is None

    embedded = LLMClient.from_settings(LLMSettings(provider="embedded", embedded_port=9123))
    assert embedded is not None
    assert (embedded.base_url, embedded.model) == ("http://127.0.0.1:9123/v1", "SmolLM2-135M-Instruct")

    remote = LLMClient.from_settings(
        LLMSettings(
            provider="openai",
            base_url="http://vllm:8000/v1",
            model="qwen",
            api_key=SecretStr("k"),
            timeout_s=5,
        )
    )
    assert remote is not None
    assert (remote.base_url, remote.model, remote.timeout_s) == ("http://vllm:8000/v1", "qwen", 5)
