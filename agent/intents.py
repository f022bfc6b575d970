"""The intent labels. Other code, the evaluation data and the scenarios depend on these exact strings."""

from __future__ import annotations

from enum import StrEnum


class Intent(StrEnum):
    outfit_advice = "outfit_advice"
    product_search = "product_search"
    inventory = "inventory"
    price_alert = "price_alert"
    size_advice = "size_advice"
    virtual_tryon = "virtual_tryon"
    image_generation = "image_generation"
    wardrobe_add = "wardrobe_add"
    wardrobe_query = "wardrobe_query"
    wardrobe_outfit = "wardrobe_outfit"
    profile_update = "profile_update"
    handoff_human = "handoff_human"
    smalltalk = "smalltalk"
    out_of_scope = "out_of_scope"
