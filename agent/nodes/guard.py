"""First node of every turn: refuse what must not reach the router or any tool."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langgraph.runtime import Runtime

from agent.deps import ChatContext
from agent.guard import check_message, language_of
from agent.prompts import Language
from agent.state import AgentState


def message_text(message: BaseMessage) -> str:
    """The text of a message; content blocks from UIs (Agent Chat UI sends a list) are joined."""
    content = message.content
    if isinstance(content, str):
        return content
    parts = [
        block if isinstance(block, str) else str(block.get("text", ""))
        for block in content
        if isinstance(block, str) or block.get("type") == "text"
    ]
    return "".join(parts)


def last_human_attachments(state: AgentState) -> list[str]:
    """Upload ids (photos) sent with the latest message."""
    for message in reversed(state.get("messages", [])):
        if isinstance(message, HumanMessage):
            return [str(a) for a in message.additional_kwargs.get("attachments", [])]
    return []


def last_human_text(state: AgentState) -> str:
    for message in reversed(state.get("messages", [])):
        if isinstance(message, HumanMessage):
            return message_text(message)
    return ""


def turn_language(text: str, state: AgentState, context: ChatContext | None) -> Language:
    """The message's own language; "170/60" keeps the conversation's (or the app's) language."""
    return language_of(text) or state.get("language") or (context.locale if context else None) or "en"


def guard(state: AgentState, runtime: Runtime[ChatContext]) -> dict[str, Any]:
    text = last_human_text(state)
    context = runtime.context if isinstance(runtime.context, ChatContext) else None
    language = turn_language(text, state, context)
    fresh: dict[str, Any] = {"language": language, "plan": [], "outcomes": [], "refused": False}
    if not text.strip() and last_human_attachments(state):
        return fresh  # a photo on its own is a message too
    verdict = check_message(text)
    if verdict.allowed:
        return fresh
    reply = AIMessage(
        content=verdict.reply or "", additional_kwargs={"source": "guard", "refusal": verdict.kind}
    )
    return {**fresh, "refused": True, "messages": [reply]}
