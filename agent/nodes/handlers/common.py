"""Pieces several handlers share: the handler result, slot merging, slot summaries, references."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from agent.nodes.turn import Turn
from agent.prompts import Language, capability, join, say
from agent.slots import CATEGORIES, COLOURS, OCCASIONS, SEASONS, WEATHER, Slots
from agent.state import Outcome, Pending, Step

_HAN = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Handled:
    outcome: Outcome
    #: A question the next message may answer (missing slots, a confirmation).
    pending: Pending | None = None
    #: The person asked for a human: the thread goes to support after this turn's reply.
    handoff: bool = False


def merge_slots(earlier: Slots, later: Slots) -> Slots:
    """Later values win; lists and measurements combine, so an answer adds to what was asked."""
    merged = earlier.model_copy(deep=True)
    for name in Slots.model_fields:
        new = getattr(later, name)
        if name == "measurements":
            for field in type(new).model_fields:
                if getattr(new, field) is not None:
                    setattr(merged.measurements, field, getattr(new, field))
        elif isinstance(new, list):
            if new:
                old = getattr(merged, name)
                setattr(merged, name, [*old, *(v for v in new if v not in old)])
        elif new is not None:
            setattr(merged, name, new)
    return merged


@cache
def _chinese_names() -> dict[str, str]:
    """Canonical slot value -> the first Chinese phrase the lexicons map to it ("white" -> "白色")."""
    names: dict[str, str] = {}
    for lexicon in (COLOURS, CATEGORIES, OCCASIONS, SEASONS, WEATHER):
        for phrase, value in lexicon.items():
            if value is not None and _HAN.search(phrase):
                names.setdefault(str(value), phrase)
    return names


def shown_values(values: list[str], zh: bool) -> str:
    """Slot values in the reply's language; a value with no Chinese name stays as it is."""
    names = _chinese_names() if zh else {}
    return ("、" if zh else ", ").join(names.get(v, v) for v in values)


def describe_slots(slots: Slots, language: Language) -> str:
    """What the person asked for, to show they were understood while a capability is missing."""
    zh = language == "zh"
    parts: list[str] = []
    if slots.colours:
        parts.append(("颜色：" if zh else "colour: ") + shown_values(slots.colours, zh))
    if slots.avoided_colours:
        parts.append(("不要：" if zh else "not: ") + shown_values(slots.avoided_colours, zh))
    if slots.categories:
        parts.append(("品类：" if zh else "item: ") + shown_values(slots.categories, zh))
    if slots.occasion:
        parts.append(("场合：" if zh else "occasion: ") + shown_values([slots.occasion.value], zh))
    if slots.season:
        parts.append(("季节：" if zh else "season: ") + shown_values([slots.season.value], zh))
    if slots.weather:
        parts.append(("天气：" if zh else "weather: ") + shown_values([w.value for w in slots.weather], zh))
    if slots.styles:
        parts.append(("风格：" if zh else "style: ") + ", ".join(s.value for s in slots.styles))
    if slots.fit_preference:
        parts.append(("版型：" if zh else "fit: ") + slots.fit_preference.value)
    if slots.sizes:
        parts.append(("尺码：" if zh else "size: ") + ", ".join(slots.sizes))
    budget = slots.budget
    if budget is not None and (budget.min is not None or budget.max is not None):
        parts.append(("预算：" if zh else "budget: ") + budget.text)
    if slots.price_threshold is not None and slots.price_threshold.text:
        parts.append(("提醒价：" if zh else "alert price: ") + slots.price_threshold.text)
    return join(parts, language)


def resolve_reference(slots: Slots, shown: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The card "the second one" / "这件" points at, or None when nothing was shown."""
    products = [c for c in shown if c.get("kind") == "product"]
    if not slots.references or not products:
        return None
    reference = slots.references[0]
    if reference.kind == "deictic" or reference.index is None:
        return products[-1]
    index = reference.index - 1 if reference.index > 0 else len(products) + reference.index
    return products[index] if 0 <= index < len(products) else None


def clarify(step: Step, turn: Turn, question: str, missing: list[str]) -> Handled:
    outcome = turn.outcome(step, "clarify", [say(question, turn.language)])
    pending = Pending(kind="slots", intent=step.intent, missing=missing, slots=step.slots, text=step.text)
    return Handled(outcome=outcome, pending=pending)


def unavailable(step: Step, turn: Turn) -> Handled:
    """Say what was understood, and that the capability behind it is not built yet."""
    lines = [say("unavailable", turn.language, capability=capability(step.intent.value, turn.language))]
    summary = describe_slots(step.slots, turn.language)
    if summary:
        lines.append(say("noted", turn.language, slots=summary))
    return Handled(outcome=turn.outcome(step, "unavailable", lines))
