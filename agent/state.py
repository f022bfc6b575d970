"""What the graph remembers within a thread (checkpointed) and what a caller may send in.

The input is narrow on purpose: a caller (the API, the CLI, Agent Chat UI through the
LangGraph API) sends messages only. Who the person is comes from the run's context,
set by the authenticated host, so no message can change whose data the tools read.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from agent.intents import Intent
from agent.slots import Slots
from tools.base import ToolResult

Language = Literal["zh", "en"]
OutcomeStatus = Literal["done", "clarify", "confirm", "unavailable", "failed", "handoff"]


class Step(BaseModel):
    """One request found in the turn, handled in the order the person asked."""

    intent: Intent
    confidence: float
    text: str
    slots: Slots = Field(default_factory=Slots)
    #: ``router``, ``llm`` (the fallback classified it), ``pending`` (answers an earlier question).
    source: Literal["router", "llm", "pending"] = "router"
    #: For an answer to "shall I save this?": the person's yes/no and the changes asked about.
    confirm: bool | None = None
    changes: dict[str, Any] = Field(default_factory=dict)


class ToolCallRecord(BaseModel):
    """One tool call as support sees it: what was asked and what came back (facts, not raw data)."""

    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    ok: bool
    error: str | None = None
    facts: list[str] = Field(default_factory=list)

    @classmethod
    def of(cls, tool: str, arguments: dict[str, Any], result: ToolResult) -> ToolCallRecord:
        return cls(tool=tool, arguments=arguments, ok=result.ok, error=result.error, facts=result.facts)


class Outcome(BaseModel):
    """What one step produced; the responder turns a turn's outcomes into one reply."""

    intent: Intent
    status: OutcomeStatus
    #: Statements the reply may make, from tool results only.
    facts: list[str] = Field(default_factory=list)
    #: Template sentences in the person's language (what to say when no LLM phrases it).
    lines: list[str] = Field(default_factory=list)
    cards: list[dict[str, Any]] = Field(default_factory=list)
    #: Tools called for this step, in order, with whether each succeeded.
    tools: list[tuple[str, bool]] = Field(default_factory=list)
    #: The same calls in full (arguments, error, facts), kept with the reply for the support console.
    calls: list[ToolCallRecord] = Field(default_factory=list)


class Pending(BaseModel):
    """A question the assistant asked and the next message may answer."""

    kind: Literal["slots", "confirm_profile"]
    intent: Intent
    #: For ``slots``: the slot names still missing. For ``confirm_profile``: unused.
    missing: list[str] = Field(default_factory=list)
    #: The slots gathered so far (``slots``) or the changes awaiting a yes (``confirm_profile``).
    slots: Slots = Field(default_factory=Slots)
    changes: dict[str, Any] = Field(default_factory=dict)
    text: str = ""


class Handoff(BaseModel):
    """Whether a support person has the conversation, and since when (ISO time)."""

    active: bool = False
    since: str | None = None
    staff: str | None = None
    reason: str | None = None


class InputState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


class AgentState(InputState, total=False):
    """Checkpointed per thread. The models above are stored as JSON dicts (``model_dump(mode="json")``)
    so the state reads the same through the LangGraph API, Agent Chat UI and any checkpointer."""

    language: Language
    plan: list[dict[str, Any]]  # Step
    outcomes: list[dict[str, Any]]  # Outcome
    pending: dict[str, Any] | None  # Pending
    handoff: dict[str, Any]  # Handoff
    #: Product cards shown earlier, so "the second one" / "这件" can be resolved.
    shown: list[dict[str, Any]]
    #: Set by the guard when it refused the turn (the reply is already in ``messages``).
    refused: bool
