"""Agent-facing profile tools: read the person's profile, and change it once they have confirmed."""

from __future__ import annotations

from pydantic import Field

from tools.base import Card, Tool, ToolArgs, ToolContext, ToolError, ToolResult
from tools.profile.schemas import ProfileRead, ProfileUpdate
from tools.profile.service import AccountError, ProfileService
from tools.profile.units import LengthUnit, WeightUnit, from_cm, from_kg

_LABELS = {
    "en": {
        "height_cm": "height", "weight_kg": "weight", "chest_cm": "chest/bust", "waist_cm": "waist",
        "hips_cm": "hips", "inseam_cm": "inseam", "shoulder_cm": "shoulder width",
        "shoe_size_eu": "shoe size",
        "body_shape": "body shape", "fit_preference": "preferred fit", "styles": "styles",
        "favourite_colours": "favourite colours", "avoided_colours": "colours to avoid", "budget": "budget",
        "home_city": "city",
    },
    "zh": {
        "height_cm": "身高", "weight_kg": "体重", "chest_cm": "胸围", "waist_cm": "腰围", "hips_cm": "臀围",
        "inseam_cm": "内长", "shoulder_cm": "肩宽", "shoe_size_eu": "鞋码", "body_shape": "体型",
        "fit_preference": "版型偏好", "styles": "风格", "favourite_colours": "喜欢的颜色",
        "avoided_colours": "避开的颜色", "budget": "预算", "home_city": "城市",
    },
}  # fmt: skip


def plain_number(value: float) -> str:
    """170.0 -> "170", 52.25 -> "52.2": how a stored value is said back to the person."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def profile_facts(profile: ProfileRead, locale: str) -> list[str]:
    """Each stored value as one statement, in the person's language and display units."""
    labels = _LABELS["zh" if locale == "zh" else "en"]
    length_unit = profile.preferred_units.length or LengthUnit.cm
    weight_unit = profile.preferred_units.weight or WeightUnit.kg
    facts: list[str] = []
    for field in ("height_cm", "chest_cm", "waist_cm", "hips_cm", "inseam_cm", "shoulder_cm"):
        value = getattr(profile, field)
        if value is not None:
            shown = plain_number(from_cm(value, length_unit))
            extra = f" ({plain_number(value)} cm)" if length_unit != LengthUnit.cm else ""
            facts.append(f"{labels[field]} {shown} {length_unit.value}{extra}")
    if profile.weight_kg is not None:
        extra = f" ({plain_number(profile.weight_kg)} kg)" if weight_unit != WeightUnit.kg else ""
        shown = plain_number(from_kg(profile.weight_kg, weight_unit))
        facts.append(f"{labels['weight_kg']} {shown} {weight_unit.value}{extra}")
    if profile.shoe_size_eu is not None:
        facts.append(f"{labels['shoe_size_eu']} EU {plain_number(profile.shoe_size_eu)}")
    for field in ("body_shape", "fit_preference", "home_city"):
        value = getattr(profile, field)
        if value is not None:
            facts.append(f"{labels[field]}: {value}")
    for field in ("styles", "favourite_colours", "avoided_colours"):
        values = getattr(profile, field)
        if values:
            facts.append(f"{labels[field]}: {', '.join(str(v) for v in values)}")
    budget = profile.budget
    if budget.min is not None or budget.max is not None:
        low = plain_number(budget.min) if budget.min is not None else "0"
        high = plain_number(budget.max) if budget.max is not None else "∞"
        span = f"{low}-{high}"
        facts.append(f"{labels['budget']}: {span} {budget.currency or ''}".rstrip())
    return facts


def _profiles(context: ToolContext) -> ProfileService:
    profiles: ProfileService = context.services.profiles
    return profiles


class GetProfileArgs(ToolArgs):
    pass


def get_profile(context: ToolContext, _: GetProfileArgs) -> ToolResult:
    try:
        profile = _profiles(context).get(context.user_id)
    except AccountError as exc:
        raise ToolError(f"no profile available: {exc}") from exc
    facts = profile_facts(profile, context.locale)
    return ToolResult(
        ok=True,
        data={
            "profile": profile.model_dump(mode="json"),
            "complete": bool(profile.height_cm and profile.weight_kg),
        },
        facts=facts,
        cards=[Card(kind="profile", id=profile.user_id, data={"facts": facts})],
    )


class UpdateProfileArgs(ToolArgs):
    changes: ProfileUpdate = Field(
        description=(
            "Only the fields the person stated. Lengths: a number in cm or {value, unit: cm|in}; weight: a "
            "number "
            "in kg or {value, unit: kg|lb}; shoe size: a number in EU or {value, system: "
            "EU|UK|US_men|US_women|CN}."
        )
    )
    confirmed: bool = Field(
        description=(
            "True only after the person has said yes to exactly these changes. With false the tool changes "
            "nothing and returns the summary to ask them about."
        )
    )


def update_profile(context: ToolContext, args: UpdateProfileArgs) -> ToolResult:
    given = sorted(args.changes.model_fields_set)
    if not given:
        raise ToolError("no changes given: pass the fields the person stated in `changes`")
    if not args.confirmed:
        return ToolResult(
            ok=False,
            error=(
                "not saved yet: ask the person to confirm these changes, then call again with confirmed=true"
            ),
            data={"pending_changes": args.changes.model_dump(mode="json", exclude_unset=True)},
        )
    try:
        profile = _profiles(context).update(context.user_id, args.changes)
    except AccountError as exc:
        raise ToolError(f"not saved: {exc}") from exc
    return ToolResult(
        ok=True,
        data={"profile": profile.model_dump(mode="json"), "changed": given},
        facts=profile_facts(profile, context.locale),
    )


GET_PROFILE: Tool[GetProfileArgs] = Tool(
    name="get_profile",
    description=(
        "Read the signed-in person's profile: body measurements (cm/kg, shown in their preferred units), "
        "shoe size "
        "(EU), body shape, preferred fit, styles, colours, budget, city and language. Use it before advice "
        "that "
        "depends on their body or taste. It can only read the person you are talking to."
    ),
    args=GetProfileArgs,
    run=get_profile,
)

UPDATE_PROFILE: Tool[UpdateProfileArgs] = Tool(
    name="update_profile",
    description=(
        "Save measurements or preferences the person stated about themself (height, weight, chest, waist, "
        "hips, "
        "inseam, shoulder, shoe size, body shape, fit, styles, favourite or avoided colours, budget, city, "
        "language, "
        "display units, consents). First call with confirmed=false to get the summary, ask the person, "
        "then call "
        "with confirmed=true. Out-of-range or contradictory values are refused with the reason."
    ),
    args=UpdateProfileArgs,
    run=update_profile,
)

PROFILE_TOOLS: tuple[Tool[GetProfileArgs] | Tool[UpdateProfileArgs], ...] = (GET_PROFILE, UPDATE_PROFILE)
