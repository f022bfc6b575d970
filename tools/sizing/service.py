"""Which size to order, and learning from how sizes turned out.

A recommendation reads three things: the product's size chart (a brand's own, or
the house default for its department and garment group), the person's body
(measured, or estimated from height and weight with ANSUR II priors and said to
be an estimate), and fit feedback (the person's own, and everyone's on this
product).

The chart picks the size: the one whose key girth is nearest the body's. The fit
model (trained on RentTheRunway fit reports) then says how likely that size is
to fit this person and whether the product runs small or large for people like
them; a clear lean moves the advice one size, and its P(fit) is the confidence.
Why the model does not pick among sizes by itself: RentTheRunway's reports
describe how an item ran in the size the customer chose, and customers size up
for items known to run small, so within a person a larger size goes with *more*
"too small" reports. No observational model of that data can learn what changing
the size does; the chart knows it. The feedback recorded here stores the
garment's offset with each report, which is the data that can learn it.

Refusals are explicit, never a guess dressed as advice: a product sold in one
size, a product with no chart, a body with nothing to compare against the chart's
key girth each come back as a ``SizingError`` whose ``code`` says which, and
``missing`` what would fix it. Where no model is trained, the chart alone answers,
and the advice says so.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, cast

from pydantic import BaseModel, Field
from sqlalchemy import select

from storage.sql import Database
from storage.sql.models import FitFeedback as FitFeedbackRow
from storage.sql.models import new_id
from tools.catalog.schemas import ProductDetail
from tools.catalog.service import match_size
from tools.profile.schemas import BMI_RANGE, RANGE_KG, RANGES_CM, Department, FitPreference, ProfileRead
from tools.profile.units import foot_length_cm
from tools.sizing.chartbook import ChartBook
from tools.sizing.charts import Dimension, SizeChart, department_of, garment_group
from tools.sizing.model import FitModel
from tools.sizing.priors import estimate_body
from tools.sizing.schemas import RTR_BODY_TYPE, FeedbackStats, FitLabel, FitQuery, GarmentGroup

logger = logging.getLogger(__name__)

#: Groups the fit model was trained on (RentTheRunway rents dresses, tops, jackets and bottoms);
#: shoes and accessories are advised from the chart alone.
MODEL_GROUPS: frozenset[GarmentGroup] = frozenset({"dress", "top", "outerwear", "bottom", "one_piece"})
#: When the model expects this product to run small for this person by this much more than large
#: (P(small) - P(large) at the chart's size), the advice moves one size up; and the mirror image.
LEAN_SHIFT = 0.15
#: Feedback rows read per person or product: enough for stable rates, bounded for latency.
FEEDBACK_WINDOW = 200

ErrorCode = Literal[
    "no_product", "one_size", "no_chart", "missing_measurements", "implausible", "unknown_size"
]


class SizingError(Exception):
    """A question the sizing service cannot answer as asked; the message says what is missing."""

    def __init__(self, code: ErrorCode, message: str, *, missing: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.missing = list(missing)


class BodyValue(BaseModel):
    dimension: Dimension
    value_cm: float
    #: True when the value comes from height and weight, not from a measurement.
    estimated: bool = False
    #: The estimate's standard deviation (population residual), None for a measurement.
    sd_cm: float | None = None


class SizeOption(BaseModel):
    size: str
    #: P(small), P(fit), P(large) from the fit model; None where the chart alone answered.
    p_small: float | None = None
    p_fit: float | None = None
    p_large: float | None = None
    #: The garment size's nominal key girth minus the body's, cm (> 0: roomier).
    offset_cm: float | None = None
    #: Body ranges (cm) the chart gives for this size.
    chart: dict[str, tuple[float, float]] = Field(default_factory=dict)
    in_stock: bool = False
    quantity: int = 0


class FeedbackSummary(BaseModel):
    n: int = 0
    small: int = 0
    large: int = 0

    @classmethod
    def of(cls, stats: FeedbackStats) -> FeedbackSummary:
        return cls(n=stats.n, small=stats.small, large=stats.large)


class SizeAdvice(BaseModel):
    product_id: str
    product_name: str
    generated: bool
    group: GarmentGroup
    department: Department
    size_system: str
    chart_brand: str | None
    chart_source: str
    key_dimension: Dimension
    #: "model": the fit model's probabilities; "chart": the chart's ranges alone.
    method: Literal["model", "chart"]
    model_version: str | None
    recommended: SizeOption
    runner_up: SizeOption | None
    #: "larger" / "smaller": where the runner-up sits relative to the advice.
    runner_up_direction: Literal["larger", "smaller"] | None
    sizes: list[SizeOption]
    #: P(fit) of the advised size (model only).
    confidence: float | None
    confidence_label: Literal["high", "medium", "low"] | None
    body: list[BodyValue]
    person_feedback: FeedbackSummary
    product_feedback: FeedbackSummary
    #: The person's preference decided between two neighbouring sizes.
    preference_applied: FitPreference | None = None
    #: The model expects the product to run small / large for this person, so the advice moved a size.
    lean: Literal["runs_small", "runs_large"] | None = None


class FeedbackRecorded(BaseModel):
    id: str
    product_id: str
    size: str
    fit: FitLabel
    offset_cm: float | None
    person_feedback: FeedbackSummary


@dataclass(frozen=True)
class Body:
    """A person's measurements in cm/kg as the sizing service reads them."""

    values: dict[str, float]
    department: Department | None = None
    body_shape: str | None = None
    fit_preference: FitPreference | None = None

    @classmethod
    def from_profile(cls, profile: ProfileRead, override: dict[str, float] | None = None) -> Body:
        """Profile values, with measurements stated for this question taking precedence."""
        values = {
            name: value
            for name, value in (
                ("height", profile.height_cm),
                ("weight", profile.weight_kg),
                ("chest", profile.chest_cm),
                ("waist", profile.waist_cm),
                ("hips", profile.hips_cm),
                ("inseam", profile.inseam_cm),
                ("shoe_size_eu", profile.shoe_size_eu),
            )
            if value is not None
        }
        values.update(override or {})
        return cls(
            values=values,
            department=profile.department,
            body_shape=profile.body_shape.value if profile.body_shape else None,
            fit_preference=profile.fit_preference,
        )


