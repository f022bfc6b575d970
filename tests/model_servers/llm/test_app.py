"""The embedded server's HTTP API with the real SmolLM2 model: completions, streaming, JSON, errors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from tests.model_servers.llm.conftest import MODEL

if TYPE_CHECKING:
    from model_servers.llm.serving import LlamaEngine

pytestmark = pytest.mark.unit

QUESTION = [{"role": "user", "content": "What colour shoes go with a navy suit?"}]


@pytest.fixture(scope="module")
def client(engine: LlamaEngine) -> Iterator[TestClient]:
    from model_servers.llm.app import create_app

    with TestClient(create_app(engine=engine, model_name=MODEL)) as test_client:
        yield test_client


# TestClient answers with httpx2 or httpx responses depending on what is installed; not annotated.
def chat(client: TestClient, **fields: Any):
    body: dict[str, Any] = {"model": MODEL, "messages": QUESTION, "max_tokens": 12, "temperature": 0}
    body.update(fields)
    return client.post("/v1/chat/completions", json=body)


def sse_events(response) -> list[str]:
    assert response.headers["content-type"].startswith("text/event-stream")
    return [line.removeprefix("data: ") for line in response.text.split("\n\n") if line]


def assert_openai_error(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"]
    return error


def test_health_and_model_list(client: TestClient) -> None:
    assert client.get("/health").status_code == 200
    models = client.get("/v1/models").json()
    assert models["object"] == "list"
    assert [(card["id"], card["max_model_len"]) for card in models["data"]] == [(MODEL, 2048)]


def test_completion_returns_text_and_usage(client: TestClient) -> None:
    response = chat(client)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["model"] == MODEL
    choice = body["choices"][0]
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"].strip()
    assert choice["finish_reason"] == "length"
    usage = body["usage"]
    assert usage["completion_tokens"] == 12
    assert usage["prompt_tokens"] > 10
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_stream_sends_chunks_then_done_and_matches_the_plain_reply(client: TestClient) -> None:
    plain = chat(client, seed=3).json()
    events = sse_events(chat(client, seed=3, stream=True, stream_options={"include_usage": True}))
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    assert len({chunk["id"] for chunk in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    pieces = [c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"]]
    assert sum(1 for piece in pieces if piece) >= 5  # token by token, not one blob at the end
    # llama.cpp at temperature 0 is deterministic: the stream is the same text, token for token.
    assert "".join(pieces) == plain["choices"][0]["message"]["content"]
    assert chunks[-2]["choices"][0]["finish_reason"] == plain["choices"][0]["finish_reason"]
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == plain["usage"]


def test_seeded_sampling_repeats_and_the_seed_matters(client: TestClient) -> None:
    def sample(seed: int) -> str:
        reply = chat(client, temperature=1.0, seed=seed, max_tokens=10).json()
        return str(reply["choices"][0]["message"]["content"])

    first = sample(11)
    assert sample(11) == first
    assert any(sample(seed) != first for seed in (12, 13))


def test_stop_sequence_cuts_the_reply_before_it(client: TestClient) -> None:
    full = chat(client, max_tokens=16).json()["choices"][0]["message"]["content"]
    words = full.split()
    assert len(words) >= 3, full
    stop = words[2]
    cut = chat(client, max_tokens=16, stop=[stop, "never-generated"]).json()["choices"][0]
    assert cut["finish_reason"] == "stop"
    assert cut["message"]["content"] == full[: full.index(stop)]


class IntentGuess(BaseModel):
    intent: Literal["size_advice", "outfit_advice", "wardrobe", "other"]
    confident: bool


def test_json_schema_output_parses_and_matches_the_schema(client: TestClient) -> None:
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "IntentGuess", "schema": IntentGuess.model_json_schema(), "strict": True},
    }
    messages = [
        {"role": "system", "content": "Classify the request. Answer in JSON."},
        {"role": "user", "content": "Which size of this dress should I order? I am 165 cm."},
    ]
    reply = chat(client, messages=messages, max_tokens=40, response_format=response_format).json()
    choice = reply["choices"][0]
    assert choice["finish_reason"] == "stop", choice
    guess = IntentGuess.model_validate_json(choice["message"]["content"])
    assert guess.intent in {"size_advice", "outfit_advice", "wardrobe", "other"}


def test_json_object_output_is_json(client: TestClient) -> None:
    schema = {
        "type": "object",
        "properties": {"colour": {"type": "string", "maxLength": 20}},
        "required": ["colour"],
    }
    reply = chat(client, max_tokens=40, response_format={"type": "json_object", "schema": schema}).json()
    assert reply["choices"][0]["finish_reason"] == "stop"
    assert isinstance(json.loads(reply["choices"][0]["message"]["content"])["colour"], str)


def test_concurrent_requests_are_serialised_not_mixed(engine: LlamaEngine) -> None:
    from model_servers.llm.app import create_app

    app = create_app(engine=engine, model_name=MODEL)
    body = {"model": MODEL, "messages": QUESTION, "max_tokens": 6, "temperature": 0}

    async def run() -> list[str]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://llm") as http:
            replies = await asyncio.gather(*(http.post("/v1/chat/completions", json=body) for _ in range(3)))
        return [reply.json()["choices"][0]["message"]["content"] for reply in replies]

    texts = asyncio.run(run())
    assert texts[0]
    assert texts == [texts[0]] * 3


LONG_PROMPT = [{"role": "user", "content": "tell me about shirts " * 600}]


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "robot", "content": "hi"}]}, "messages.0.role"),
        ({"max_tokens": 4096}, "max_tokens"),
        ({"temperature": -1}, "temperature"),
        ({"response_format": {"type": "json_schema"}}, "response_format"),
        ({"tools": [{"type": "function", "function": {"name": "search"}}]}, None),
    ],
)
def test_invalid_requests_get_400_in_openai_shape(
    client: TestClient, fields: dict[str, Any], param: str | None
) -> None:
    error = assert_openai_error(chat(client, **fields), 400)
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param


def test_body_that_is_not_json_gets_400(client: TestClient) -> None:
    response = client.post(
        "/v1/chat/completions", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_openai_error(response, 400)


def test_unknown_model_gets_404(client: TestClient) -> None:
    error = assert_openai_error(chat(client, model="gpt-4o"), 404)
    assert error["code"] == "model_not_found"
    assert "gpt-4o" in error["message"]


def test_prompt_longer_than_the_context_gets_400(client: TestClient) -> None:
    for fields in ({"messages": LONG_PROMPT, "max_tokens": None}, {"messages": LONG_PROMPT, "stream": True}):
        error = assert_openai_error(chat(client, **fields), 400)
        assert error["code"] == "context_length_exceeded"
        assert "maximum context length is 2048 tokens" in error["message"]


def test_prompt_plus_max_tokens_over_the_context_gets_400(client: TestClient) -> None:
    # ~1600 prompt tokens fit, but not with 1000 more for the reply (vLLM refuses this too).
    messages = [{"role": "user", "content": "tell me about shirts " * 400}]
    error = assert_openai_error(chat(client, messages=messages, max_tokens=1000), 400)
    assert error["code"] == "context_length_exceeded"


def test_unknown_route_answers_in_openai_shape(client: TestClient) -> None:
    error = assert_openai_error(client.get("/v1/completions"), 404)
    assert error["type"] == "not_found_error"
