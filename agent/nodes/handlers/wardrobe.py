"""The person's own clothes: adding items, looking them up, outfits from them."""

from __future__ import annotations

from agent.nodes.handlers.common import Handled, clarify, unavailable
from agent.nodes.turn import Turn
from agent.state import Step


def wardrobe_add(step: Step, turn: Turn) -> Handled:
    if not step.slots.categories:
        return clarify(step, turn, "ask_what_item", ["categories"])
    return unavailable(step, turn)


def wardrobe_query(step: Step, turn: Turn) -> Handled:
    return unavailable(step, turn)


def wardrobe_outfit(step: Step, turn: Turn) -> Handled:
    return unavailable(step, turn)