def check_plausible(values: dict[str, float]) -> None:
    """Refuse a body no person has (30 cm tall, 900 kg) instead of advising a size for it."""
    problems: list[str] = []
    for name, (low, high) in RANGES_CM.items():
        value = values.get(name)
        if value is not None and not low <= value <= high:
            problems.append(f"{name} {value:g} cm is outside {low:g}-{high:g} cm")
    weight = values.get("weight")
    if weight is not None and not RANGE_KG[0] <= weight <= RANGE_KG[1]:
        problems.append(f"weight {weight:g} kg is outside {RANGE_KG[0]:g}-{RANGE_KG[1]:g} kg")
    height = values.get("height")
    if weight is not None and height is not None and not problems:
        bmi = weight / (height / 100) ** 2
        if not BMI_RANGE[0] <= bmi <= BMI_RANGE[1]:
            problems.append(f"height {height:g} cm with weight {weight:g} kg gives a BMI of {bmi:.0f}")
    if problems:
        raise SizingError(
            "implausible",
            "these measurements cannot be right: " + "; ".join(problems) + ". Please check them.",
            missing=[p.split(" ", 1)[0] for p in problems],
        )


def _sex(department: Department | None) -> Literal["female", "male"] | None:
    if department in (Department.women, Department.girls):
        return "female"
    if department in (Department.men, Department.boys):
        return "male"
    return None


