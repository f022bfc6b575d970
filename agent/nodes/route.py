"""Turn the message into steps: answers to an earlier question first, else the intent router.

With a capable LLM configured (``IK_LLM__ROUTE_FALLBACK``), a single low-confidence
intent is re-read by the LLM as structured output; the local router stays the default
because it is fast, needs no server and, against SmolLM2, is the more accurate one.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Literal, get_args

from langgraph.runtime import Runtime
from pydantic import BaseModel

from agent.deps import AgentDeps, ChatContext
from agent.intents import Intent
from agent.nodes.guard import last_human_attachments, last_human_text
from agent.nodes.handlers.common import merge_slots
from agent.nodes.handlers.profile import profile_changes
from agent.prompts import NO, ROUTER_SYSTEM, YES
from agent.slots import Slots, extract_slots
from agent.state import AgentState, Pending, Step
from agent.wardrobe_words import asks_to_add, is_wear_statement
from model_servers.llm.client import LLMError

logger = logging.getLogger(__name__)

_STRIP = re.compile(r"[\s,.!?，。！？~～…]+")


def yes_or_no(text: str) -> bool | None:
    """The answer to a yes/no question, or None when the message is about something else."""
    said = _STRIP.sub(" ", text.lower()).strip()
    if not said or len(said) > 40:
        return None
    for answers, meaning in ((NO, False), (YES, True)):
        for answer in answers:
            if (
                said == answer
                or said.startswith(f"{answer} ")
                or (not answer.isascii() and said.startswith(answer))
            ):
                return meaning
    return None


class IntentChoice(BaseModel):
    intent: Intent


def _answers(pending: Pending, slots: Slots, photos: bool = False) -> bool:
    """Whether a message supplies what the pending question asked for (``photos``: it came with some)."""
    if "profile_change" in pending.missing:
        return bool(profile_changes(slots))
    found = {
        "height": slots.measurements.height is not None,
        "weight": slots.measurements.weight is not None,
        "chest": slots.measurements.chest is not None,
        "waist": slots.measurements.waist is not None,
        "hips": slots.measurements.hips is not None,
        "shoe_size": slots.measurements.shoe_size is not None,
        "sizes": bool(slots.sizes),
        "occasion": bool(slots.occasion or slots.categories or slots.season or slots.weather or slots.styles),
        "categories": bool(slots.categories or slots.colours or slots.styles),
        "product": bool(slots.references or slots.categories or slots.product_ids),
        "photo": photos,
        "price_threshold": slots.price_threshold is not None or slots.budget is not None,
    }
    return any(found.get(name, False) for name in pending.missing)


def _with_whole_message(clause: Slots, whole: Slots) -> Slots:
    """A clause keeps its own slots; measurements, a budget and colour limits said anywhere in the
    message apply to every clause ("what should I wear to a party? budget 200 CNY, no black" is one
    request with a budget and a colour ruled out)."""
    merged = clause.model_copy(deep=True)
    for field in type(whole.measurements).model_fields:
        if getattr(merged.measurements, field) is None:
            setattr(merged.measurements, field, getattr(whole.measurements, field))
    if merged.budget is None:
        merged.budget = whole.budget
    merged.avoided_colours = list(dict.fromkeys([*merged.avoided_colours, *whole.avoided_colours]))
    if not merged.only_colours:
        merged.only_colours = whole.only_colours
    return merged


def make_route(deps: AgentDeps) -> Any:
    async def route(state: AgentState, runtime: Runtime[ChatContext]) -> dict[str, Any]:
        text = last_human_text(state)
        pending = Pending.model_validate(state["pending"]) if state.get("pending") else None
        update: dict[str, Any] = {"pending": None}
        if pending is not None and pending.kind == "confirm_profile":
            answer = yes_or_no(text)
            if answer is not None:
                step = Step(
                    intent=Intent.profile_update,
                    confidence=1.0,
                    text=text,
                    source="pending",
                    confirm=answer,
                    changes=pending.changes,
                )
                return {**update, "plan": [step.model_dump(mode="json")]}
        slots = extract_slots(text)
        photos = bool(last_human_attachments(state))
        answered = pending is not None and pending.kind == "slots" and _answers(pending, slots, photos)
        if not text.strip() and photos and not answered:
            # A garment photo with no words: adding it to the wardrobe is what the app does with one
            # (unless the assistant had just asked for a photo, e.g. of the person for a try-on).
            step = Step(intent=Intent.wardrobe_add, confidence=1.0, text="", slots=slots)
            return {**update, "plan": [step.model_dump(mode="json")]}
        if pending is not None and answered:
            step = Step(
                intent=pending.intent,
                confidence=1.0,
                text=f"{pending.text} {text}".strip(),
                slots=merge_slots(pending.slots, slots),
                source="pending",
            )
            return {**update, "plan": [step.model_dump(mode="json")]}
        routed = deps.classifier.route(text)
        wardrobe_only = {r.intent for r in routed} <= {Intent.wardrobe_add, Intent.wardrobe_query}
        if len(routed) > 1 and (is_wear_statement(text) or (wardrobe_only and asks_to_add(text))):
            # "I wore my white tee and blue jeans today" is one log entry, and "我有一双白色运动鞋，帮我加进
            # 衣橱" one item to add, not one request per clause.
            best = max(r.confidence for r in routed)
            intent = Intent.wardrobe_query if is_wear_statement(text) else Intent.wardrobe_add
            step = Step(intent=intent, confidence=best, text=text, slots=slots)
            return {**update, "plan": [step.model_dump(mode="json")]}
        steps = [
            Step(
                intent=r.intent,
                confidence=r.confidence,
                text=r.text,
                slots=slots if len(routed) == 1 else _with_whole_message(extract_slots(r.text), slots),
            )
            for r in routed
        ]
        if (
            len(steps) == 1
            and deps.llm is not None
            and deps.llm_settings.route_fallback
            and steps[0].confidence < deps.llm_settings.route_fallback_below
        ):
            steps[0] = await _llm_route(deps, steps[0])
        return {**update, "plan": [s.model_dump(mode="json") for s in steps]}

    return route


async def _llm_route(deps: AgentDeps, step: Step) -> Step:
    assert deps.llm is not None
    try:
        choice = await deps.llm.structured(
            [{"role": "system", "content": ROUTER_SYSTEM}, {"role": "user", "content": step.text}],
            IntentChoice,
            max_tokens=32,
        )
    except LLMError as exc:
        logger.warning("LLM routing failed; keeping the local router's intent", extra={"error": str(exc)})
        return step
    return step.model_copy(update={"intent": choice.intent, "source": "llm"})


Next = Literal[
    "outfit_advice", "product_search", "inventory", "price_alert", "size_advice", "virtual_tryon",
    "image_generation", "wardrobe_add", "wardrobe_query", "wardrobe_outfit", "profile_update",
    "handoff_human", "smalltalk", "out_of_scope", "respond",
]  # fmt: skip


def next_step(state: AgentState) -> Next:
    """The handler for the next step in the plan, or the responder when the plan is done."""
    plan = state.get("plan") or []
    if not plan:
        return "respond"
    name = Intent(plan[0]["intent"]).value
    for candidate in get_args(Next):
        if candidate == name:
            return candidate  # type: ignore[no-any-return]
    raise ValueError(f"no handler node for intent {name!r}")
