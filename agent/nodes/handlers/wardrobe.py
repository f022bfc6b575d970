"""The person's own clothes: adding items (by photo or by description), looking them up, and
outfits built from them."""

from __future__ import annotations

from typing import Any

from agent.nodes.handlers import shopping
from agent.nodes.handlers.common import Handled, clarify, unavailable
from agent.nodes.turn import Turn
from agent.prompts import say
from agent.state import Step
from agent.wardrobe_words import (
    asks_about_idle,
    asks_to_add,
    asks_what_to_wear,
    described_item,
    is_wear_statement,
    photo_caption,
    worn_pieces,
)
from tools.recommend.schemas import OutfitResult
from tools.recommend.tools import outfit_line

#: Items named in a wardrobe listing reply (the cards show them all).
ITEMS_IN_TEXT = 6


def log_wear_said(step: Step, turn: Turn) -> Handled:
    """Put "I wore my white tee and blue jeans today" in the wear log, each piece matched to one item."""
    described, days = worn_pieces(step.text)
    if not described:
        return clarify(step, turn, "wardrobe_ask_worn", ["categories"])
    arguments: dict[str, Any] = {"described": described[:12]}
    if days:
        arguments["days_ago"] = days
    result = turn.call("log_wear", arguments)
    if not result.ok:
        reason = result.error or ""
        return Handled(
            outcome=turn.outcome(step, "failed", [say("wardrobe_wear_failed", turn.language, reason=reason)])
        )
    return Handled(outcome=turn.outcome(step, "done", list(result.facts), facts=result.facts))


def _has_wardrobe(turn: Turn) -> bool:
    return getattr(turn.deps.services, "wardrobe", None) is not None and turn.has_tool("add_wardrobe_item")


def wardrobe_add(step: Step, turn: Turn) -> Handled:
    if not _has_wardrobe(turn):
        return unavailable(step, turn)
    photos = turn.attachments
    if not photos and is_wear_statement(step.text):
        return log_wear_said(step, turn)
    if not photos:
        if not step.slots.categories:
            return clarify(step, turn, "wardrobe_ask_photo", ["categories"])
        caption = step.text.strip() or None
        calls: list[dict[str, Any]] = [{"name": described_item(step.text)[:120], "caption": caption}]
    else:
        # "add this to my wardrobe" names nothing: the photo's tags name the item instead.
        calls = [{"upload_id": upload, "caption": photo_caption(step.text)} for upload in photos]
    added: list[str] = []
    notes: list[str] = []
    facts: list[str] = []
    cards: list[dict[str, Any]] = []
    failures: list[str] = []
    for arguments in calls:
        result = turn.call("add_wardrobe_item", arguments)
        if result.ok:
            item = result.data["item"]
            added.append(str(item["name"]))
            notes.extend(result.data["notes"])
            facts.extend(result.facts)
            cards.extend(c.model_dump(mode="json") for c in result.cards)
        else:
            failures.append(result.error or "unknown error")
    lines = []
    if added:
        lines.append(
            say("wardrobe_added", turn.language, items=("、" if turn.language == "zh" else ", ").join(added))
        )
        lines.extend(notes)
    lines.extend(say("wardrobe_add_failed", turn.language, reason=reason) for reason in failures)
    return Handled(outcome=turn.outcome(step, "done" if added else "failed", lines, facts=facts, cards=cards))


def wardrobe_query(step: Step, turn: Turn) -> Handled:
    if not _has_wardrobe(turn):
        return unavailable(step, turn)
    # The router reads "I have white trainers, add them" and "which of my clothes should I wear" as
    # questions about the wardrobe; the words say what is wanted.
    if is_wear_statement(step.text):
        return log_wear_said(step, turn)
    if asks_to_add(step.text):
        return wardrobe_add(step, turn)
    if asks_what_to_wear(step.text) and not asks_about_idle(step.text):
        return wardrobe_outfit(step, turn)
    if asks_about_idle(step.text):
        result = turn.call("wardrobe_insights", {"idle_months": 3})
        if not result.ok:
            return Handled(outcome=turn.outcome(step, "failed", [result.error or ""]))
        return Handled(outcome=turn.outcome(step, "done", list(result.facts), facts=result.facts))
    arguments: dict[str, Any] = {"limit": 20}
    if step.slots.season is not None:
        arguments["season"] = "fall" if step.slots.season.value == "autumn" else step.slots.season.value
    result = turn.call("list_wardrobe", arguments)
    if not result.ok:
        return Handled(outcome=turn.outcome(step, "failed", [result.error or ""]))
    total = int(result.data["total"])
    if total == 0:
        return Handled(outcome=turn.outcome(step, "done", [say("wardrobe_empty", turn.language)]))
    shown = result.facts[1 : 1 + ITEMS_IN_TEXT]
    lines = [say("wardrobe_items", turn.language, total=str(total), items="; ".join(shown))]
    cards = [c.model_dump(mode="json") for c in result.cards]
    return Handled(outcome=turn.outcome(step, "done", lines, facts=result.facts, cards=cards))


def wardrobe_outfit(step: Step, turn: Turn) -> Handled:
    """Outfits from the person's own clothes, gaps filled from the shop. With nothing in the
    wardrobe to build on, an occasion or season is answered with catalogue outfits, saying so."""
    slots = step.slots
    if not _has_wardrobe(turn) or getattr(turn.deps.services, "recommend", None) is None:
        return unavailable(step, turn)
    arguments = shopping.outfit_arguments(slots)
    result = turn.call("suggest_outfit_from_wardrobe", arguments)
    zh = turn.language == "zh"
    if not result.ok:
        if result.data.get("code") == "empty_wardrobe" and (slots.occasion or slots.season):
            handled = shopping.outfit_advice(step, turn)
            outcome = handled.outcome
            note = say("wardrobe_not_yet", turn.language)
            return Handled(
                outcome=outcome.model_copy(update={"lines": [note, *outcome.lines]}), pending=handled.pending
            )
        return Handled(outcome=turn.outcome(step, "failed", [result.error or ""]))
    found = OutfitResult.model_validate(result.data["result"])
    if not found.outfits:
        why = (found.shortfall.zh if zh else found.shortfall.en) if found.shortfall else ""
        return Handled(outcome=turn.outcome(step, "done", [say("outfits_none", turn.language, why=why)]))
    lines = [say("wardrobe_outfits", turn.language)]
    for number, outfit in enumerate(found.outfits[: shopping.OUTFITS_IN_TEXT], start=1):
        lines.append(outfit_line(number, outfit, zh))
        for gap in outfit.gaps:
            names = ("、" if zh else ", ").join(o.name for o in gap.options)
            lines.append(f"{gap.zh if zh else gap.en}: {names}")
    cards = [c.model_dump(mode="json") for c in result.cards]
    return Handled(outcome=turn.outcome(step, "done", lines, facts=result.facts, cards=cards))
