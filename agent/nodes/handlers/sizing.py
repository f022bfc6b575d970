"""Which size to order, and how a size turned out.

The product is the one the message names ("product 15970") or points at among the
cards shown ("the second one"). "The M was too tight" about such a product is fit
feedback and is recorded; anything else about sizes is a request for advice, which
the ``recommend_size`` tool answers from the chart, the profile (or measurements
stated now) and earlier feedback. Measurements stated in chat are used at once and
become long-term memory only with the person's yes.
"""

from __future__ import annotations

import re
from typing import Any

from agent.nodes.handlers.common import Handled, clarify, resolve_reference, unavailable
from agent.nodes.handlers.profile import measurement_changes, propose
from agent.nodes.turn import Turn
from agent.prompts import Language, capability, join, say
from agent.state import OutcomeStatus, Pending, Step
from tools.base import ToolResult

_QUESTION = re.compile(r"[?？]|吗|会不会|是不是|(?<![a-z])(?:does|do|will|would|is it|should)(?![a-z])")

#: What each missing measurement is called when the person is asked for it.
_ASK: dict[str, tuple[str, str]] = {
    "chest": ("chest (bust) circumference", "胸围"),
    "waist": ("waist circumference", "腰围"),
    "hips": ("hip circumference", "臀围"),
    "height": ("height", "身高"),
    "weight": ("weight", "体重"),
    "shoe_size": ("shoe size", "鞋码"),
}


def _product_id(step: Step, turn: Turn) -> str | None:
    if step.slots.product_ids:
        return step.slots.product_ids[0]
    card = resolve_reference(step.slots, turn.state.get("shown", []))
    if card is not None:
        return str(card["id"])
    return None


def _join(lines: list[str], language: Language) -> str:
    text = ("；" if language == "zh" else "; ").join(lines)
    return text[:1].upper() + text[1:] if language == "en" else text


def _missing_question(missing: list[str], language: Language) -> str:
    """ "your chest (or your height and weight)": the key measurement, or what estimates it."""
    zh = language == "zh"
    estimable = "height" in missing and "weight" in missing and len(missing) > 2
    key = [m for m in missing if m not in ("height", "weight")] if estimable else missing
    what = ("、" if zh else " and ").join(_ASK[m][zh] for m in key if m in _ASK) or ", ".join(missing)
    if estimable:
        what += "（或者身高和体重）" if zh else " (or your height and weight)"
    return say("ask_size_measurements", language, what=what)


def _refused(step: Step, turn: Turn, result: ToolResult) -> Handled:
    code = result.data.get("code")
    missing: list[str] = result.data.get("missing", [])
    if code == "missing_measurements":
        outcome = turn.outcome(step, "clarify", [_missing_question(missing, turn.language)])
        pending = Pending(kind="slots", intent=step.intent, missing=missing, slots=step.slots, text=step.text)
        return Handled(outcome=outcome, pending=pending)
    key = {
        "one_size": "size_one_size",
        "no_chart": "size_no_chart",
        "implausible": "size_implausible",
        "unknown_size": "size_unknown",
    }.get(str(code), "size_failed")
    lines = [say(key, turn.language, reason=result.error or "")]
    return Handled(outcome=turn.outcome(step, "failed", lines))


def _feedback(step: Step, turn: Turn, product_id: str) -> Handled:
    if not step.slots.sizes:
        return clarify(step, turn, "ask_feedback_size", ["sizes"])
    arguments: dict[str, Any] = {
        "product_id": product_id,
        "size": step.slots.sizes[0],
        "fit": step.slots.fit_feedback,
        "note": step.text[:500],
    }
    result = turn.call("record_fit_feedback", arguments)
    if not result.ok:
        return _refused(step, turn, result)
    lines = [say("fit_feedback_recorded", turn.language, facts=result.facts[0])]
    return Handled(outcome=turn.outcome(step, "done", lines, facts=result.facts))


