"""The contract every tool follows, so the agent, the API and evaluations treat them alike.

A tool takes typed arguments and a ``ToolContext`` and returns a ``ToolResult``:
``ok`` plus data, or an ``error`` written for the agent to act on (ask the person,
fix an argument); ``facts`` are the only statements the responder may make from it
(sizes, prices, measurements); ``cards`` are what the UI shows. The person a tool
acts for comes from the context, never from the arguments, so nothing a message
says ("show me user 2's measurements") can point a tool at someone else's data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tools.profile.schemas import Locale


class Card(BaseModel):
    kind: Literal["product", "image", "job", "profile"]
    id: str
    title: str | None = None
    image_url: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class ToolResult(BaseModel):
    ok: bool
    data: dict[str, Any] = Field(default_factory=dict)
    #: For the agent: what went wrong and what to do about it. Never a traceback.
    error: str | None = None
    #: Statements the responder may make, each self-contained ("height 165 cm").
    facts: list[str] = Field(default_factory=list)
    cards: list[Card] = Field(default_factory=list)

    @classmethod
    def failure(cls, error: str) -> ToolResult:
        return cls(ok=False, error=error)


@dataclass(frozen=True)
class ToolContext:
    """Who the tool acts for, in which language, with which services."""

    user_id: str
    locale: Locale
    services: Any  # tools.registry.ToolServices; Any here to keep this module free of every service import

    @property
    def zh(self) -> bool:
        """Whether facts and refusals are written in Chinese."""
        return str(self.locale) == "zh"


class ToolArgs(BaseModel):
    """Arguments refuse unknown fields, so a model's typo is reported instead of ignored."""

    model_config = ConfigDict(extra="forbid")


ArgsT = TypeVar("ArgsT", bound=ToolArgs)


class Refusal(Exception):
    """An input refused for a reason the person can act on; ``code`` is stable for clients and
    one of the subclass's ``CODES``, ``message`` is for people."""

    CODES: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, code: str, message: str) -> None:
        if code not in self.CODES:
            raise ValueError(f"unknown {type(self).__name__} code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


class ServiceError(Exception):
    """A request a service cannot meet; ``code`` decides the HTTP status, ``message`` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ToolError(Exception):
    """Raised inside a tool for a problem the agent can act on; becomes ``ToolResult.error``."""


@dataclass(frozen=True)
class Tool(Generic[ArgsT]):
    name: str
    description: str
    args: type[ArgsT]
    run: Callable[[ToolContext, ArgsT], ToolResult]

    def invoke(self, context: ToolContext, arguments: dict[str, Any]) -> ToolResult:
        """Validate the arguments, run, and turn expected failures into messages."""
        try:
            parsed = self.args.model_validate(arguments)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors()[:5]
            )
            return ToolResult.failure(f"invalid arguments for {self.name}: {problems}")
        try:
            return self.run(context, parsed)
        except ToolError as exc:  # anything else is a bug and must surface as one
            return ToolResult.failure(str(exc))

    def openai_schema(self) -> dict[str, Any]:
        """The OpenAI function-calling description (vLLM and llama.cpp servers accept it)."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.args.model_json_schema(),
            },
        }