def body_values(body: Body, chart: SizeChart, department: Department) -> list[BodyValue]:
    """The body dimensions the chart can be read with: measured first, else estimated."""
    values: dict[str, BodyValue] = {}
    for name, value in body.values.items():
        if name == "shoe_size_eu":
            values["foot_length"] = BodyValue(
                dimension="foot_length", value_cm=round(foot_length_cm(value), 1)
            )
        elif name in ("chest", "waist", "hips", "height", "inseam"):
            values[name] = BodyValue.model_validate({"dimension": name, "value_cm": value})
    height, weight = body.values.get("height"), body.values.get("weight")
    if height is not None and weight is not None and chart.group != "shoes":
        sex = _sex(body.department or department)
        for dimension, estimate in estimate_body(sex, height, weight).items():
            if dimension not in values and dimension != "foot_length":
                values[dimension] = BodyValue(
                    dimension=dimension,
                    value_cm=round(estimate.mean_cm, 1),
                    estimated=True,
                    sd_cm=round(estimate.sd_cm, 1),
                )
    return list(values.values())


def _missing_for(chart: SizeChart) -> list[str]:
    """What would make the chart readable: its key measurement, or height and weight to estimate it."""
    if chart.key == "foot_length":
        return ["shoe_size"]
    if chart.key == "height":
        return ["height"]
    return [chart.key, "height", "weight"]


def _options(chart: SizeChart, detail: ProductDetail, body_cm: float) -> list[SizeOption]:
    """The sizes the product sells that the chart lists, small to large, with their offsets."""
    stock = {sku.size: sku.stock for sku in detail.skus}
    options: list[SizeOption] = []
    for row in chart.sizes:
        sold = next((s for s in stock if chart.row(s) is row), None)
        if sold is None:
            continue
        midpoint = chart.midpoint(row.label, chart.key)
        assert midpoint is not None  # every row of a validated chart has the key dimension
        options.append(
            SizeOption(
                size=sold,
                offset_cm=round(midpoint - body_cm, 2),
                chart=dict(row.body),
                in_stock=stock[sold] > 0,
                quantity=stock[sold],
            )
        )
    if not options:
        raise SizingError(
            "no_chart",
            f"the size chart for {detail.product.name} does not list its sizes ({', '.join(stock)})",
            missing=["size_chart"],
        )
    return options


@dataclass(frozen=True)
class _Choice:
    chosen: int
    runner: int | None
    lean: Literal["runs_small", "runs_large"] | None = None
    preference: FitPreference | None = None


def _choose(options: Sequence[SizeOption], preference: FitPreference | None) -> _Choice:
    """The chart's size (nearest midpoint), moved one size by a clear model lean or, between two
    sizes, by the person's preferred fit; the runner-up is the other of the two sizes in play."""
    nearest = min(range(len(options)), key=lambda i: abs(options[i].offset_cm or 0.0))
    centre = options[nearest]
    offset = centre.offset_cm or 0.0
    larger = nearest + 1 if nearest + 1 < len(options) else None
    smaller = nearest - 1 if nearest > 0 else None
    moved: _Choice | None = None
    if centre.p_small is not None and centre.p_large is not None:
        if centre.p_small - centre.p_large >= LEAN_SHIFT and larger is not None:
            moved = _Choice(larger, nearest, lean="runs_small")
        elif centre.p_large - centre.p_small >= LEAN_SHIFT and smaller is not None:
            moved = _Choice(smaller, nearest, lean="runs_large")
    if moved is None and preference in (FitPreference.loose, FitPreference.slim):
        # "Between two sizes": the body in the outer quarter of its size, towards the neighbour.
        quarter = _step(options, nearest) / 4
        if preference == FitPreference.loose and larger is not None and -offset >= quarter:
            moved = _Choice(larger, nearest, preference=FitPreference.loose)
        elif preference == FitPreference.slim and smaller is not None and offset >= quarter:
            moved = _Choice(smaller, nearest, preference=FitPreference.slim)
    if moved is not None:
        return moved
    # The neighbour on the side the body leans towards: a garment smaller than the body at this
    # size's midpoint makes the larger size the alternative.
    toward, away = (larger, smaller) if offset <= 0 else (smaller, larger)
    return _Choice(nearest, toward if toward is not None else away)


def _step(options: Sequence[SizeOption], index: int) -> float:
    """The key girth between this size and its neighbour, cm (how far one size moves the garment)."""
    here = options[index].offset_cm or 0.0
    if index + 1 < len(options):
        return abs((options[index + 1].offset_cm or 0.0) - here)
    if index > 0:
        return abs(here - (options[index - 1].offset_cm or 0.0))
    return 0.0


