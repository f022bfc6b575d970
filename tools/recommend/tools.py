"""Agent-facing recommendation tools: outfits for an occasion, similar pieces, completing a look.

Facts are written from the service's result in the person's language: each outfit's
pieces with their prices, the total, and the reasons (occasion, colours, season, budget,
size), so the responder explains the choice and cannot invent one. Constraints that had to
be relaxed, and an empty slice, come back as facts too.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from graphs.vocabulary import Occasion, Season
from tools.base import Card, Tool, ToolArgs, ToolContext, ToolError, ToolResult
from tools.profile.tools import plain_number
from tools.recommend.behaviour import InteractionKind
from tools.recommend.schemas import ColourWord, Outfit, OutfitRequest, OutfitResult, ProductId, WeatherWord
from tools.recommend.service import SLOT_ZH, RecommendError, RecommendService


def _service(context: ToolContext) -> RecommendService:
    service: RecommendService | None = getattr(context.services, "recommend", None)
    if service is None:
        raise ToolError("outfit recommendations are not available in this deployment")
    return service


def outfit_facts(context: ToolContext, result: OutfitResult) -> list[str]:
    zh = context.zh
    facts = [reason.zh if zh else reason.en for reason in result.relaxed]
    for number, outfit in enumerate(result.outfits, start=1):
        facts.append(outfit_line(number, outfit, zh))
        facts.extend(f"{'搭配' if zh else 'outfit'} {number}: {r.zh if zh else r.en}" for r in outfit.reasons)
    if result.shortfall is not None:
        facts.append(result.shortfall.zh if zh else result.shortfall.en)
    if any(item.generated for outfit in result.outfits for item in outfit.items):
        facts.append(
            "价格、尺码和库存为演示用的生成数据" if zh else "prices, sizes and stock are generated demo data"
        )
    return facts


def outfit_line(number: int, outfit: Outfit, zh: bool) -> str:
    if zh:
        pieces = "；".join(
            f"{SLOT_ZH[i.slot.value]}：{i.name}（"
            + ("您衣橱里的" if i.owned else f"编号 {i.product_id}，¥{plain_number(i.price)}")
            + "）"
            for i in outfit.items
        )
        return f"搭配 {number}：{pieces}；合计 ¥{plain_number(outfit.total_price)}"
    pieces = "; ".join(
        f"{i.slot.value.replace('_', ' ')}: {i.name} ("
        + ("your own" if i.owned else f"id {i.product_id}, ¥{plain_number(i.price)}")
        + ")"
        for i in outfit.items
    )
    return f"outfit {number}: {pieces}; total ¥{plain_number(outfit.total_price)}"


def outfit_cards(result: OutfitResult) -> list[Card]:
    cards = []
    for number, outfit in enumerate(result.outfits, start=1):
        for item in outfit.items:
            cards.append(
                Card(
                    kind="product",
                    id=item.product_id,
                    title=item.name,
                    image_url=item.image_url,
                    data={
                        "outfit": number,
                        "slot": item.slot.value,
                        "price": item.price,
                        "currency": outfit.currency,
                        "colour": item.colour,
                        "article_type": item.article_type,
                        "size": item.size,
                        "generated": item.generated,
                        "owned": item.owned,
                    },
                )
            )
    return cards


def _failure(exc: RecommendError) -> ToolResult:
    return ToolResult(ok=False, error=exc.message, data={"code": exc.code})


# --- recommend_outfit ------------------------------------------------------------------------------


class RecommendOutfitArgs(ToolArgs):
    occasion: Occasion | None = Field(
        default=None,
        description="What the outfit is for; 'everyday' when the person names nothing. Use 'formal' for "
        "galas, funerals and graduations, 'work' for interviews and the office, 'vacation' for travel "
        "and beach.",
    )
    season: Season | None = Field(
        default=None, description="Season to dress for; the current one when omitted."
    )
    weather: list[WeatherWord] = Field(
        default_factory=list, max_length=5, description="Weather words the person used."
    )
    temperature_c: float | None = Field(
        default=None, ge=-40, le=50, description="Expected temperature in °C; below 15 adds an outer layer."
    )
    budget_max: float | None = Field(default=None, gt=0, description="Most the whole outfit may cost.")
    currency: Literal["CNY", "USD", "EUR", "GBP", "INR", "JPY", "HKD"] | None = Field(
        default=None, description="Currency of budget_max; the profile's budget currency or CNY when omitted."
    )
    colours: list[ColourWord] = Field(default_factory=list, max_length=8, description="Colours wanted.")
    only_colours: bool = Field(default=False, description="True when every piece must be one of `colours`.")
    avoid_colours: list[ColourWord] = Field(
        default_factory=list, max_length=12, description="Colours to leave out."
    )
    count: int = Field(default=3, ge=1, le=6, description="How many outfits to suggest.")
    exclude_product_ids: list[ProductId] = Field(
        default_factory=list,
        max_length=200,
        description="Products already shown that the person did not want.",
    )


def _outfits_result(context: ToolContext, args: RecommendOutfitArgs, anchor: str | None) -> ToolResult:
    service = _service(context)
    request = OutfitRequest(**args.model_dump(exclude={"product_id"}))
    try:
        if anchor is None:
            result = service.recommend_outfits(context.user_id, request)
        else:
            result = service.complete_the_look(context.user_id, anchor, request)
    except RecommendError as exc:
        return _failure(exc)
    return ToolResult(
        ok=True,
        data={"result": result.model_dump(mode="json")},
        facts=outfit_facts(context, result),
        cards=outfit_cards(result),
    )


def recommend_outfit(context: ToolContext, args: RecommendOutfitArgs) -> ToolResult:
    return _outfits_result(context, args, None)


RECOMMEND_OUTFIT: Tool[RecommendOutfitArgs] = Tool(
    name="recommend_outfit",
    description=(
        "Suggest complete outfits (a top and bottom or a dress, shoes, and an outer layer or accessory) from "
        "the catalogue for the signed-in person: suited to the occasion, season and weather, within budget, "
        "in stock in their size, in colours that go together, and personalised by what they liked and "
        "bought. Each outfit comes with its reasons; contradictory constraints are explained and the "
        "nearest valid alternative is shown; an empty result says which constraint emptied it."
    ),
    args=RecommendOutfitArgs,
    run=recommend_outfit,
)


# --- complete_the_look -----------------------------------------------------------------------------


class CompleteTheLookArgs(RecommendOutfitArgs):
    product_id: ProductId = Field(description="The catalogue product to build outfits around.")


def complete_the_look(context: ToolContext, args: CompleteTheLookArgs) -> ToolResult:
    return _outfits_result(context, args, args.product_id)


COMPLETE_THE_LOOK: Tool[CompleteTheLookArgs] = Tool(
    name="complete_the_look",
    description=(
        "Build outfits around one catalogue product (e.g. 'what goes with this skirt?'): the other pieces "
        "are chosen to go with it by category, colour and formality, with the same occasion, season and "
        "budget options as recommend_outfit."
    ),
    args=CompleteTheLookArgs,
    run=complete_the_look,
)


# --- recommend_similar -----------------------------------------------------------------------------


class RecommendSimilarArgs(ToolArgs):
    product_id: ProductId = Field(description="The catalogue product to find alternatives to.")
    limit: int = Field(default=6, ge=1, le=20)


def recommend_similar(context: ToolContext, args: RecommendSimilarArgs) -> ToolResult:
    service = _service(context)
    try:
        result = service.similar(context.user_id, args.product_id, args.limit)
    except RecommendError as exc:
        return _failure(exc)
    zh = context.zh
    facts = [
        (f"相似商品：{i.name}（编号 {i.product_id}，¥{plain_number(i.price)}）" if zh
         else f"similar: {i.name} (id {i.product_id}, ¥{plain_number(i.price)})")
        for i in result.items
    ]  # fmt: skip
    if not result.items:
        facts.append("没有有货的相似商品" if zh else "no similar product is in stock")
    cards = [
        Card(
            kind="product",
            id=i.product_id,
            title=i.name,
            image_url=i.image_url,
            data={
                "price": i.price,
                "colour": i.colour,
                "article_type": i.article_type,
                "generated": i.generated,
            },
        )
        for i in result.items
    ]
    return ToolResult(ok=True, data={"result": result.model_dump(mode="json")}, facts=facts, cards=cards)


RECOMMEND_SIMILAR: Tool[RecommendSimilarArgs] = Tool(
    name="recommend_similar",
    description=(
        "Find in-stock alternatives to a catalogue product for the same department and outfit slot: by "
        "text-embedding similarity once vectors are indexed, else by the knowledge graph (same category, "
        "harmonious colour, same style)."
    ),
    args=RecommendSimilarArgs,
    run=recommend_similar,
)


# --- record_interaction ----------------------------------------------------------------------------


class RecordInteractionArgs(ToolArgs):
    product_id: ProductId
    kind: Literal["like", "unlike", "dislike"] = Field(
        description="like: the person likes it; unlike: takes a like back; dislike: not for them."
    )
    occasion: Occasion | None = None


def record_interaction(context: ToolContext, args: RecordInteractionArgs) -> ToolResult:
    service = _service(context)
    try:
        recorded = service.record(context.user_id, args.product_id, InteractionKind(args.kind), args.occasion)
    except RecommendError as exc:
        return _failure(exc)
    zh = context.zh
    said = {"like": ("已记下您喜欢", "noted that you like"), "unlike": ("已取消喜欢", "removed your like of"),
            "dislike": ("已记下您不喜欢", "noted that you do not like")}[args.kind]  # fmt: skip
    fact = f"{said[0]}编号 {args.product_id}" if zh else f"{said[1]} product {args.product_id}"
    return ToolResult(ok=True, data={"interaction_id": recorded.id}, facts=[fact])


RECORD_INTERACTION: Tool[RecordInteractionArgs] = Tool(
    name="record_interaction",
    description=(
        "Record that the signed-in person likes, no longer likes, or dislikes a catalogue product; "
        "their next recommendations change at once."
    ),
    args=RecordInteractionArgs,
    run=record_interaction,
)

RECOMMEND_TOOLS = (RECOMMEND_OUTFIT, COMPLETE_THE_LOOK, RECOMMEND_SIMILAR, RECORD_INTERACTION)
