"""Agent-facing wardrobe tools: add by photo or by name, list, re-tag, outfits from one's own
clothes, and the wear log.

Facts are written in the person's language from what was stored, so the reply can say
"added: navy blue t-shirt (striped, summer)" but never a tag the tagger did not give.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Annotated, Literal

from pydantic import Field

from graphs.vocabulary import Occasion, Season
from tools.base import Card, Tool, ToolArgs, ToolContext, ToolError, ToolResult
from tools.profile.tools import plain_number
from tools.recommend.schemas import ColourWord, OutfitRequest, WeatherWord
from tools.recommend.service import SLOT_ZH, RecommendError, RecommendService
from tools.recommend.tools import outfit_cards, outfit_facts
from tools.uploads import UnknownUpload, UploadStore
from tools.wardrobe.colours import colour_name_zh
from tools.wardrobe.images import ImageRejected
from tools.wardrobe.schemas import (
    CATEGORIES,
    COLOUR_NAMES,
    ItemCreate,
    ItemUpdate,
    Pattern,
    Tag,
    WardrobeFilter,
    WardrobeItemRead,
)
from tools.wardrobe.service import WardrobeError, WardrobeService

_PATTERN_ZH = {"solid": "纯色", "striped": "条纹", "checked": "格纹", "dotted": "波点", "floral": "碎花",
               "printed": "印花"}  # fmt: skip
_SEASON_ZH = {"spring": "春", "summer": "夏", "fall": "秋", "winter": "冬"}
#: Rejection codes the person can act on, in Chinese (the English message comes from the check itself).
_REJECTED_ZH = {
    "empty": "文件是空的，请重新发送照片",
    "too_large": "照片太大了，请发送 10 MB 以内的照片",
    "not_an_image": "这不是图片文件，请发送 JPEG、PNG 或 WebP 照片",
    "unsupported_format": "只支持 JPEG、PNG 和 WebP 格式的照片",
    "corrupt": "这张照片已损坏或不完整，请重新拍摄或发送",
    "too_many_pixels": "照片像素过多，请发送 4000 万像素以内的照片",
    "too_small": "照片太小了，请发送至少 64×64 像素的照片",
    "no_garment": "照片里没有找到衣物，请把衣服平铺或穿在身上、背景尽量简洁后再拍",
}


def _wardrobe(context: ToolContext) -> WardrobeService:
    service: WardrobeService | None = getattr(context.services, "wardrobe", None)
    if service is None:
        raise ToolError("the wardrobe is not available in this deployment")
    return service


def _failure(context: ToolContext, exc: WardrobeError | ImageRejected) -> ToolResult:
    message = exc.message
    if context.zh and isinstance(exc, ImageRejected):
        message = _REJECTED_ZH.get(exc.code, message)
    details = exc.details if isinstance(exc, WardrobeError) else {}
    return ToolResult(ok=False, error=message, data={"code": exc.code, **details})


def item_fact(item: WardrobeItemRead, zh: bool) -> str:
    if zh:
        parts = [
            f"颜色{colour_name_zh(item.colour)}" if item.colour else None,
            _PATTERN_ZH.get(item.pattern or "") if item.pattern else None,
            "、".join(_SEASON_ZH[s] for s in item.seasons) + "季" if item.seasons else None,
            f"标签：{'、'.join(item.tags)}" if item.tags else None,
        ]
        details = "".join(f"，{p}" for p in parts if p)
        return f"{item.name}（编号 {item.id[:8]}，{item.category or '类别未定'}{details}）"
    parts = [
        item.colour.lower() if item.colour else None,
        item.pattern,
        "/".join(item.seasons) if item.seasons else None,
        f"tags: {', '.join(item.tags)}" if item.tags else None,
    ]
    details = "".join(f", {p}" for p in parts if p)
    return f"{item.name} (id {item.id[:8]}, {item.category or 'category not set'}{details})"


def item_card(item: WardrobeItemRead) -> Card:
    return Card(
        kind="image" if item.has_photo else "product",
        id=item.id,
        title=item.name,
        image_url=f"/api/v1/wardrobe/items/{item.id}/photo?variant=cutout" if item.has_photo else None,
        data={
            "wardrobe": True,
            "category": item.category,
            "kind": item.kind,
            "colour": item.colour,
            "pattern": item.pattern,
            "seasons": list(item.seasons),
            "occasions": list(item.occasions),
            "tags": item.tags,
        },
    )


def _resolve_item(items: Sequence[WardrobeItemRead], reference: str) -> str:
    """An item id from a full id or the 8-character prefix the facts show."""
    reference = reference.strip()
    matches = [i.id for i in items if i.id.startswith(reference)]
    if len(reference) < 8 or not matches:
        raise ToolError(f"no wardrobe item {reference!r}; list the wardrobe to see the ids")
    if len(matches) > 1:
        raise ToolError(f"{reference!r} matches several items; give more of the id")
    return matches[0]


# --- add_wardrobe_item -----------------------------------------------------------------------------


class AddWardrobeItemArgs(ToolArgs):
    upload_id: str | None = Field(
        default=None,
        description="The id of a photo the person sent (from the message's attachments). The photo is "
        "tagged automatically: background removed, colours, pattern, category, season, occasion.",
    )
    caption: str | None = Field(
        default=None, max_length=300, description="The person's own words about the item ('my blue shirt')."
    )
    name: str | None = Field(
        default=None, max_length=120, description="For an item added without a photo: what it is."
    )
    category: Literal[CATEGORIES] | None = Field(  # type: ignore[valid-type]
        default=None, description="Catalogue category when the person said what it is."
    )
    colour: Literal[COLOUR_NAMES] | None = Field(  # type: ignore[valid-type]
        default=None, description="Catalogue colour when the person said it."
    )
    price: float | None = Field(default=None, ge=0, description="What it cost, for cost per wear.")
    currency: Literal["CNY", "USD", "EUR", "GBP", "INR", "JPY", "HKD"] | None = None
    allow_duplicate: bool = Field(
        default=False, description="True only when the person confirmed they own two identical items."
    )


def add_wardrobe_item(context: ToolContext, args: AddWardrobeItemArgs) -> ToolResult:
    service = _wardrobe(context)
    zh = context.zh
    fields = ItemCreate(
        name=(args.name or args.caption or "item")[:120],
        category=args.category,
        colour=args.colour,
        price=args.price,
        currency=args.currency,
    )
    note: list[str] = []
    try:
        if args.upload_id is not None:
            uploads: UploadStore | None = getattr(context.services, "uploads", None)
            if uploads is None:
                raise ToolError("photo uploads are not available in this deployment")
            try:
                data = uploads.read(context.user_id, args.upload_id)
            except UnknownUpload as exc:
                raise ToolError(str(exc)) from exc
            typed = args.name or args.category or args.colour or args.price is not None
            added = service.add_photo(
                context.user_id,
                data,
                caption=args.caption,
                extra=fields if typed else None,
                allow_duplicate=args.allow_duplicate,
            )
            item = added.item
            if added.worn_by_person:
                note.append(
                    "照片中有人穿着，已只保留衣物部分"
                    if zh
                    else "worn in the photo: only the garment was kept"
                )
            if item.category is None:
                note.append(
                    "没能从照片判断这是什么单品，能告诉我吗？"
                    if zh
                    else "I could not tell from the photo what kind of item this is; what is it?"
                )
        else:
            if not args.name:
                raise ToolError("give upload_id (a photo the person sent) or the item's name")
            item = service.add_manual(context.user_id, fields)
    except (WardrobeError, ImageRejected) as exc:
        return _failure(context, exc)
    fact = ("已加入衣橱：" if zh else "added to the wardrobe: ") + item_fact(item, zh)
    return ToolResult(
        ok=True,
        data={"item": item.model_dump(mode="json"), "notes": note},
        facts=[fact, *note],
        cards=[item_card(item)],
    )


ADD_WARDROBE_ITEM: Tool[AddWardrobeItemArgs] = Tool(
    name="add_wardrobe_item",
    description=(
        "Add a garment to the signed-in person's wardrobe, from a photo they sent (upload_id; tagged "
        "automatically) or from a description (name, category, colour). A photo of an item already in the "
        "wardrobe is refused as a duplicate unless allow_duplicate; a file that is not a usable photo, or "
        "shows no garment, is refused with the reason."
    ),
    args=AddWardrobeItemArgs,
    run=add_wardrobe_item,
)


# --- list_wardrobe ---------------------------------------------------------------------------------


class ListWardrobeArgs(ToolArgs):
    kind: Literal["top", "bottom", "one_piece", "outerwear", "shoes", "bag", "accessory"] | None = None
    category: Literal[CATEGORIES] | None = None  # type: ignore[valid-type]
    colour: Literal[COLOUR_NAMES] | None = None  # type: ignore[valid-type]
    season: Season | None = None
    occasion: Occasion | None = None
    tag: Tag | None = None
    idle_months: int | None = Field(
        default=None, ge=1, le=120, description="Only items not worn for this many months (or never)."
    )
    limit: int = Field(default=20, ge=1, le=100)


def list_wardrobe(context: ToolContext, args: ListWardrobeArgs) -> ToolResult:
    service = _wardrobe(context)
    zh = context.zh
    items = service.items(context.user_id, WardrobeFilter(**args.model_dump()))
    total = service.count(context.user_id)
    facts = [f"衣橱共 {total} 件" if zh else f"{total} items in the wardrobe"]
    if not items:
        facts.append("没有符合条件的单品" if zh else "no item matches")
    facts += [item_fact(item, zh) for item in items]
    if args.idle_months is not None:
        insights = service.insights(context.user_id, args.idle_months)
        facts.append(
            f"{len(insights.never_worn)} 件从未穿过" if zh else f"{len(insights.never_worn)} never worn"
        )
    return ToolResult(
        ok=True,
        data={"items": [i.model_dump(mode="json") for i in items], "total": total},
        facts=facts,
        cards=[item_card(i) for i in items],
    )


LIST_WARDROBE: Tool[ListWardrobeArgs] = Tool(
    name="list_wardrobe",
    description=(
        "List the signed-in person's wardrobe, optionally only one slot (kind), category, colour, season, "
        "occasion or tag, or only items not worn for idle_months months."
    ),
    args=ListWardrobeArgs,
    run=list_wardrobe,
)


# --- tag_wardrobe_item -----------------------------------------------------------------------------


class TagWardrobeItemArgs(ToolArgs):
    item_id: str = Field(min_length=8, max_length=36, description="The item's id, or its first 8 characters.")
    name: str | None = Field(default=None, min_length=1, max_length=120)
    category: Literal[CATEGORIES] | None = None  # type: ignore[valid-type]
    colour: Literal[COLOUR_NAMES] | None = None  # type: ignore[valid-type]
    pattern: Pattern | None = None
    seasons: list[Season] | None = Field(default=None, max_length=4)
    occasions: list[Occasion] | None = Field(default=None, max_length=9)
    add_tags: list[Tag] = Field(default_factory=list, max_length=10)
    remove_tags: list[Tag] = Field(default_factory=list, max_length=10)


def tag_wardrobe_item(context: ToolContext, args: TagWardrobeItemArgs) -> ToolResult:
    service = _wardrobe(context)
    zh = context.zh
    try:
        item_id = _resolve_item(service.all_items(context.user_id), args.item_id)
        changes = args.model_dump(
            exclude_none=True, exclude={"item_id", "add_tags", "remove_tags"}, exclude_unset=True
        )
        if args.add_tags or args.remove_tags:
            current = service.get(context.user_id, item_id).tags
            removed = set(args.remove_tags)
            changes["tags"] = [t for t in [*current, *args.add_tags] if t not in removed]
        if not changes:
            raise ToolError("say what to change: name, category, colour, pattern, seasons, occasions or tags")
        item = service.update(context.user_id, item_id, ItemUpdate(**changes))
    except WardrobeError as exc:
        return _failure(context, exc)
    fact = ("已更新：" if zh else "updated: ") + item_fact(item, zh)
    return ToolResult(
        ok=True, data={"item": item.model_dump(mode="json")}, facts=[fact], cards=[item_card(item)]
    )


TAG_WARDROBE_ITEM: Tool[TagWardrobeItemArgs] = Tool(
    name="tag_wardrobe_item",
    description=(
        "Correct or extend a wardrobe item's tags: its name, category, colour, pattern, seasons, occasions, "
        "and the person's own tags (add_tags / remove_tags). Only the fields given change."
    ),
    args=TagWardrobeItemArgs,
    run=tag_wardrobe_item,
)


# --- suggest_outfit_from_wardrobe ------------------------------------------------------------------


class SuggestFromWardrobeArgs(ToolArgs):
    occasion: Occasion | None = Field(
        default=None, description="What the outfit is for; 'everyday' if unsaid."
    )
    season: Season | None = Field(
        default=None, description="Season to dress for; the current one when omitted."
    )
    weather: list[WeatherWord] = Field(default_factory=list, max_length=5)
    temperature_c: float | None = Field(default=None, ge=-40, le=50)
    budget_max: float | None = Field(
        default=None, gt=0, description="Most the pieces to buy (to fill gaps) may cost together."
    )
    currency: Literal["CNY", "USD", "EUR", "GBP", "INR", "JPY", "HKD"] | None = None
    colours: list[ColourWord] = Field(default_factory=list, max_length=8)
    only_colours: bool = Field(default=False, description="True when every piece must be one of `colours`.")
    avoid_colours: list[ColourWord] = Field(default_factory=list, max_length=12)
    count: int = Field(default=3, ge=1, le=6)


def suggest_outfit_from_wardrobe(context: ToolContext, args: SuggestFromWardrobeArgs) -> ToolResult:
    wardrobe = _wardrobe(context)
    recommend: RecommendService | None = getattr(context.services, "recommend", None)
    if recommend is None:
        raise ToolError("outfit suggestions are not available in this deployment")
    zh = context.zh
    owned = wardrobe.owned_pieces(context.user_id)
    try:
        result = recommend.wardrobe_outfits(context.user_id, OutfitRequest(**args.model_dump()), owned)
    except RecommendError as exc:
        error = exc.message
        if exc.code == "empty_wardrobe":
            error = (
                "衣橱里还没有可以搭配的上装、下装或连衣裙，先拍照添加几件吧"
                if zh
                else "the wardrobe has no tops, bottoms or dresses yet; add some by photo first"
            )
        return ToolResult(ok=False, error=error, data={"code": exc.code})
    facts = outfit_facts(context, result)
    for number, outfit in enumerate(result.outfits, start=1):
        for gap in outfit.gaps:
            options = ("；" if zh else "; ").join(
                f"{o.name}（编号 {o.product_id}，¥{plain_number(o.price)}）"
                if zh
                else f"{o.name} (id {o.product_id}, ¥{plain_number(o.price)})"
                for o in gap.options
            )
            label = f"搭配 {number}" if zh else f"outfit {number}"
            facts.append(f"{label}: {gap.zh if zh else gap.en}: {options}")
    return ToolResult(
        ok=True,
        data={"result": result.model_dump(mode="json")},
        facts=facts,
        cards=outfit_cards(result),
    )


SUGGEST_OUTFIT_FROM_WARDROBE: Tool[SuggestFromWardrobeArgs] = Tool(
    name="suggest_outfit_from_wardrobe",
    description=(
        "Build outfits from the signed-in person's own clothes for an occasion, season and weather, "
        "favouring pieces not worn lately; a slot their wardrobe cannot fill (e.g. no shoes that go with it) "
        "is filled from the catalogue, with up to three in-stock options listed."
    ),
    args=SuggestFromWardrobeArgs,
    run=suggest_outfit_from_wardrobe,
)


# --- log_wear --------------------------------------------------------------------------------------


class LogWearArgs(ToolArgs):
    item_ids: list[str] = Field(
        default_factory=list,
        max_length=12,
        description="Ids (or 8-character prefixes) of the items worn together.",
    )
    described: list[Annotated[str, Field(min_length=1, max_length=120)]] = Field(
        default_factory=list,
        max_length=12,
        description="The items in the person's words, one per item ('my white tee', '蓝色牛仔裤'), when "
        "no ids are known; each must match exactly one wardrobe item.",
    )
    worn_on: date | None = Field(default=None, description="The day they were worn; today when omitted.")
    days_ago: int = Field(
        default=0, ge=0, le=366, description="Instead of worn_on: 1 for yesterday, 2 for the day before."
    )
    occasion: Occasion | None = None


def log_wear(context: ToolContext, args: LogWearArgs) -> ToolResult:
    service = _wardrobe(context)
    zh = context.zh
    if not args.item_ids and not args.described:
        raise ToolError("name the items worn: item_ids, or described in the person's words")
    try:
        items = service.all_items(context.user_id)
        ids = [_resolve_item(items, ref) for ref in args.item_ids]
        for words in args.described:
            found = service.find(items, words)
            if len(found) != 1:
                options = ", ".join(f"{i.name} (id {i.id[:8]})" for i in found[:5])
                raise ToolError(
                    f"'{words}' matches {len(found)} wardrobe items"
                    + (
                        f": {options}; ask which one"
                        if found
                        else "; ask which item they mean or add it first"
                    )
                )
            ids.append(found[0].id)
        worn_on = args.worn_on or service.today() - timedelta(days=args.days_ago)
        entries = service.log_wear(context.user_id, ids, worn_on, args.occasion)
    except WardrobeError as exc:
        return _failure(context, exc)
    day = entries[0].worn_on.isoformat()
    names = {i.id: i.name for i in items}
    worn = ("、" if zh else ", ").join(names.get(e.item_id, e.item_id) for e in entries)
    fact = f"已记录 {day} 穿了：{worn}" if zh else f"logged as worn on {day}: {worn}"
    again = [e for e in entries if not e.created]
    facts = [fact]
    if again:
        facts.append(
            "其中部分当天已记录过，未重复记录"
            if zh
            else "some were already logged that day; not counted twice"
        )
    return ToolResult(ok=True, data={"entries": [e.model_dump(mode="json") for e in entries]}, facts=facts)


LOG_WEAR: Tool[LogWearArgs] = Tool(
    name="log_wear",
    description=(
        "Record that the signed-in person wore these wardrobe items (together, as one outfit) on a day; "
        "feeds the outfit calendar, cost per wear and the never-worn list. Logging the same day twice "
        "changes nothing."
    ),
    args=LogWearArgs,
    run=log_wear,
)


# --- wardrobe_insights -----------------------------------------------------------------------------


class WardrobeInsightsArgs(ToolArgs):
    idle_months: int = Field(default=3, ge=1, le=120, description="'Not worn lately' means for this long.")


def wardrobe_insights(context: ToolContext, args: WardrobeInsightsArgs) -> ToolResult:
    service = _wardrobe(context)
    zh = context.zh
    insights = service.insights(context.user_id, args.idle_months)
    facts = [
        f"衣橱共 {insights.items} 件，穿过的有 {insights.worn_items} 件"
        if zh
        else f"{insights.items} items, {insights.worn_items} of them worn at least once"
    ]
    if insights.never_worn:
        names = ("、" if zh else ", ").join(u.name for u in insights.never_worn[:10])
        facts.append(f"从未穿过：{names}" if zh else f"never worn: {names}")
    if insights.idle:
        names = ("、" if zh else ", ").join(u.name for u in insights.idle[:10])
        facts.append(
            f"超过 {insights.idle_months} 个月没穿：{names}"
            if zh
            else f"not worn for {insights.idle_months} months: {names}"
        )
    for usage in insights.most_worn[:5]:
        if usage.cost_per_wear is not None:
            facts.append(
                f"{usage.name}：穿了 {usage.wears} 次，"
                f"每次 {plain_number(usage.cost_per_wear)} {usage.currency or ''}"
                if zh
                else f"{usage.name}: worn {usage.wears} times, {plain_number(usage.cost_per_wear)} "
                f"{usage.currency or ''} per wear"
            )
    if insights.empty_slots:
        slots = ("、" if zh else ", ").join(
            SLOT_ZH.get(s, s) if zh else s.replace("_", " ") for s in insights.empty_slots
        )
        facts.append(f"衣橱里还没有：{slots}" if zh else f"nothing yet for: {slots}")
    return ToolResult(ok=True, data={"insights": insights.model_dump(mode="json")}, facts=facts)


WARDROBE_INSIGHTS: Tool[WardrobeInsightsArgs] = Tool(
    name="wardrobe_insights",
    description=(
        "How the signed-in person uses their wardrobe: items never worn, items not worn for idle_months, "
        "the most worn with their cost per wear, and outfit slots with nothing in them."
    ),
    args=WardrobeInsightsArgs,
    run=wardrobe_insights,
)

WARDROBE_TOOLS = (
    ADD_WARDROBE_ITEM,
    LIST_WARDROBE,
    TAG_WARDROBE_ITEM,
    SUGGEST_OUTFIT_FROM_WARDROBE,
    LOG_WEAR,
    WARDROBE_INSIGHTS,
)
