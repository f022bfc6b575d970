"""The person's own clothes: adding items, looking them up, outfits from them."""

from __future__ import annotations

from agent.nodes.handlers import shopping
from agent.nodes.handlers.common import Handled, clarify, unavailable
from agent.nodes.turn import Turn
from agent.prompts import say
from agent.state import Step


def wardrobe_add(step: Step, turn: Turn) -> Handled:
    if not step.slots.categories:
        return clarify(step, turn, "ask_what_item", ["categories"])
    return unavailable(step, turn)


def wardrobe_query(step: Step, turn: Turn) -> Handled:
    return unavailable(step, turn)


def wardrobe_outfit(step: Step, turn: Turn) -> Handled:
    """Outfits from the person's own clothes need the wardrobe, which is not built yet. Until it is,
    an occasion or season in the message is answered with catalogue outfits, saying plainly that
    they are not from the person's wardrobe; anything else is reported as unavailable."""
    slots = step.slots
    if getattr(turn.deps.services, "recommend", None) is None or not (slots.occasion or slots.season):
        return unavailable(step, turn)
    handled = shopping.outfit_advice(step, turn)
    outcome = handled.outcome
    note = say("wardrobe_not_yet", turn.language)
    return Handled(
        outcome=outcome.model_copy(update={"lines": [note, *outcome.lines]}), pending=handled.pending
    )
