"""Pictures: a garment on the person's photo, and drawn outfit images."""

from __future__ import annotations

from agent.nodes.handlers.common import Handled, clarify, resolve_reference, unavailable
from agent.nodes.turn import Turn
from agent.state import Step


def virtual_tryon(step: Step, turn: Turn) -> Handled:
    slots = step.slots
    # "put a navy blazer on my picture so I can see it on me": "it" is the blazer just named.
    if (
        slots.references
        and not slots.categories
        and resolve_reference(slots, turn.state.get("shown", [])) is None
    ):
        return clarify(step, turn, "ask_which_product", ["product"])
    if not slots.references and not slots.categories:
        return clarify(step, turn, "ask_what_item", ["categories"])
    return unavailable(step, turn)


def image_generation(step: Step, turn: Turn) -> Handled:
    slots = step.slots
    if not (slots.categories or slots.colours or slots.occasion or slots.styles or slots.season):
        return clarify(step, turn, "ask_image_description", ["categories"])
    return unavailable(step, turn)
