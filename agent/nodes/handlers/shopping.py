"""Advice and shopping: outfits, catalogue search, stock and price, price-drop alerts."""

from __future__ import annotations

from agent.nodes.handlers.common import Handled, clarify, resolve_reference, unavailable
from agent.nodes.turn import Turn
from agent.state import Step


def outfit_advice(step: Step, turn: Turn) -> Handled:
    slots = step.slots
    if not (slots.occasion or slots.categories or slots.season or slots.weather or slots.styles):
        return clarify(step, turn, "ask_occasion", ["occasion"])
    return unavailable(step, turn)


def product_search(step: Step, turn: Turn) -> Handled:
    slots = step.slots
    if not (slots.categories or slots.colours or slots.styles or slots.occasion):
        return clarify(step, turn, "ask_what_item", ["categories"])
    return unavailable(step, turn)


def _product_named(step: Step, turn: Turn) -> Handled | None:
    """Ask which product when the message points at nothing we can identify."""
    slots = step.slots
    if slots.references:
        if resolve_reference(slots, turn.state.get("shown", [])) is None:
            return clarify(step, turn, "ask_which_product", ["product"])
        return None
    if not slots.categories:
        return clarify(step, turn, "ask_what_item", ["categories"])
    return None


def inventory(step: Step, turn: Turn) -> Handled:
    return _product_named(step, turn) or unavailable(step, turn)


def price_alert(step: Step, turn: Turn) -> Handled:
    missing = _product_named(step, turn)
    if missing is not None:
        return missing
    if step.slots.price_threshold is None and step.slots.budget is None:
        return clarify(step, turn, "ask_threshold", ["price_threshold"])
    return unavailable(step, turn)
