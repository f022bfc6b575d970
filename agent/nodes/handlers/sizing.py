"""Which size to order: needs the person's height and weight, from the message or their profile."""

from __future__ import annotations

from agent.nodes.handlers.common import Handled, clarify
from agent.nodes.handlers.profile import measurement_changes, propose
from agent.nodes.turn import Turn
from agent.prompts import capability, join, say
from agent.state import Step


def size_advice(step: Step, turn: Turn) -> Handled:
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
    new = {
        name: value
        for name, value in stated.items()
        if value != stored.get(f"{name}_cm", stored.get(f"{name}_kg", stored.get(f"{name}_eu")))
    }
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
