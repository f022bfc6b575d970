"""The request models refuse what the server cannot do, before any model is involved."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from model_servers.llm.protocol import MAX_TOKENS_LIMIT, ChatCompletionRequest, ResponseFormat

pytestmark = pytest.mark.unit


def request(**fields: Any) -> ChatCompletionRequest:
    body: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    body.update(fields)
    return ChatCompletionRequest.model_validate(body)


def test_minimal_request_takes_openai_defaults() -> None:
    parsed = request()
    assert parsed.temperature == 1.0
    assert parsed.top_p == 1.0
    assert parsed.requested_max_tokens is None
    assert parsed.stop_sequences == ()
    assert not parsed.stream


def test_text_parts_are_joined_and_stop_may_be_a_string() -> None:
    parsed = request(
        messages=[
            {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}
        ],
        stop="\n",
        max_tokens=10,
        max_completion_tokens=20,
    )
    assert parsed.messages[0].text == "ab"
    assert parsed.stop_sequences == ("\n",)
    assert parsed.requested_max_tokens == 20


def test_unknown_fields_are_kept_for_logging_not_refused() -> None:
    assert request(user="u-1", presence_penalty=0.0).model_extra == {"user": "u-1", "presence_penalty": 0.0}


@pytest.mark.parametrize(
    "fields",
    [
        {"messages": []},
        {"messages": [{"role": "robot", "content": "hi"}]},
        {"max_tokens": MAX_TOKENS_LIMIT + 1},
        {"max_tokens": 0},
        {"temperature": 2.5},
        {"top_p": 0},
        {"n": 2},
        {"stop": ["a", "b", "c", "d", "e"]},
        {"stop": [""]},
        {"model": ""},
        {"tools": [{"type": "function", "function": {"name": "f"}}]},
        {"response_format": {"type": "json_schema"}},
        {"response_format": {"type": "yaml"}},
    ],
)
def test_invalid_requests_are_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        request(**fields)


def test_response_formats_name_the_schema_to_enforce() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    assert ResponseFormat.model_validate({"type": "text"}).json_schema_dict is None
    assert ResponseFormat.model_validate({"type": "json_object"}).json_schema_dict is None
    assert ResponseFormat.model_validate({"type": "json_object", "schema": schema}).json_schema_dict == schema
    openai_style = {"type": "json_schema", "json_schema": {"name": "a", "schema": schema, "strict": True}}
    assert ResponseFormat.model_validate(openai_style).json_schema_dict == schema
