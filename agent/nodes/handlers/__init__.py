"""One handler per intent: check the slots it needs, call its tools, say what happened.

Handlers for capabilities whose tools are not built yet (catalogue, wardrobe, try-on,
image generation) still ask for what is missing and note what was asked, then say
plainly that the capability is not available. They never invent a result; each later
capability plugs its tool in here.
"""

from __future__ import annotations

from collections.abc import Callable

from agent.intents import Intent
from agent.nodes.handlers import conversation, media, profile, shopping, sizing, wardrobe
from agent.nodes.handlers.common import Handled
from agent.nodes.turn import Turn
from agent.state import Step

Handler = Callable[[Step, Turn], Handled]

HANDLERS: dict[Intent, Handler] = {
    Intent.outfit_advice: shopping.outfit_advice,
    Intent.product_search: shopping.product_search,
    Intent.inventory: shopping.inventory,
    Intent.price_alert: shopping.price_alert,
    Intent.size_advice: sizing.size_advice,
    Intent.virtual_tryon: media.virtual_tryon,
    Intent.image_generation: media.image_generation,
    Intent.wardrobe_add: wardrobe.wardrobe_add,
    Intent.wardrobe_query: wardrobe.wardrobe_query,
    Intent.wardrobe_outfit: wardrobe.wardrobe_outfit,
    Intent.profile_update: profile.profile_update,
    Intent.handoff_human: conversation.handoff_human,
    Intent.smalltalk: conversation.smalltalk,
    Intent.out_of_scope: conversation.out_of_scope,
}

assert set(HANDLERS) == set(Intent), "every intent needs a handler"

__all__ = ["HANDLERS", "Handled", "Handler"]
