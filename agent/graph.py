"""The conversation graph.

    START → guard ─┬─ refused ───────────────────────────────→ END
                   ├─ support has the thread → handoff ─┬────→ END
                   │                                     └ accept → route
                   └→ route → <intent> → <intent> … → respond ─┬→ END
                                                               └ handoff asked → handoff

``route`` plans the turn's steps (several intents are handled in the order asked);
each intent node runs one step and passes to the next step's node or the responder.
"""

from __future__ import annotations

from typing import Any, Literal

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from agent.deps import AgentDeps, ChatContext, context_of
from agent.intents import Intent
from agent.nodes.guard import guard
from agent.nodes.handlers import HANDLERS, Handler
from agent.nodes.handoff import make_handoff, start_handoff
from agent.nodes.respond import make_respond
from agent.nodes.route import make_route, next_step
from agent.nodes.turn import Turn
from agent.state import AgentState, Handoff, InputState, Step

Graph = CompiledStateGraph[AgentState, ChatContext, InputState, AgentState]


def after_guard(state: AgentState) -> Literal["route", "handoff", "__end__"]:
    if state.get("refused"):
        return "__end__"
    if Handoff.model_validate(state.get("handoff") or {}).active:
        return "handoff"
    return "route"


def after_respond(state: AgentState) -> Literal["handoff", "__end__"]:
    return "handoff" if Handoff.model_validate(state.get("handoff") or {}).active else "__end__"


def make_intent_node(intent: Intent, handler: Handler, deps: AgentDeps) -> Any:
    def node(state: AgentState, runtime: Runtime[ChatContext]) -> dict[str, Any]:
        plan = state.get("plan") or []
        if not plan or plan[0]["intent"] != intent.value:
            raise RuntimeError(f"{intent.value} node reached with plan {plan!r}")
        step = Step.model_validate(plan[0])
        context = context_of(runtime.context, deps.default_user_id)
        turn = Turn(deps=deps, context=context, state=state, language=state.get("language", "en"))
        handled = handler(step, turn)
        update: dict[str, Any] = {
            "plan": plan[1:],
            "outcomes": [*state.get("outcomes", []), handled.outcome.model_dump(mode="json")],
        }
        if handled.pending is not None and not state.get("pending"):
            update["pending"] = handled.pending.model_dump(mode="json")
        if handled.handoff:
            update["handoff"] = start_handoff(reason=step.text)
        return update

    node.__name__ = intent.value
    return node


def build_graph(deps: AgentDeps, checkpointer: BaseCheckpointSaver[Any] | None = None) -> Graph:
    builder = StateGraph(AgentState, context_schema=ChatContext, input_schema=InputState)
    builder.add_node("guard", guard)
    builder.add_node("route", make_route(deps))
    builder.add_node("respond", make_respond(deps))
    builder.add_node("handoff", make_handoff(deps))
    for intent, handler in HANDLERS.items():
        builder.add_node(intent.value, make_intent_node(intent, handler, deps))
        builder.add_conditional_edges(intent.value, next_step)
    builder.add_edge(START, "guard")
    builder.add_conditional_edges("guard", after_guard)
    builder.add_conditional_edges("route", next_step)
    builder.add_conditional_edges("respond", after_respond)
    return builder.compile(checkpointer=checkpointer, name="innovation-kun")
