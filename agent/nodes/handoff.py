"""Human handoff: while support has the thread, every message pauses the graph for them.

The pause is a LangGraph interrupt carrying Agent Inbox's ``HumanInterrupt`` schema, so
a support person can answer from Agent Inbox or from our console alike. Their answer
(a ``HumanResponse``) resumes the run: ``response`` sends their text to the person,
``accept`` hands the thread back and lets the assistant answer the waiting message,
``ignore`` hands it back without an answer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.runtime import Runtime
from langgraph.types import Command, interrupt
from typing_extensions import TypedDict

from agent.deps import AgentDeps, ChatContext, context_of
from agent.nodes.guard import last_human_text, message_text
from agent.prompts import say
from agent.state import AgentState, Handoff

TRANSCRIPT_MESSAGES = 12


class ActionRequest(TypedDict):
    action: str
    args: dict[str, Any]


class HumanInterruptConfig(TypedDict):
    allow_ignore: bool
    allow_respond: bool
    allow_edit: bool
    allow_accept: bool


class HumanInterrupt(TypedDict):
    """Agent Inbox's interrupt schema (the same fields as ``langgraph.prebuilt.interrupt``)."""

    action_request: ActionRequest
    config: HumanInterruptConfig
    description: str | None


class HumanResponse(TypedDict):
    #: Agent Inbox also knows ``edit``; the handoff request disallows it (``allow_edit=False``).
    type: Literal["accept", "ignore", "response"]
    args: Any


def start_handoff(reason: str, staff: str | None = None) -> dict[str, Any]:
    return Handoff(active=True, since=datetime.now(UTC).isoformat(), staff=staff, reason=reason).model_dump()


def transcript(state: AgentState) -> str:
    """The recent conversation as Markdown, for the support person's inbox."""
    lines = []
    for message in state.get("messages", [])[-TRANSCRIPT_MESSAGES:]:
        who = "**Customer**" if isinstance(message, HumanMessage) else f"**{message.name or 'Assistant'}**"
        lines.append(f"{who}: {message_text(message)}")
    return "\n\n".join(lines)


def handoff_request(state: AgentState, context: ChatContext) -> HumanInterrupt:
    handoff = Handoff.model_validate(state.get("handoff") or {})
    return HumanInterrupt(
        action_request=ActionRequest(
            action="reply_to_customer",
            args={
                "user_id": context.user_id,
                "message": last_human_text(state),
                "language": state.get("language", "en"),
                "reason": handoff.reason,
            },
        ),
        config=HumanInterruptConfig(
            allow_ignore=True, allow_respond=True, allow_edit=False, allow_accept=True
        ),
        description=transcript(state),
    )


def parse_response(value: Any) -> HumanResponse:
    """Agent Inbox resumes with a list of one response; our console sends the object itself."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, dict) or value.get("type") not in ("accept", "ignore", "response"):
        raise ValueError(f"not a HumanResponse: {value!r}")
    if value["type"] == "response" and not (isinstance(value.get("args"), str) and value["args"].strip()):
        raise ValueError("a 'response' needs the reply text in args")
    return HumanResponse(type=value["type"], args=value.get("args"))


def support_message(text: str) -> AIMessage:
    return AIMessage(content=text, name="support", additional_kwargs={"source": "support"})


def make_handoff(deps: AgentDeps) -> Any:
    def handoff(state: AgentState, runtime: Runtime[ChatContext]) -> Command[Literal["route", "__end__"]]:
        return _handoff(state, context_of(runtime.context, deps.default_user_id))

    return handoff


def _handoff(state: AgentState, context: ChatContext) -> Command[Literal["route", "__end__"]]:
    response = parse_response(interrupt([handoff_request(state, context)]))
    language = state.get("language", "en")
    if response["type"] == "response":
        return Command(goto="__end__", update={"messages": [support_message(response["args"].strip())]})
    back = {"handoff": Handoff().model_dump()}
    if response["type"] == "accept":
        # The assistant takes over again and answers the message that was waiting.
        return Command(goto="route", update=back)
    notice = AIMessage(content=say("handback", language), additional_kwargs={"source": "template"})
    return Command(goto="__end__", update={**back, "messages": [notice]})