def _without_sizing(step: Step, turn: Turn) -> Handled:
    """Where no sizing service runs: gather height and weight, then say advice is unavailable."""
    profile = turn.call("get_profile", {})
    stored = profile.data.get("profile", {}) if profile.ok else {}
    stated = measurement_changes(step.slots)
    height = stated.get("height") or stored.get("height_cm")
    weight = stated.get("weight") or stored.get("weight_kg")
    missing = [name for name, value in (("height", height), ("weight", weight)) if not value]
    if missing:
        return clarify(step, turn, "ask_height_weight", missing)
    lines = [say("unavailable", turn.language, capability=capability(step.intent.value, turn.language))]
    facts = list(profile.facts)
    known = [f for f in facts if any(w in f for w in ("height", "weight", "身高", "体重"))]
    new = _changed(stated, stored)
    if known and not new:
        lines.append(say("measurements_known", turn.language, facts=join(known, turn.language)))
    if new:
        # Measurements stated in chat become long-term memory only with the person's yes.
        offer = propose(step, turn, {"measurements": new})
        return Handled(
            outcome=turn.outcome(step, offer.outcome.status, [*lines, *offer.outcome.lines], facts=facts),
            pending=offer.pending,
        )
    return Handled(outcome=turn.outcome(step, "unavailable", lines, facts=facts))


def size_advice(step: Step, turn: Turn) -> Handled:
    services = turn.deps.services
    if not turn.has_tool("recommend_size") or getattr(services, "sizing", None) is None:
        return _without_sizing(step, turn)
    if getattr(services, "catalog", None) is None:
        return unavailable(step, turn)
    product_id = _product_id(step, turn)
    if product_id is None:
        return _which_product(step, turn)
    slots = step.slots
    if slots.fit_feedback is not None and not _QUESTION.search(step.text.lower()):
        return _feedback(step, turn, product_id)
    stated = measurement_changes(slots)
    arguments: dict[str, Any] = {"product_id": product_id}
    if stated:
        arguments["measurements"] = stated
    result = turn.call("recommend_size", arguments)
    if not result.ok:
        return _refused(step, turn, result)
    lines = [say("size_advice", turn.language, facts=_join(result.facts, turn.language))]
    return _offer_to_remember(step, turn, stated, lines, result.facts, "done")


def _new_measurements(turn: Turn, stated: dict[str, float]) -> tuple[dict[str, float], dict[str, Any]]:
    """Stated measurements that differ from the profile's, and the profile as stored."""
    profile = turn.call("get_profile", {})
    stored: dict[str, Any] = profile.data.get("profile", {}) if profile.ok else {}
    return _changed(stated, stored), stored


def _changed(stated: dict[str, float], stored: dict[str, Any]) -> dict[str, float]:
    """The stated measurements (cm / kg / EU) that the stored profile does not already hold."""
    return {
        name: value
        for name, value in stated.items()
        if value != stored.get(f"{name}_cm", stored.get(f"{name}_kg", stored.get(f"{name}_eu")))
    }


def _offer_to_remember(
    step: Step,
    turn: Turn,
    stated: dict[str, float],
    lines: list[str],
    facts: list[str],
    status: OutcomeStatus,
) -> Handled:
    new, _ = _new_measurements(turn, stated)
    if not new or _profile_update_planned(turn):
        return Handled(outcome=turn.outcome(step, status, lines, facts=facts))
    # Measurements stated in chat become long-term memory only with the person's yes.
    offer = propose(step, turn, {"measurements": new})
    outcome = turn.outcome(step, status, [*lines, *offer.outcome.lines], facts=facts)
    return Handled(outcome=outcome, pending=offer.pending)


def _profile_update_planned(turn: Turn) -> bool:
    """A profile step in the same message asks about saving already; asking twice would repeat it."""
    return any(step.get("intent") == "profile_update" for step in turn.state.get("plan") or [])


def _which_product(step: Step, turn: Turn) -> Handled:
    """No product yet: ask for it, and for height and weight too when neither profile nor message has them."""
    stated = measurement_changes(step.slots)
    if stated:
        return _offer_to_remember(step, turn, stated, [say("ask_size_product", turn.language)], [], "clarify")
    _, stored = _new_measurements(turn, {})
    if stored.get("height_cm") and stored.get("weight_kg"):
        return clarify(step, turn, "ask_size_product", ["product"])
    return clarify(step, turn, "ask_size_product_and_body", ["product", "height", "weight"])
