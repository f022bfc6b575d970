"""Long-term memory: what the person says about themself is saved to their profile once they agree."""

from __future__ import annotations

import re
from typing import Any

from agent.nodes.handlers.common import Handled, clarify
from agent.nodes.turn import Turn
from agent.prompts import Language, join, say
from agent.slots import Slots
from agent.state import Pending, Step
from tools.profile.tools import plain_number

_MEASUREMENT_UNITS = {
    "height": "cm", "weight": "kg", "chest": "cm", "waist": "cm", "hips": "cm", "inseam": "cm",
    "shoulder": "cm", "shoe_size": "EU",
}  # fmt: skip
_LABELS = {
    "en": {
        "height": "height", "weight": "weight", "chest": "chest", "waist": "waist", "hips": "hips",
        "inseam": "inseam", "shoulder": "shoulder width", "shoe_size": "shoe size",
        "favourite_colours": "favourite colours", "avoided_colours": "colours to avoid",
        "fit_preference": "fit", "styles": "styles", "budget": "budget",
    },
    "zh": {
        "height": "身高", "weight": "体重", "chest": "胸围", "waist": "腰围", "hips": "臀围",
        "inseam": "内长", "shoulder": "肩宽", "shoe_size": "鞋码", "favourite_colours": "喜欢的颜色",
        "avoided_colours": "避开的颜色", "fit_preference": "版型", "styles": "风格", "budget": "预算",
    },
}  # fmt: skip


def measurement_changes(slots: Slots) -> dict[str, float]:
    """Measurements in cm / kg / EU (the slot extractor has already converted them)."""
    found: dict[str, float] = {}
    for name in _MEASUREMENT_UNITS:
        measurement = getattr(slots.measurements, name)
        if measurement is not None:
            found[name] = round(measurement.value, 1)
    return found


def profile_changes(slots: Slots) -> dict[str, Any]:
    """A ``ProfileUpdate`` (as JSON) with everything the message says about the person."""
    changes: dict[str, Any] = {}
    measurements = measurement_changes(slots)
    if measurements:
        changes["measurements"] = measurements
    if slots.colours:
        changes["favourite_colours"] = list(slots.colours)
    if slots.avoided_colours:
        changes["avoided_colours"] = list(slots.avoided_colours)
    if slots.fit_preference is not None:
        changes["fit_preference"] = slots.fit_preference.value
    if slots.styles:
        changes["styles"] = [s.value for s in slots.styles]
    budget = slots.budget
    if budget is not None and (budget.min is not None or budget.max is not None):
        changes["budget"] = {"min": budget.min, "max": budget.max, "currency": budget.currency or "CNY"}
    return changes


def describe_changes(changes: dict[str, Any], language: Language) -> str:
    labels = _LABELS[language]
    parts: list[str] = []
    for name, value in changes.get("measurements", {}).items():
        unit = _MEASUREMENT_UNITS[name]
        shown = f"EU {plain_number(value)}" if unit == "EU" else f"{plain_number(value)} {unit}"
        parts.append(f"{labels[name]} {shown}")
    for name in ("favourite_colours", "avoided_colours", "styles"):
        if name in changes:
            parts.append(f"{labels[name]}: {', '.join(changes[name])}")
    if "fit_preference" in changes:
        parts.append(f"{labels['fit_preference']}: {changes['fit_preference']}")
    if "budget" in changes:
        budget = changes["budget"]
        low = plain_number(budget["min"]) if budget["min"] is not None else "0"
        high = plain_number(budget["max"]) if budget["max"] is not None else "∞"
        parts.append(f"{labels['budget']}: {low}-{high} {budget['currency']}")
    return join(parts, language)


def propose(step: Step, turn: Turn, changes: dict[str, Any]) -> Handled:
    """Ask before saving: the tool is called unconfirmed, which validates and saves nothing."""
    result = turn.call("update_profile", {"changes": changes, "confirmed": False})
    pending_changes = result.data.get("pending_changes")
    if pending_changes is None:
        reason = result.error or "unknown error"
        return Handled(
            outcome=turn.outcome(step, "failed", [say("save_failed", turn.language, reason=reason)])
        )
    question = say("confirm_save", turn.language, changes=describe_changes(changes, turn.language))
    pending = Pending(kind="confirm_profile", intent=step.intent, changes=changes, text=step.text)
    return Handled(outcome=turn.outcome(step, "confirm", [question]), pending=pending)


def profile_update(step: Step, turn: Turn) -> Handled:
    if step.confirm is not None:
        return _answer_confirmation(step, turn)
    changes = profile_changes(step.slots)
    if not changes:
        if _ASKS.search(step.text.lower()):
            return _read_back(step, turn)
        return clarify(step, turn, "ask_profile_change", ["profile_change"])
    return propose(step, turn, changes)


#: "what height do you have on file?", "我的档案里身高是多少？": a question about the profile, not a change.
_ASKS = re.compile(
    r"[?？]|吗|多少|什么|哪些|查一下|查看|看看|告诉我"
    r"|(?<![a-z])(?:what|which|how|do you (?:have|know)|show me|tell me)(?![a-z])"
)


def _read_back(step: Step, turn: Turn) -> Handled:
    """What the profile holds, from the tool's facts (the only statements the reply may make)."""
    result = turn.call("get_profile", {})
    if not result.ok:
        reason = result.error or "unknown error"
        return Handled(
            outcome=turn.outcome(step, "failed", [say("profile_read_failed", turn.language, reason=reason)])
        )
    if not result.facts:
        return Handled(outcome=turn.outcome(step, "done", [say("profile_empty", turn.language)]))
    lines = [say("profile_summary", turn.language, facts=join(result.facts, turn.language))]
    return Handled(outcome=turn.outcome(step, "done", lines, facts=result.facts))


def _answer_confirmation(step: Step, turn: Turn) -> Handled:
    if not step.confirm:
        return Handled(outcome=turn.outcome(step, "done", [say("save_cancelled", turn.language)]))
    result = turn.call("update_profile", {"changes": step.changes, "confirmed": True})
    if not result.ok:
        reason = result.error or "unknown error"
        return Handled(
            outcome=turn.outcome(step, "failed", [say("save_failed", turn.language, reason=reason)])
        )
    saved = describe_changes(step.changes, turn.language)
    lines = [say("saved", turn.language), saved]
    return Handled(outcome=turn.outcome(step, "done", lines, facts=result.facts))
