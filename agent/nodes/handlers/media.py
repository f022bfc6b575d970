"""Pictures: a garment on the person's photo, and drawn outfit images."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import HumanMessage

from agent.nodes.handlers.common import Handled, clarify, resolve_reference, shown_values, unavailable
from agent.nodes.handlers.shopping import outfit_arguments
from agent.nodes.turn import Turn
from agent.prompts import say
from agent.state import Step
from tools.recommend.owned import OWNED_PREFIX
from tools.recommend.schemas import OutfitResult


def _earlier_photo(turn: Turn) -> str | None:
    """The latest photo the person sent in this conversation, for "and this one?" after a try-on."""
    for message in reversed(turn.state.get("messages", [])):
        if isinstance(message, HumanMessage):
            attachments = message.additional_kwargs.get("attachments", [])
            if attachments:
                return str(attachments[0])
    return None


def virtual_tryon(step: Step, turn: Turn) -> Handled:
    slots = step.slots
    if not turn.has_tool("virtual_try_on") or getattr(turn.deps.services, "tryon", None) is None:
        return unavailable(step, turn)
    product_id = slots.product_ids[0] if slots.product_ids else None
    if product_id is None:
        card = resolve_reference(slots, turn.state.get("shown", []))
        product_id = str(card["id"]) if card is not None else None
    if product_id is None:
        # "put a navy blazer on my picture": which product is it? Try-on needs one real garment photo.
        question = "ask_which_product" if slots.references and not slots.categories else "tryon_ask_product"
        return clarify(step, turn, question, ["product"])
    photo = turn.attachments[0] if turn.attachments else _earlier_photo(turn)
    if photo is None:
        slots = slots.model_copy(update={"product_ids": [product_id]})
        return clarify(step.model_copy(update={"slots": slots}), turn, "tryon_ask_photo", ["photo"])
    result = turn.call("virtual_try_on", {"upload_id": photo, "product_id": product_id})
    if not result.ok:
        lines = [say("tryon_refused", turn.language, reason=result.error or "")]
        return Handled(outcome=turn.outcome(step, "failed", lines))
    cards = [c.model_dump(mode="json") for c in result.cards]
    garment = cards[0]["title"] if cards else product_id
    lines = [say("tryon_started", turn.language, garment=garment)]
    if result.data.get("engine") == "geometric-cpu":
        lines.append(say("tryon_engine_note", turn.language))
    return Handled(outcome=turn.outcome(step, "done", lines, facts=result.facts, cards=cards))


def _outfit_pieces(cards: list[dict[str, Any]], number: int) -> tuple[list[str], list[str]]:
    """Product ids and wardrobe item ids of outfit ``number`` among product cards."""
    products: list[str] = []
    owned: list[str] = []
    for card in cards:
        data = card.get("data") or {}
        if card.get("kind") != "product" or data.get("outfit") != number:
            continue
        piece = str(card["id"])
        if data.get("owned") and piece.startswith(OWNED_PREFIX):
            owned.append(piece.removeprefix(OWNED_PREFIX))
        else:
            products.append(piece)
    return products, owned


def image_generation(step: Step, turn: Turn) -> Handled:
    """An outfit picture: the outfit just shown, or one recommended for what was described, laid out
    from its pieces' real photos (no image model runs here, and the reply says so)."""
    slots = step.slots
    if not turn.has_tool("generate_outfit_image") or getattr(turn.deps.services, "imagegen", None) is None:
        return unavailable(step, turn)
    reference = slots.references[0] if slots.references else None
    number = reference.index if reference is not None and reference.index and reference.index > 0 else 1
    products, owned = _outfit_pieces(turn.state.get("shown", []), number)
    described = slots.categories or slots.colours or slots.occasion or slots.styles or slots.season
    cards: list[dict[str, Any]] = []
    if described or not (products or owned):
        if not described:
            return clarify(step, turn, "ask_image_description", ["categories"])
        if not turn.has_tool("recommend_outfit") or getattr(turn.deps.services, "recommend", None) is None:
            return unavailable(step, turn)
        found = turn.call("recommend_outfit", {**outfit_arguments(slots), "count": 1})
        if not found.ok:
            return Handled(
                outcome=turn.outcome(step, "failed", [say("failed", turn.language, reason=found.error or "")])
            )
        cards = [c.model_dump(mode="json") for c in found.cards]
        products, owned = _outfit_pieces(cards, 1)
        if not (products or owned):
            result = OutfitResult.model_validate(found.data["result"])
            shortfall = result.shortfall
            why = (shortfall.zh if turn.language == "zh" else shortfall.en) if shortfall else ""
            return Handled(outcome=turn.outcome(step, "done", [say("outfits_none", turn.language, why=why)]))
    title = (
        shown_values([slots.occasion.value], turn.language == "zh").capitalize() if slots.occasion else None
    )
    made = turn.call(
        "generate_outfit_image",
        {
            "product_ids": products,
            "wardrobe_item_ids": owned,
            "title": title,
            "occasion": slots.occasion.value if slots.occasion else None,
            "style": slots.styles[0].value if slots.styles else None,
        },
    )
    if not made.ok:
        return Handled(
            outcome=turn.outcome(step, "failed", [say("failed", turn.language, reason=made.error or "")])
        )
    joined = ("、" if turn.language == "zh" else ", ").join(made.data["pieces"])
    lines = [say("image_board", turn.language, pieces=joined)]
    if "generation_job_id" in made.data:
        lines.append(say("image_generating", turn.language))
    else:
        lines.append(say("image_board_note", turn.language))
    cards = [c.model_dump(mode="json") for c in made.cards] + cards
    return Handled(outcome=turn.outcome(step, "done", lines, facts=made.facts, cards=cards))