class SizingService:
    def __init__(self, db: Database, charts: ChartBook, model: FitModel | None) -> None:
        self._db = db
        self.charts = charts
        self.model = model

    # --- feedback ---------------------------------------------------------------------------------

    def _feedback(
        self, *, user_id: str | None = None, product_id: str | None = None
    ) -> list[tuple[str, FitLabel, float]]:
        """(size, fit, offset) of the newest feedback by a person or on a product."""
        query = select(FitFeedbackRow.size, FitFeedbackRow.fit, FitFeedbackRow.offset_cm)
        if user_id is not None:
            query = query.where(FitFeedbackRow.user_id == user_id)
        if product_id is not None:
            query = query.where(FitFeedbackRow.product_id == product_id)
        query = query.order_by(FitFeedbackRow.created_at.desc()).limit(FEEDBACK_WINDOW)
        with self._db.session() as session:
            rows = session.execute(query).all()
        # An offset unknown at the time (no chart or no measurements) counts as neutral.
        return [
            (size, cast(FitLabel, fit), offset if offset is not None else 0.0) for size, fit, offset in rows
        ]

    @staticmethod
    def _stats(rows: Sequence[tuple[str, FitLabel, float]], size: str | None = None) -> FeedbackStats:
        return FeedbackStats.of((fit, offset) for s, fit, offset in rows if size is None or s == size)

    def record_feedback(
        self,
        user_id: str,
        detail: ProductDetail,
        size: str,
        fit: FitLabel,
        body: Body,
        note: str | None = None,
    ) -> FeedbackRecorded:
        """Store how a size turned out; the person's next advice reads it as their fit factors."""
        label = self._sold_size(detail, size)
        offset: float | None = None
        try:
            chart, department = self._chart(detail)
            known = {b.dimension: b for b in body_values(body, chart, department)}
            midpoint = chart.midpoint(label, chart.key)
            if chart.key in known and midpoint is not None:
                offset = round(midpoint - known[chart.key].value_cm, 2)
        except SizingError:
            pass  # feedback on a product without a chart is still worth keeping (rates)
        group = garment_group(
            detail.product.master_category, detail.product.sub_category, detail.product.article_type
        )
        row = FitFeedbackRow(
            id=new_id(),
            user_id=user_id,
            product_id=detail.product.id,
            size=label,
            fit=fit,
            offset_cm=offset,
            garment_group=group,
            note=note,
        )
        with self._db.session() as session, session.begin():
            session.add(row)
        return FeedbackRecorded(
            id=row.id,
            product_id=detail.product.id,
            size=label,
            fit=fit,
            offset_cm=offset,
            person_feedback=FeedbackSummary.of(self._stats(self._feedback(user_id=user_id))),
        )

    def list_feedback(self, user_id: str, limit: int = 50) -> list[dict[str, object]]:
        query = (
            select(FitFeedbackRow)
            .where(FitFeedbackRow.user_id == user_id)
            .order_by(FitFeedbackRow.created_at.desc())
            .limit(limit)
        )
        with self._db.session() as session:
            return [
                {
                    "id": r.id,
                    "product_id": r.product_id,
                    "size": r.size,
                    "fit": r.fit,
                    "offset_cm": r.offset_cm,
                    "note": r.note,
                    "created_at": r.created_at,
                }
                for r in session.scalars(query)
            ]

    # --- advice ------------------------------------------------------------------------------------

    @staticmethod
    def _sold_size(detail: ProductDetail, size: str) -> str:
        """The size as the catalogue spells it, matched as stock checks match it ("m", "EU40")."""
        sku = match_size(detail.skus, size)
        if sku is not None:
            return sku.size
        sizes = ", ".join(s.size for s in detail.skus) or "none"
        raise SizingError(
            "unknown_size",
            f"{detail.product.name} (id {detail.product.id}) has no size {size!r}; its sizes are: {sizes}",
            missing=["size"],
        )

    def _chart(self, detail: ProductDetail) -> tuple[SizeChart, Department]:
        product = detail.product
        systems = {sku.size_system for sku in detail.skus}
        if not systems:
            raise SizingError("no_chart", f"{product.name} (id {product.id}) has no sizes on sale")
        if systems == {"one"}:
            raise SizingError("one_size", f"{product.name} (id {product.id}) comes in one size only")
        system = sorted(systems)[0]
        group = garment_group(product.master_category, product.sub_category, product.article_type)
        department = department_of(product.gender)
        chart = (
            self.charts.lookup(product.brand, department, group, system)  # type: ignore[arg-type]
            if department is not None
            else None
        )
        if chart is None or department is None:
            raise SizingError(
                "no_chart",
                f"there is no size chart for {product.name} (id {product.id}: "
                f"{product.gender or 'no department'} {product.article_type or group}, {system} sizes), "
                "so I cannot say which size fits; an administrator can add one",
                missing=["size_chart"],
            )
        return chart, department

    def recommend(self, user_id: str, detail: ProductDetail, body: Body) -> SizeAdvice:
        check_plausible(body.values)
        chart, department = self._chart(detail)
        known = {b.dimension: b for b in body_values(body, chart, department)}
        key_body = known.get(chart.key)
        if key_body is None:
            raise SizingError(
                "missing_measurements",
                f"to choose a size of {detail.product.name} I need your {chart.key.replace('_', ' ')}"
                + ("" if chart.key in ("foot_length", "height") else ", or your height and weight"),
                missing=_missing_for(chart),
            )
        options = _options(chart, detail, key_body.value_cm)
        group = chart.group
        person = self._stats(self._feedback(user_id=user_id))
        on_product = self._feedback(product_id=detail.product.id)
        product_stats = self._stats(on_product)
        # The model learned from adults' girth offsets; children's charts are read by height.
        use_model = self.model is not None and group in MODEL_GROUPS and chart.key in ("chest", "waist")
        if use_model:
            assert self.model is not None
            queries = [
                FitQuery(
                    offset_cm=option.offset_cm or 0.0,
                    group=group,
                    height_cm=body.values.get("height"),
                    weight_kg=body.values.get("weight"),
                    bust_cm=known["chest"].value_cm if "chest" in known else None,
                    body_type=RTR_BODY_TYPE.get(body.body_shape or ""),
                    person=person,
                    product=product_stats,
                    product_size=self._stats(on_product, option.size),
                )
                for option in options
            ]
            probabilities = self.model.predict_proba(queries)
            for option, p in zip(options, probabilities, strict=True):
                option.p_small, option.p_fit, option.p_large = (round(float(v), 4) for v in p)
        choice = _choose(options, body.fit_preference)
        best = options[choice.chosen]
        runner = options[choice.runner] if choice.runner is not None else None
        direction: Literal["larger", "smaller"] | None = None
        if choice.runner is not None:
            direction = "larger" if choice.runner > choice.chosen else "smaller"
        confidence = best.p_fit if use_model else None
        label: Literal["high", "medium", "low"] | None = None
        if confidence is not None:
            label = "high" if confidence >= 0.75 else "medium" if confidence >= 0.6 else "low"
        return SizeAdvice(
            product_id=detail.product.id,
            product_name=detail.product.name,
            generated=detail.product.generated,
            group=group,
            department=department,
            size_system=chart.system,
            chart_brand=chart.brand,
            chart_source=chart.source,
            key_dimension=chart.key,
            method="model" if use_model else "chart",
            model_version=self.model.version if use_model and self.model is not None else None,
            recommended=best,
            runner_up=runner,
            runner_up_direction=direction,
            sizes=options,
            confidence=confidence,
            confidence_label=label,
            body=[known[d] for d in known if any(d in o.chart for o in options)],
            person_feedback=FeedbackSummary.of(person),
            product_feedback=FeedbackSummary.of(product_stats),
            preference_applied=choice.preference,
            lean=choice.lean,
        )
