"""Typed shapes of users and profiles, shared by the API and the agent's tools.

Validation lives here, once: inputs forbid unknown fields, measurements carry
their unit and are normalised to cm/kg, and every value is range-checked after
conversion so "165 in" (4 m tall) is refused whatever unit it came in.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    PrivateAttr,
    StringConstraints,
    model_validator,
)

from tools.profile.units import LengthUnit, ShoeSizeSystem, WeightUnit, shoe_to_eu, to_cm, to_kg


class Role(StrEnum):
    user = "user"
    support = "support"
    admin = "admin"
    evaluator = "evaluator"


class BodyShape(StrEnum):
    hourglass = "hourglass"
    pear = "pear"
    apple = "apple"
    rectangle = "rectangle"
    inverted_triangle = "inverted_triangle"


class FitPreference(StrEnum):
    slim = "slim"
    regular = "regular"
    loose = "loose"


class Department(StrEnum):
    """Which part of the catalog a person shops in (the catalog's own gender column)."""

    women = "women"
    men = "men"
    unisex = "unisex"
    girls = "girls"
    boys = "boys"


class Style(StrEnum):
    casual = "casual"
    smart_casual = "smart_casual"
    business = "business"
    formal = "formal"
    sporty = "sporty"
    streetwear = "streetwear"
    minimalist = "minimalist"
    classic = "classic"
    bohemian = "bohemian"
    romantic = "romantic"
    vintage = "vintage"
    edgy = "edgy"
    preppy = "preppy"
    ethnic = "ethnic"
    party = "party"


class Locale(StrEnum):
    zh = "zh"
    en = "en"


Currency = Literal["CNY", "USD", "EUR", "GBP", "JPY", "INR"]


#: PostgreSQL text cannot hold NUL, and no person types one: refuse it (and other control
#: characters but tab and newline) at the edge rather than fail in the database.
PLAIN_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


class StrictModel(BaseModel):
    """Inputs refuse unknown fields so a typo is an error, not silently ignored data."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# Plausible ranges after normalisation. Wide enough for children and tall or large
# adults (ANSUR II's extremes fit well inside), narrow enough to catch unit mistakes.
RANGES_CM: dict[str, tuple[float, float]] = {
    "height": (50.0, 250.0),
    "chest": (40.0, 200.0),
    "waist": (35.0, 220.0),
    "hips": (45.0, 220.0),
    "inseam": (20.0, 120.0),
    "shoulder": (20.0, 75.0),
}
RANGE_KG = (10.0, 350.0)
RANGE_SHOE_EU = (16.0, 52.0)
BMI_RANGE = (10.0, 80.0)


class Length(StrictModel):
    value: Annotated[float, Field(gt=0, le=100_000, allow_inf_nan=False)]
    unit: LengthUnit = LengthUnit.cm


class Weight(StrictModel):
    value: Annotated[float, Field(gt=0, le=100_000, allow_inf_nan=False)]
    unit: WeightUnit = WeightUnit.kg


class ShoeSize(StrictModel):
    value: Annotated[float, Field(gt=0, le=1_000, allow_inf_nan=False)]
    system: ShoeSizeSystem = ShoeSizeSystem.eu


def _bare_number(value: Any) -> Any:
    # A bare number means the default unit (cm, kg, EU), as the API documents.
    return {"value": value} if isinstance(value, int | float) and not isinstance(value, bool) else value


LengthIn = Annotated[
    Length,
    BeforeValidator(_bare_number),
    Field(description="A length: a number in cm, or {value, unit: cm|in}"),
]
WeightIn = Annotated[
    Weight,
    BeforeValidator(_bare_number),
    Field(description="A weight: a number in kg, or {value, unit: kg|lb}"),
]
ShoeSizeIn = Annotated[
    ShoeSize,
    BeforeValidator(_bare_number),
    Field(description="A shoe size: a number in EU sizes, or {value, system: EU|UK|US_men|US_women|CN}"),
]


class MeasurementsIn(StrictModel):
    """Body measurements as a person gives them; each in its own unit."""

    height: LengthIn | None = None
    weight: WeightIn | None = None
    chest: Annotated[LengthIn | None, Field(description="Bust (women) or chest (men) circumference")] = None
    waist: LengthIn | None = None
    hips: LengthIn | None = None
    inseam: LengthIn | None = None
    shoulder: Annotated[LengthIn | None, Field(description="Shoulder width, seam to seam")] = None
    shoe_size: ShoeSizeIn | None = None

    _normalised: dict[str, float] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _convert_and_check(self) -> Self:
        """Convert once, at validation, so an out-of-range value is a validation error (422)."""
        out: dict[str, float] = {}
        errors: list[str] = []
        for name, (low, high) in RANGES_CM.items():
            length: Length | None = getattr(self, name)
            if length is None:
                continue
            cm = to_cm(length.value, length.unit)
            if not low <= cm <= high:
                errors.append(
                    f"{name} {length.value:g} {length.unit} is {cm:.1f} cm, outside {low:g}-{high:g} cm"
                )
            out[f"{name}_cm"] = round(cm, 2)
        if self.weight is not None:
            kg = to_kg(self.weight.value, self.weight.unit)
            if not RANGE_KG[0] <= kg <= RANGE_KG[1]:
                errors.append(
                    f"weight {self.weight.value:g} {self.weight.unit} is {kg:.1f} kg, "
                    f"outside {RANGE_KG[0]:g}-{RANGE_KG[1]:g} kg"
                )
            out["weight_kg"] = round(kg, 2)
        if self.shoe_size is not None:
            eu = shoe_to_eu(self.shoe_size.value, self.shoe_size.system)
            if not RANGE_SHOE_EU[0] <= eu <= RANGE_SHOE_EU[1]:
                errors.append(
                    f"shoe size {self.shoe_size.value:g} {self.shoe_size.system} is EU {eu:g}, "
                    f"outside EU {RANGE_SHOE_EU[0]:g}-{RANGE_SHOE_EU[1]:g}"
                )
            out["shoe_size_eu"] = eu
        if errors:
            raise ValueError("; ".join(errors))
        self._normalised = out
        return self

    def normalised(self) -> dict[str, float]:
        """Column name -> value in cm/kg/EU; only the fields that were given."""
        return dict(self._normalised)


def _dedupe_lower(values: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        seen.setdefault(value.lower(), None)
    return list(seen)


ColourName = Annotated[str, StringConstraints(min_length=1, max_length=30, pattern=r"^[^\x00-\x1f<>{}]+$")]
ColourList = Annotated[list[ColourName], Field(max_length=12), AfterValidator(_dedupe_lower)]


class Budget(StrictModel):
    min: Annotated[float | None, Field(ge=0, le=1_000_000, allow_inf_nan=False)] = None
    max: Annotated[float | None, Field(gt=0, le=1_000_000, allow_inf_nan=False)] = None
    currency: Currency = "CNY"

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"budget min {self.min:g} is above max {self.max:g}")
        return self


class Consents(StrictModel):
    """What the person agreed to; everything is off until they say yes."""

    store_photos: bool | None = None
    use_measurements: bool | None = None
    personalisation: bool | None = None
    marketing: bool | None = None


class PreferredUnits(StrictModel):
    length: LengthUnit | None = None
    weight: WeightUnit | None = None


class ProfileUpdate(StrictModel):
    """A partial update: only the fields present change; ``null`` clears a field.

    Rules across fields (BMI, colours both liked and avoided, budget order) need the
    stored profile too, so ``ProfileService`` checks them on the merged result.
    """

    measurements: MeasurementsIn | None = None
    body_shape: BodyShape | None = None
    fit_preference: FitPreference | None = None
    department: Department | None = None
    styles: Annotated[list[Style], Field(max_length=8)] | None = None
    favourite_colours: ColourList | None = None
    avoided_colours: ColourList | None = None
    budget: Budget | None = None
    home_city: Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=PLAIN_TEXT)] | None = (
        None
    )
    locale: Locale | None = None
    preferred_units: PreferredUnits | None = None
    consents: Consents | None = None


class ConsentsOut(BaseModel):
    store_photos: bool = False
    use_measurements: bool = False
    personalisation: bool = False
    marketing: bool = False


class BudgetOut(BaseModel):
    min: float | None
    max: float | None
    currency: str | None


class ProfileRead(BaseModel):
    """A profile as stored: measurements normalised to cm / kg / EU shoe size."""

    model_config = ConfigDict(from_attributes=True)

    user_id: str
    height_cm: float | None
    weight_kg: float | None
    chest_cm: float | None
    waist_cm: float | None
    hips_cm: float | None
    inseam_cm: float | None
    shoulder_cm: float | None
    shoe_size_eu: float | None
    body_shape: BodyShape | None
    fit_preference: FitPreference | None
    department: Department | None
    styles: list[Style]
    favourite_colours: list[str]
    avoided_colours: list[str]
    budget: BudgetOut
    home_city: str | None
    locale: Locale
    preferred_units: PreferredUnits
    consents: ConsentsOut
    updated_at: datetime


Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]
FullName = Annotated[str, StringConstraints(min_length=1, max_length=120, pattern=PLAIN_TEXT)]


class UserCreate(StrictModel):
    email: EmailStr
    password: Password
    full_name: FullName | None = None
    locale: Locale = Locale.en


class AdminUserCreate(UserCreate):
    role: Role = Role.user


class UserUpdateMe(StrictModel):
    full_name: FullName | None = None
    #: Changing the password needs the current one, so a stolen access token cannot lock the owner out.
    current_password: Annotated[str, StringConstraints(max_length=128)] | None = None
    new_password: Password | None = None

    @model_validator(mode="after")
    def _password_change_complete(self) -> Self:
        if (self.new_password is None) != (self.current_password is None):
            raise ValueError("changing the password needs both current_password and new_password")
        return self


class AdminUserUpdate(StrictModel):
    full_name: FullName | None = None
    role: Role | None = None
    is_active: bool | None = None


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
    full_name: str | None
    role: Role
    is_active: bool
    created_at: datetime


class UserList(BaseModel):
    items: list[UserRead]
    total: int
    offset: int
    limit: int
