"""Advice and shopping: outfits, catalogue search, stock and price, price-drop alerts.

Every number in these replies (prices, stock counts, sizes) is read from a tool's
result; the templates only arrange them.
"""

from __future__ import annotations

from typing import Any

from agent.deps import AgentDeps, ChatContext
from agent.intents import Intent
from agent.nodes.handlers.common import Handled, clarify, describe_slots, resolve_reference, unavailable
from agent.nodes.turn import Turn
from agent.prompts import Language, say
from agent.slots import Slots
from agent.state import Outcome, Step, ToolCallRecord
from tools.base import ToolContext, ToolResult
from tools.profile.schemas import Locale
from tools.profile.tools import plain_number
from tools.recommend.schemas import OutfitResult
from tools.recommend.tools import outfit_line

#: Products named in a reply; the rest are on the cards.
SHOWN_IN_TEXT = 3
#: Products fetched per search (cards the UI shows and "the second one" can point at).
SEARCH_LIMIT = 5
_CURRENCIES = {"CNY", "USD", "EUR", "GBP", "HKD", "JPY", "INR"}


#: The chat's occasion words to the recommender's closed set.
_OCCASIONS: dict[str, str] = {
    "wedding": "wedding",
    "work": "work",
    "interview": "work",
    "date": "date",
    "party": "party",
    "casual": "everyday",
    "travel": "vacation",
    "beach": "vacation",
    "sport": "sport",
    "formal_event": "formal",
    "funeral": "formal",
    "graduation": "formal",
}
#: Outfits whose pieces are named in the reply; the rest are on the cards.
OUTFITS_IN_TEXT = 2


def outfit_arguments(slots: Slots) -> dict[str, Any]:
    arguments: dict[str, Any] = {"count": 3}
    if slots.occasion is not None:
        arguments["occasion"] = _OCCASIONS[slots.occasion.value]
    if slots.season is not None:
        arguments["season"] = "fall" if slots.season.value == "autumn" else slots.season.value
    if slots.weather:
        arguments["weather"] = [w.value for w in slots.weather]
    budget = slots.budget
    if budget is not None and budget.max is not None:
        arguments.update(budget_max=budget.max, currency=_currency(budget.currency))
    if slots.only_colours:
        arguments.update(colours=slots.only_colours, only_colours=True)
    elif slots.colours:
        arguments["colours"] = slots.colours
    if slots.avoided_colours:
        arguments["avoid_colours"] = slots.avoided_colours
    return arguments


def outfit_advice(step: Step, turn: Turn) -> Handled:
    slots = step.slots
    card = _referenced(step, turn)
    if card is None and not (
        slots.occasion or slots.categories or slots.season or slots.weather or slots.styles
    ):
        return clarify(step, turn, "ask_occasion", ["occasion"])
    if not turn.has_tool("recommend_outfit") or getattr(turn.deps.services, "recommend", None) is None:
        return unavailable(step, turn)
    arguments = outfit_arguments(slots)
    if card is not None:
        result = turn.call("complete_the_look", {"product_id": card["id"], **arguments})
    else:
        result = turn.call("recommend_outfit", arguments)
    if not result.ok:
        return _failed(step, turn, result)
    found = OutfitResult.model_validate(result.data["result"])
    cards = [c.model_dump(mode="json") for c in result.cards]
    zh = turn.language == "zh"
    if not found.outfits:
        why = found.shortfall.zh if zh and found.shortfall else found.shortfall.en if found.shortfall else ""
        lines = [say("outfits_none", turn.language, why=why)]
        return Handled(outcome=turn.outcome(step, "done", lines, facts=result.facts))
    count = len(found.outfits)
    lines = [
        say("outfits_found", turn.language, n=str(count)) if count > 1 else say("outfit_found", turn.language)
    ]
    lines.extend(
        outfit_line(n, outfit, zh) for n, outfit in enumerate(found.outfits[:OUTFITS_IN_TEXT], start=1)
    )
    lines.extend(r.zh if zh else r.en for r in found.relaxed)
    reasons = found.outfits[0].reasons[:2]
    if reasons:
        lines.append(
            say("outfit_why", turn.language, reasons="; ".join(r.zh if zh else r.en for r in reasons))
        )
    if any(item.generated for outfit in found.outfits for item in outfit.items):
        lines.append(say("generated_note", turn.language))
    return Handled(outcome=turn.outcome(step, "done", lines, facts=result.facts, cards=cards))


