"""What the graph runs on: built once by its host (API lifespan, CLI, evals, ``langgraph dev``).

``AgentDeps`` is process-wide (tools, the router, the LLM client). ``ChatContext`` is
per run and says who the person is; the host sets it from authentication, never from
the conversation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar

from pydantic import BaseModel

from agent.router import IntentClassifier
from core.config import AgentSettings, LLMSettings
from tools.registry import ToolRegistry, ToolServices

M = TypeVar("M", bound=BaseModel)


class LanguageModel(Protocol):
    """What the graph needs from an LLM; ``model_servers.llm.client.LLMClient`` is the real one."""

    def stream(
        self, messages: Sequence[Mapping[str, str]], *, max_tokens: int = ..., temperature: float = ...
    ) -> AsyncIterator[str]: ...

    async def structured(
        self, messages: Sequence[Mapping[str, str]], schema: type[M], *, max_tokens: int = ...
    ) -> M: ...


@dataclass(frozen=True)
class AgentDeps:
    registry: ToolRegistry
    services: ToolServices
    classifier: IntentClassifier
    llm: LanguageModel | None
    llm_settings: LLMSettings
    agent_settings: AgentSettings
    #: Only for ``langgraph dev`` (a local tool with no sign-in): whose data a run without a user acts on.
    default_user_id: str | None = None


@dataclass(frozen=True)
class ChatContext:
    #: May be empty only because the LangGraph API builds the context from ``{}`` when a run
    #: brings none; ``context_of`` then uses ``AgentDeps.default_user_id`` or refuses the run.
    user_id: str = ""
    #: The app's language setting; when absent the language of each message decides.
    locale: Literal["zh", "en"] | None = None


class MissingUser(Exception):
    """A run reached the tools without knowing whose data they may touch."""


def context_of(given: object, default_user_id: str | None = None) -> ChatContext:
    """The run's ``ChatContext``; the LangGraph API may hand it over as a dict, or not at all."""
    if isinstance(given, dict):
        given = ChatContext(user_id=str(given.get("user_id") or ""), locale=given.get("locale"))
    if isinstance(given, ChatContext) and given.user_id:
        return given
    if default_user_id:
        locale = given.locale if isinstance(given, ChatContext) else None
        return ChatContext(user_id=default_user_id, locale=locale)
    raise MissingUser("the run has no user_id in its context; the host must set it from sign-in")
