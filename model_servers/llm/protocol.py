"""The OpenAI chat-completions wire format, the subset this server speaks.

Shaped after vLLM's ``entrypoints/openai/protocol.py`` so that code written
against the embedded server behaves the same against vLLM in production: the
same field names, limits, streaming chunks and error body. Fields OpenAI
defines but this server does not implement (tools, logprobs, n > 1) are
refused or ignored explicitly rather than silently half-supported.
"""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: The name the embedded server answers to by default (``IK_LLM__MODEL``'s default too).
DEFAULT_MODEL_NAME = "SmolLM2-135M-Instruct"
#: Upper bound on ``max_tokens``; the embedded model's whole context is 2048 tokens.
MAX_TOKENS_LIMIT = 2048
#: OpenAI accepts at most four stop sequences.
MAX_STOP_SEQUENCES = 4

Role = Literal["system", "user", "assistant", "tool"]
FinishReason = Literal["stop", "length"]


class OpenAIBaseModel(BaseModel):
    """Unknown fields are kept (not rejected) so newer clients still work; the server logs them."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


# --- requests ----------------------------------------------------------------------------------


class TextContentPart(BaseModel):
    """One part of a multi-part message; only text parts exist for a text-only model."""

    type: Literal["text"]
    text: str


class ChatMessage(OpenAIBaseModel):
    role: Role
    content: str | list[TextContentPart] | None = None
    name: str | None = None
    tool_call_id: str | None = None

    @property
    def text(self) -> str:
        """The content as one string: OpenAI clients may send a list of text parts."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content)


class JsonSchemaFormat(BaseModel):
    """OpenAI's ``response_format.json_schema`` (what vLLM accepts for guided decoding)."""

    model_config = ConfigDict(populate_by_name=True)

    name: Annotated[str, Field(min_length=1, max_length=64)] = "response"
    description: str | None = None
    # ``schema`` would shadow a BaseModel attribute, hence the alias.
    schema_: dict[str, Any] = Field(alias="schema")
    strict: bool | None = None


class ResponseFormat(BaseModel):
    """``text``, ``json_object`` (any JSON, or llama-cpp-python's ``schema`` extension) or ``json_schema``."""

    model_config = ConfigDict(populate_by_name=True)

    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")

    @model_validator(mode="after")
    def _schema_where_needed(self) -> Self:
        if self.type == "json_schema" and self.json_schema is None:
            raise ValueError("response_format.json_schema is required when type is 'json_schema'")
        return self

    @property
    def json_schema_dict(self) -> dict[str, Any] | None:
        """The schema the output must satisfy, if any (``None``: any JSON, or free text)."""
        if self.type == "json_schema":
            assert self.json_schema is not None  # checked by the validator
            return self.json_schema.schema_
        if self.type == "json_object":
            return self.schema_
        return None


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatCompletionRequest(OpenAIBaseModel):
    model: Annotated[str, Field(min_length=1)]
    messages: Annotated[list[ChatMessage], Field(min_length=1)]
    max_tokens: Annotated[int | None, Field(ge=1, le=MAX_TOKENS_LIMIT)] = None
    #: The newer name for ``max_tokens``; wins when both are sent.
    max_completion_tokens: Annotated[int | None, Field(ge=1, le=MAX_TOKENS_LIMIT)] = None
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] = 1.0
    top_p: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0
    stop: str | Annotated[list[str], Field(max_length=MAX_STOP_SEQUENCES)] | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    seed: int | None = None
    response_format: ResponseFormat | None = None
    #: Only one choice per request: a 2-core CPU should not be asked for several.
    n: Annotated[int, Field(ge=1, le=1)] = 1

    @model_validator(mode="after")
    def _refuse_unsupported(self) -> Self:
        extra = self.model_extra or {}
        if extra.get("tools") or extra.get("functions"):
            raise ValueError("tool calling is not supported by this server; use vLLM for tools")
        if self.stop is not None:
            stops = [self.stop] if isinstance(self.stop, str) else self.stop
            if any(not s for s in stops):
                raise ValueError("stop sequences must not be empty")
        return self

    @property
    def stop_sequences(self) -> tuple[str, ...]:
        if self.stop is None:
            return ()
        return (self.stop,) if isinstance(self.stop, str) else tuple(self.stop)

    @property
    def requested_max_tokens(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens


# --- responses ---------------------------------------------------------------------------------


def new_completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def unix_now() -> int:
    return int(time.time())


class UsageInfo(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class ChatCompletionMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatCompletionChoice(BaseModel):
    index: int = 0
    message: ChatCompletionMessage
    finish_reason: FinishReason | None = None
    logprobs: None = None


class ChatCompletionResponse(BaseModel):
    id: str = Field(default_factory=new_completion_id)
    object: Literal["chat.completion"] = "chat.completion"
    created: int = Field(default_factory=unix_now)
    model: str
    choices: list[ChatCompletionChoice]
    usage: UsageInfo


class DeltaMessage(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChatCompletionStreamChoice(BaseModel):
    index: int = 0
    delta: DeltaMessage
    finish_reason: FinishReason | None = None
    logprobs: None = None


class ChatCompletionStreamResponse(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChatCompletionStreamChoice]
    #: Only on the last chunk, and only when ``stream_options.include_usage`` asked for it.
    usage: UsageInfo | None = None


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = Field(default_factory=unix_now)
    owned_by: str = "innovation-kun"
    root: str | None = None
    #: vLLM reports the context length here; clients use it to budget prompts.
    max_model_len: int | None = None


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


# --- errors ------------------------------------------------------------------------------------


class ErrorInfo(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | int | None = None


class ErrorResponse(BaseModel):
    """OpenAI's error body, ``{"error": {"message", "type", "param", "code"}}``."""

    error: ErrorInfo