def _currency(code: str | None) -> str:
    return code if code in _CURRENCIES else "CNY"


def _failed(step: Step, turn: Turn, result: ToolResult) -> Handled:
    reason = result.error or "unknown error"
    return Handled(outcome=turn.outcome(step, "failed", [say("catalog_error", turn.language, reason=reason)]))


def _search(step: Step, turn: Turn, *, in_stock_size: str | None = None) -> Handled:
    """Search with the person's own words; the budget and size become explicit filters."""
    slots = step.slots
    arguments: dict[str, Any] = {"query": step.text, "limit": SEARCH_LIMIT}
    budget = slots.budget
    if budget is not None and (budget.min is not None or budget.max is not None):
        arguments.update(price_min=budget.min, price_max=budget.max, currency=_currency(budget.currency))
    if in_stock_size is not None:
        arguments["size"] = in_stock_size
    result = turn.call("search_products", arguments)
    if not result.ok:
        return _failed(step, turn, result)
    products: list[dict[str, Any]] = result.data.get("products", [])
    if not products:
        summary = describe_slots(slots, turn.language)
        understood = f" ({summary})" if summary else ""
        lines = [say("products_none", turn.language, understood=understood)]
        return Handled(outcome=turn.outcome(step, "done", lines, facts=result.facts))
    items = [
        say("product_item", turn.language, name=p["name"], price=plain_number(p["price"]), id=p["id"])
        for p in products[:SHOWN_IN_TEXT]
    ]
    separator = "；" if turn.language == "zh" else "; "
    found = {
        "total": str(result.data.get("total", len(products))),
        "shown": str(len(items)),
        "items": separator.join(items),
    }
    if in_stock_size is not None:
        lines = [say("products_found_size", turn.language, size=in_stock_size, **found)]
    else:
        lines = [say("products_found", turn.language, **found)]
    if any(p.get("generated") for p in products):
        lines.append(say("generated_note", turn.language))
    cards = [card.model_dump(mode="json") for card in result.cards]
    return Handled(outcome=turn.outcome(step, "done", lines, facts=result.facts, cards=cards))


def product_search(step: Step, turn: Turn) -> Handled:
    slots = step.slots
    if not (slots.categories or slots.colours or slots.styles or slots.occasion):
        return clarify(step, turn, "ask_what_item", ["categories"])
    if slots.occasion and not slots.categories and getattr(turn.deps.services, "recommend", None) is not None:
        # "婚礼穿搭推荐，2000元以内" names an occasion and no garment: that is an outfit, not one product.
        return outfit_advice(step, turn)
    if not turn.has_tool("search_products") or not _catalog_loaded(turn):
        return unavailable(step, turn)
    # "navy shirts in size M": a size named in a search means "in stock in that size"
    return _search(step, turn, in_stock_size=_size(slots))


def _catalog_loaded(turn: Turn) -> bool:
    return getattr(turn.deps.services, "catalog", None) is not None


def _referenced(step: Step, turn: Turn) -> dict[str, Any] | None:
    return resolve_reference(step.slots, turn.state.get("shown", []))


def _target(step: Step, turn: Turn) -> tuple[dict[str, Any] | None, Handled | None]:
    """The product card a message is about, or what to say instead.

    A product named by id ("product 2288") is looked up; else a shown card the message points at
    ("the first one"); ``(None, None)`` for a kind of product ("black jeans"), which the caller
    searches or watches; a question when the message names nothing we can identify.
    """
    slots = step.slots
    if slots.product_ids and turn.has_tool("get_product") and _catalog_loaded(turn):
        result = turn.call("get_product", {"product_id": slots.product_ids[0]})
        if not result.ok:
            return None, _failed(step, turn, result)
        return result.cards[0].model_dump(mode="json"), None
    if slots.references:
        card = _referenced(step, turn)
        if card is None:
            return None, clarify(step, turn, "ask_which_product", ["product"])
        return card, None
    if not slots.categories:
        return None, clarify(step, turn, "ask_what_item", ["categories"])
    return None, None


def _size(slots: Slots) -> str | None:
    return slots.sizes[0] if slots.sizes else None


