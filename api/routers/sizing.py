"""Sizing: which size to order, fit feedback, size charts and size conversions.

Advice and feedback act for the signed-in person; charts are readable by anyone
signed in and editable by administrators. A question the service will not guess
at (no chart, no measurements, a body no person has) is a 422 whose ``code`` and
``missing`` say what would make it answerable.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import AdminUser, CatalogDep, CurrentUser, ProfilesDep, SizingDep
from tools.catalog.schemas import ProductDetail
from tools.catalog.store import CatalogStore
from tools.profile.schemas import Department, MeasurementsIn
from tools.sizing.charts import SizeChart
from tools.sizing.conversions import SizeConversionError, convert_size
from tools.sizing.schemas import FitLabel, GarmentGroup
from tools.sizing.service import Body, FeedbackRecorded, SizeAdvice

router = APIRouter(prefix="/sizing", tags=["sizing"])

ProductIdField = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="The catalog's product id")
]


class RecommendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: ProductIdField
    #: Measurements for this question only (not saved); the profile's are used for the rest.
    measurements: MeasurementsIn | None = None


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: ProductIdField
    size: Annotated[str, Field(min_length=1, max_length=32)]
    fit: FitLabel
    note: Annotated[str | None, Field(max_length=500)] = None


class Conversion(BaseModel):
    label: str
    to: str
    result: str


class ModelInfo(BaseModel):
    version: str | None
    manifest: dict[str, Any] | None


def _product(catalog: CatalogStore, product_id: str) -> ProductDetail:
    detail = catalog.product(product_id)
    if detail is None:
        raise HTTPException(404, f"no product with id {product_id!r}")
    return detail


def _body(profiles: ProfilesDep, user_id: str, stated: MeasurementsIn | None) -> Body:
    normalised = stated.normalised() if stated is not None else {}
    override = {k.removesuffix("_cm").removesuffix("_kg"): v for k, v in normalised.items()}
    return Body.from_profile(profiles.get(user_id), override)


@router.post("/recommend")
def recommend(
    body: RecommendRequest, user: CurrentUser, sizing: SizingDep, catalog: CatalogDep, profiles: ProfilesDep
) -> SizeAdvice:
    detail = _product(catalog, body.product_id)
    return sizing.recommend(user.id, detail, _body(profiles, user.id, body.measurements))


@router.post("/feedback", status_code=201)
def record_feedback(
    body: FeedbackRequest, user: CurrentUser, sizing: SizingDep, catalog: CatalogDep, profiles: ProfilesDep
) -> FeedbackRecorded:
    detail = _product(catalog, body.product_id)
    return sizing.record_feedback(
        user.id, detail, body.size, body.fit, _body(profiles, user.id, None), note=body.note
    )


@router.get("/feedback")
def list_feedback(
    user: CurrentUser, sizing: SizingDep, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[dict[str, Any]]:
    return sizing.list_feedback(user.id, limit)


class ChartKey(BaseModel):
    """Which chart: a brand's (None: the house's) for a department, garment group and size system."""

    model_config = ConfigDict(extra="forbid")

    department: Department
    group: GarmentGroup
    system: Literal["letter", "EU", "waist", "age"]
    brand: Annotated[str | None, Field(max_length=120)] = None


ChartQuery = Annotated[ChartKey, Query()]


@router.get("/charts")
def get_chart(_: CurrentUser, sizing: SizingDep, key: ChartQuery) -> SizeChart:
    """The chart advice would use: the brand's own, else the house default."""
    chart = sizing.charts.lookup(key.brand, key.department, key.group, key.system)
    if chart is None:
        who = key.brand or "house default"
        raise HTTPException(404, f"no size chart for {who} {key.department} {key.group} {key.system}")
    return chart


@router.get("/charts/stored")
def list_charts(
    _: CurrentUser, sizing: SizingDep, brand: Annotated[str | None, Query(max_length=120)] = None
) -> list[SizeChart]:
    """Charts edited by administrators (the built-in defaults are not listed)."""
    return sizing.charts.list(brand)


@router.put("/charts")
def save_chart(chart: SizeChart, admin: AdminUser, sizing: SizingDep) -> SizeChart:
    return sizing.charts.save(chart, admin.id)


@router.delete("/charts", status_code=204)
def delete_chart(_: AdminUser, sizing: SizingDep, key: ChartQuery) -> Response:
    if not sizing.charts.delete(key.brand, key.department, key.group, key.system):
        raise HTTPException(404, "no stored chart with that brand, department, group and system")
    return Response(status_code=204)


@router.get("/convert")
def convert(
    _: CurrentUser,
    label: Annotated[str, Query(min_length=1, max_length=32)],
    to: Annotated[str, Query(min_length=1, max_length=16)],
    department: Department,
    group: GarmentGroup,
) -> Conversion:
    try:
        result = convert_size(label, to=to, department=department, group=group)
    except SizeConversionError as exc:
        raise HTTPException(422, str(exc)) from exc
    return Conversion(label=label, to=to, result=result)


@router.get("/model")
def model_info(_: CurrentUser, sizing: SizingDep) -> ModelInfo:
    """Which fit model answers (None: charts alone), with its training record and validation figures."""
    model = sizing.model
    if model is None:
        return ModelInfo(version=None, manifest=None)
    return ModelInfo(version=model.version, manifest=model.manifest)
