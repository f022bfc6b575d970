"""Agent-facing sizing tools: which size to order, and how a size turned out.

The numbers a reply may quote (the size, P(fit), the person's measurements and the
chart's ranges) come back as facts written from the service's result, in the
person's language, so the responder can explain the advice and cannot invent it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import Field

from tools.base import Tool, ToolArgs, ToolContext, ToolError, ToolResult
from tools.catalog.schemas import ProductDetail
from tools.catalog.store import CatalogStore
from tools.profile.schemas import MeasurementsIn
from tools.profile.tools import plain_number
from tools.sizing.service import Body, BodyValue, SizeAdvice, SizeOption, SizingError, SizingService

_DIMENSIONS_ZH = {
    "chest": "胸围",
    "waist": "腰围",
    "hips": "臀围",
    "height": "身高",
    "inseam": "内长",
    "foot_length": "脚长",
}
_ZH = {
    "advice": "{name}（编号 {id}）建议选 {size} 码",
    "p_fit": "{size} 码合身的概率约 {p}%（{label}）",
    "labels": {"high": "把握较大", "medium": "把握中等", "low": "把握不大"},
    "chart_only": "依据尺码表判断（{why}），没有合身概率",
    "no_model": "尺码模型尚未训练",
    "not_model_group": "尺码模型只学过服装的反馈",
    "runner": "次选 {size} 码（偏{direction}）{p}",
    "larger": "大",
    "smaller": "小",
    "body": "你的{dim} {value} 厘米",
    "body_est": "你的{dim}约 {value} 厘米（由身高体重估算，±{sd} 厘米）",
    "range": "{size} 码对应{dim} {low}–{high} 厘米",
    "stock": "{size} 码有货 {qty} 件",
    "sold_out": "{size} 码目前缺货",
    "person_fb": "你之前反馈过 {n} 次尺码：偏小 {small} 次，偏大 {large} 次",
    "product_fb": "这件商品有 {n} 条尺码反馈：偏小 {small} 条，偏大 {large} 条",
    "preference": "你偏好{pref}，身材在两个尺码之间，所以选了{direction}的那个",
    "runs_small": "模型预计这件对你这样身材的人偏小（偏小 {small}%，偏大 {large}%），所以建议大一码",
    "runs_large": "模型预计这件对你这样身材的人偏大（偏大 {large}%，偏小 {small}%），所以建议小一码",
    "pref_loose": "宽松",
    "pref_slim": "修身",
    "generated": "尺码、库存为演示用的生成数据，尺码表为通用默认表",
    "recorded": "已记录：{name}（编号 {id}）{size} 码{fit}",
    "fit_small": "偏小",
    "fit_fit": "合身",
    "fit_large": "偏大",
}
_EN = {
    "advice": "for {name} (id {id}) the advised size is {size}",
    "p_fit": "size {size} fits with a probability of about {p}% ({label})",
    "labels": {"high": "high confidence", "medium": "medium confidence", "low": "low confidence"},
    "chart_only": "read from the size chart ({why}), without a fit probability",
    "no_model": "the fit model is not trained",
    "not_model_group": "the fit model has only learned from clothing feedback",
    "runner": "runner-up: size {size} ({direction}){p}",
    "larger": "larger",
    "smaller": "smaller",
    "body": "your {dim} is {value} cm",
    "body_est": "your {dim} is about {value} cm (estimated from height and weight, ±{sd} cm)",
    "range": "size {size} is made for {dim} {low}-{high} cm",
    "stock": "size {size}: {qty} in stock",
    "sold_out": "size {size} is sold out",
    "person_fb": "you have given fit feedback {n} times: {small} too small, {large} too large",
    "product_fb": "this product has {n} fit reports: {small} too small, {large} too large",
    "preference": "you prefer a {pref} fit and you are between two sizes, so the {direction} one is advised",
    "runs_small": (
        "the fit model expects this product to run small for people like you "
        "({small}% too small, {large}% too large), so one size up is advised"
    ),
    "runs_large": (
        "the fit model expects this product to run large for people like you "
        "({large}% too large, {small}% too small), so one size down is advised"
    ),
    "pref_loose": "loose",
    "pref_slim": "slim",
    "generated": "sizes and stock are generated demo data and the size chart is the house default",
    "recorded": "recorded: {name} (id {id}) in size {size} was {fit}",
    "fit_small": "too small",
    "fit_fit": "a good fit",
    "fit_large": "too large",
}


def _table(context: ToolContext) -> Mapping[str, object]:
    return _ZH if str(context.locale) == "zh" else _EN


def _say(context: ToolContext, key: str, **values: object) -> str:
    text = _table(context)[key]
    assert isinstance(text, str)
    return text.format(**values)


def _dim(context: ToolContext, dimension: str) -> str:
    if str(context.locale) == "zh":
        return _DIMENSIONS_ZH.get(dimension, dimension)
    return dimension.replace("_", " ")


def _percent(p: float | None) -> str:
    return str(round((p or 0.0) * 100))


def _services(context: ToolContext) -> tuple[SizingService, CatalogStore]:
    sizing: SizingService | None = getattr(context.services, "sizing", None)
    catalog: CatalogStore | None = getattr(context.services, "catalog", None)
    if sizing is None or catalog is None:
        raise ToolError("size advice is not available in this deployment (no catalog or sizing service)")
    return sizing, catalog


def _product(catalog: CatalogStore, product_id: str) -> ProductDetail:
    detail = catalog.product(product_id)
    if detail is None:
        raise ToolError(
            f"no product with id {product_id!r}; search the catalog first and use an id it returns"
        )
    return detail


def _body(context: ToolContext, stated: MeasurementsIn | None) -> Body:
    profile = context.services.profiles.get(context.user_id)
    override = {
        k.removesuffix("_cm").removesuffix("_kg"): v
        for k, v in (stated.normalised() if stated else {}).items()
    }
    return Body.from_profile(profile, override)


def _body_fact(context: ToolContext, value: BodyValue) -> str:
    if value.estimated:
        return _say(
            context,
            "body_est",
            dim=_dim(context, value.dimension),
            value=plain_number(value.value_cm),
            sd=plain_number(value.sd_cm or 0.0),
        )
    return _say(context, "body", dim=_dim(context, value.dimension), value=plain_number(value.value_cm))


def _range_fact(context: ToolContext, option: SizeOption, dimension: str) -> str | None:
    span = option.chart.get(dimension)
    if span is None:
        return None
    low, high = span
    return _say(
        context,
        "range",
        size=option.size,
        dim=_dim(context, dimension),
        low=plain_number(low),
        high=plain_number(high),
    )


def advice_facts(context: ToolContext, advice: SizeAdvice) -> list[str]:
    """The statements a reply may make about this advice, most important first."""
    best = advice.recommended
    facts = [_say(context, "advice", name=advice.product_name, id=advice.product_id, size=best.size)]
    if advice.method == "model" and advice.confidence_label is not None:
        labels = _table(context)["labels"]
        assert isinstance(labels, dict)
        facts.append(
            _say(
                context,
                "p_fit",
                size=best.size,
                p=_percent(best.p_fit),
                label=labels[advice.confidence_label],
            )
        )
    else:
        why = _say(
            context,
            "no_model" if advice.model_version is None and advice.group != "shoes" else "not_model_group",
        )
        facts.append(_say(context, "chart_only", why=why))
    # The key girth always; other dimensions only when measured (estimates of them add length, not reasons).
    key = next((b for b in advice.body if b.dimension == advice.key_dimension), None)
    shown = [key] if key is not None else []
    shown += [b for b in advice.body if b is not key and not b.estimated]
    for value in shown:
        facts.append(_body_fact(context, value))
        ranged = _range_fact(context, best, value.dimension)
        if ranged is not None:
            facts.append(ranged)
    if advice.lean is not None and advice.runner_up is not None:
        centre = advice.runner_up  # the chart's own pick, which the lean moved away from
        facts.append(
            _say(context, advice.lean, small=_percent(centre.p_small), large=_percent(centre.p_large))
        )
    if advice.preference_applied is not None and advice.runner_up_direction is not None:
        facts.append(
            _say(
                context,
                "preference",
                pref=_say(context, f"pref_{advice.preference_applied.value}"),
                direction=_say(context, "smaller" if advice.runner_up_direction == "larger" else "larger"),
            )
        )
    if advice.runner_up is not None and advice.runner_up_direction is not None:
        runner = advice.runner_up
        p = f", P(fit) {_percent(runner.p_fit)}%" if runner.p_fit is not None else ""
        if str(context.locale) == "zh" and runner.p_fit is not None:
            p = f"，合身概率约 {_percent(runner.p_fit)}%"
        facts.append(
            _say(
                context, "runner", size=runner.size, direction=_say(context, advice.runner_up_direction), p=p
            )
        )
    key_stock = "stock" if best.in_stock else "sold_out"
    facts.append(_say(context, key_stock, size=best.size, qty=best.quantity))
    if advice.person_feedback.n:
        facts.append(_say(context, "person_fb", **advice.person_feedback.model_dump()))
    if advice.product_feedback.n:
        facts.append(_say(context, "product_fb", **advice.product_feedback.model_dump()))
    if advice.generated and advice.chart_brand is None:
        facts.append(_say(context, "generated"))
    return facts


# --- recommend_size ------------------------------------------------------------------------------


class RecommendSizeArgs(ToolArgs):
    product_id: str = Field(
        min_length=1, max_length=64, description="Catalog product id, from search_products."
    )
    measurements: MeasurementsIn | None = Field(
        default=None,
        description=(
            "Measurements the person stated in this conversation, used for this advice only and not saved "
            "(the profile's are used otherwise). Numbers are cm / kg / EU shoe size unless a unit is given."
        ),
    )


def recommend_size(context: ToolContext, args: RecommendSizeArgs) -> ToolResult:
    sizing, catalog = _services(context)
    detail = _product(catalog, args.product_id)
    try:
        advice = sizing.recommend(context.user_id, detail, _body(context, args.measurements))
    except SizingError as exc:
        return ToolResult(ok=False, error=str(exc), data={"code": exc.code, "missing": exc.missing})
    return ToolResult(
        ok=True, data={"advice": advice.model_dump(mode="json")}, facts=advice_facts(context, advice)
    )


RECOMMEND_SIZE: Tool[RecommendSizeArgs] = Tool(
    name="recommend_size",
    description=(
        "Advise which size of a catalog product the signed-in person should order, from the product's size "
        "chart, their measurements (profile, or ones stated now) and fit feedback. Returns the size with the "
        "highest probability of fitting, the runner-up, and the chart ranges that explain it. When something "
        "is missing (measurements, a size chart) it says what, so you can ask the person."
    ),
    args=RecommendSizeArgs,
    run=recommend_size,
)


# --- record_fit_feedback ---------------------------------------------------------------------------


class RecordFitFeedbackArgs(ToolArgs):
    product_id: str = Field(min_length=1, max_length=64, description="Catalog product id the person wore.")
    size: str = Field(min_length=1, max_length=32, description="The size they had, as the catalog spells it.")
    fit: Literal["small", "fit", "large"] = Field(
        description="small: too tight or too short; fit: fitted well; large: too loose or too long."
    )
    note: str | None = Field(
        default=None, max_length=500, description="Their words, e.g. 'tight at the hips'."
    )


def record_fit_feedback(context: ToolContext, args: RecordFitFeedbackArgs) -> ToolResult:
    sizing, catalog = _services(context)
    detail = _product(catalog, args.product_id)
    try:
        recorded = sizing.record_feedback(
            context.user_id, detail, args.size, args.fit, _body(context, None), note=args.note
        )
    except SizingError as exc:
        return ToolResult(ok=False, error=str(exc), data={"code": exc.code, "missing": exc.missing})
    fact = _say(
        context,
        "recorded",
        name=detail.product.name,
        id=detail.product.id,
        size=recorded.size,
        fit=_say(context, f"fit_{recorded.fit}"),
    )
    summary = recorded.person_feedback
    facts = [fact, _say(context, "person_fb", **summary.model_dump())]
    return ToolResult(ok=True, data={"feedback": recorded.model_dump(mode="json")}, facts=facts)


RECORD_FIT_FEEDBACK: Tool[RecordFitFeedbackArgs] = Tool(
    name="record_fit_feedback",
    description=(
        "Record how a size of a catalog product fitted the signed-in person (small, fit or large). Their "
        "next size advice learns from it. Call it when they say e.g. 'the M was too tight'."
    ),
    args=RecordFitFeedbackArgs,
    run=record_fit_feedback,
)

SIZING_TOOLS: tuple[Tool[RecommendSizeArgs] | Tool[RecordFitFeedbackArgs], ...] = (
    RECOMMEND_SIZE,
    RECORD_FIT_FEEDBACK,
)