def inventory(step: Step, turn: Turn) -> Handled:
    if not turn.has_tool("check_stock") or not _catalog_loaded(turn):
        return unavailable(step, turn)
    card, missing = _target(step, turn)
    if missing is not None:
        return missing
    if card is None:
        # "do you have white dresses in M?": a search limited to what is in stock in that size
        return _search(step, turn, in_stock_size=_size(step.slots))
    size = _size(step.slots)
    result = turn.call("check_stock", {"product_id": card["id"], "size": size})
    if not result.ok:
        return _failed(step, turn, result)
    stock = result.data["stock"]
    name = stock.get("name") or card.get("title") or card["id"]
    levels = stock.get("sizes", [])
    lines: list[str] = []
    if size is not None and len(levels) == 1:
        level = levels[0]
        key = "stock_size" if level["quantity"] > 0 else "stock_sold_out"
        lines.append(say(key, turn.language, name=name, size=level["size"], qty=str(level["quantity"])))
    else:
        available = [level["size"] for level in levels if level["quantity"] > 0]
        if available:
            lines.append(say("stock_sizes", turn.language, name=name, sizes=", ".join(available)))
        else:
            lines.append(say("stock_none", turn.language, name=name))
    price = card.get("data", {}).get("price")
    facts = list(result.facts)
    if price is not None:
        lines.append(say("price_now", turn.language, price=plain_number(float(price))))
        facts.append(f"price {plain_number(float(price))} CNY")
    return Handled(outcome=turn.outcome(step, "done", lines, facts=facts))


def _watched_search(text: str, slots: Slots) -> str:
    """The search an alert on a search keeps: the message without its price words, so "tell me when
    black jeans drop below 400 CNY" watches black jeans and the threshold is not kept a second time
    as the search's own price cap (in whatever currency the words were read in)."""
    for said in (
        slots.price_threshold.text if slots.price_threshold is not None else "",
        slots.budget.text if slots.budget is not None else "",
    ):
        if said:
            text = text.replace(said, " ")
    return " ".join(text.split()) or text


def price_alert(step: Step, turn: Turn) -> Handled:
    if not turn.has_tool("create_price_alert") or not _catalog_loaded(turn):
        return unavailable(step, turn)
    card, missing = _target(step, turn)
    if missing is not None:
        return missing
    slots = step.slots
    if slots.price_threshold is not None:
        threshold, currency = slots.price_threshold.value, slots.price_threshold.currency
    elif slots.budget is not None and slots.budget.max is not None:
        threshold, currency = slots.budget.max, slots.budget.currency
    else:
        return clarify(step, turn, "ask_threshold", ["price_threshold"])
    arguments: dict[str, Any] = {
        "threshold": threshold,
        "currency": _currency(currency),
        "size": _size(slots),
    }
    if card is not None:
        arguments["product_id"] = card["id"]
        target = card.get("title") or card["id"]
    else:
        arguments["query"] = _watched_search(step.text, slots)
        target = describe_slots(slots, turn.language) or step.text
    result = turn.call("create_price_alert", arguments)
    if not result.ok:
        return _failed(step, turn, result)
    alert = result.data["alert"]
    lines = [
        say("alert_set", turn.language, target=target, threshold=plain_number(float(alert["threshold"])))
    ]
    price = card.get("data", {}).get("price") if card is not None else None
    if price is not None and float(price) <= float(alert["threshold"]):
        lines.append(say("alert_already_below", turn.language, price=plain_number(float(price))))
    return Handled(outcome=turn.outcome(step, "done", lines, facts=result.facts))


def alert_notices(deps: AgentDeps, context: ChatContext, language: Language) -> Outcome | None:
    """Price alerts that fired since the person last wrote, told once at the top of the next reply."""
    name = "take_price_alert_notifications"
    if name not in deps.registry.names or getattr(deps.services, "catalog", None) is None:
        return None
    tool_context = ToolContext(user_id=context.user_id, locale=Locale(language), services=deps.services)
    result = deps.registry.invoke(name, tool_context, {})
    notifications: list[dict[str, Any]] = result.data.get("notifications", []) if result.ok else []
    if not notifications:
        return None
    items = [
        say(
            "alert_fired_item",
            language,
            name=str(n["name"]),
            price=plain_number(float(n["price"])),
            threshold=plain_number(float(n["threshold"])),
        )
        for n in notifications
    ]
    separator = "；" if language == "zh" else "; "
    return Outcome(
        intent=Intent.price_alert,
        status="done",
        lines=[say("alerts_fired", language, items=separator.join(items))],
        facts=result.facts,
        cards=[card.model_dump(mode="json") for card in result.cards],
        tools=[(name, True)],
        calls=[ToolCallRecord.of(name, {}, result)],
    )
