"""The per-step toolbox handlers share: call a tool (announcing it on the stream), build outcomes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from langgraph.config import get_stream_writer
from opentelemetry.trace import StatusCode

from agent.deps import AgentDeps, ChatContext
from agent.nodes.guard import last_human_attachments
from agent.prompts import Language
from agent.state import AgentState, Outcome, OutcomeStatus, Step, ToolCallRecord
from core.telemetry import set_attributes, span
from tools.base import ToolContext, ToolResult
from tools.profile.schemas import Locale


def emit(event: dict[str, Any]) -> None:
    """Send a custom stream event (tool started/finished, tokens); a no-op outside a streamed run."""
    try:
        writer = get_stream_writer()
    except RuntimeError:  # not inside a runnable context (direct unit calls)
        return
    writer(event)


@dataclass
class Turn:
    deps: AgentDeps
    context: ChatContext
    state: AgentState
    language: Language
    tools_called: list[tuple[str, bool]] = field(default_factory=list)
    calls: list[ToolCallRecord] = field(default_factory=list)

    @property
    def tool_context(self) -> ToolContext:
        return ToolContext(
            user_id=self.context.user_id, locale=Locale(self.language), services=self.deps.services
        )

    @property
    def attachments(self) -> list[str]:
        """Upload ids of the photos sent with this turn's message."""
        return last_human_attachments(self.state)

    def has_tool(self, name: str) -> bool:
        return name in self.deps.registry.names

    def call(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        emit({"event": "tool_started", "tool": name})
        # Names and outcome only: arguments and results hold measurements and messages.
        with span(f"tool.{name}", **{"tool.name": name, "tool.arguments": len(arguments)}) as current:
            result = self.deps.registry.invoke(name, self.tool_context, arguments)
            set_attributes(current, **{"tool.ok": result.ok})
            if not result.ok:  # the error text stays out: it may quote what the person gave
                set_attributes(current, **{"error.type": "tool_failed"})
                current.set_status(StatusCode.ERROR)
        self.tools_called.append((name, result.ok))
        self.calls.append(ToolCallRecord.of(name, arguments, result))
        emit({"event": "tool_finished", "tool": name, "ok": result.ok, "error": result.error})
        return result

    def outcome(
        self,
        step: Step,
        status: OutcomeStatus,
        lines: list[str],
        *,
        facts: list[str] | None = None,
        cards: list[dict[str, Any]] | None = None,
    ) -> Outcome:
        return Outcome(
            intent=step.intent,
            status=status,
            lines=lines,
            facts=facts or [],
            cards=cards or [],
            tools=list(self.tools_called),
            calls=list(self.calls),
        )
