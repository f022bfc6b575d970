"""Price-drop alerts: a person watches a product or a search and is told when the price falls.

An alert that fires leaves a notification; the chat tells the person at their next
message (and the push channel may deliver it sooner); acknowledging marks it delivered.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.deps import CatalogDep, CurrentUser
from rag.money import Currency
from tools.catalog.schemas import AlertNotification, PriceAlert
from tools.catalog.service import CatalogError, ProductNotFound

router = APIRouter(prefix="/users/me/price-alerts", tags=["price alerts"])


class PriceAlertCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: str | None = Field(default=None, min_length=1, max_length=64)
    query: str | None = Field(default=None, min_length=1, max_length=500)
    threshold: float = Field(gt=0, le=1_000_000)
    currency: Currency = "CNY"
    size: str | None = Field(default=None, min_length=1, max_length=32)

    @model_validator(mode="after")
    def _one_target(self) -> PriceAlertCreate:
        if (self.product_id is None) == (self.query is None):
            raise ValueError("give exactly one of product_id or query")
        return self


class Acknowledge(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[str] = Field(min_length=1, max_length=500)


@router.post("", status_code=201)
def create_alert(body: PriceAlertCreate, user: CurrentUser, catalog: CatalogDep) -> PriceAlert:
    try:
        return catalog.create_alert(
            user.id,
            product_id=body.product_id,
            query=body.query,
            threshold=body.threshold,
            currency=body.currency,
            size=body.size,
        )
    except ProductNotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    except CatalogError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.get("")
def list_alerts(user: CurrentUser, catalog: CatalogDep) -> list[PriceAlert]:
    return catalog.catalog.list_alerts(user.id)


@router.delete("/{alert_id}", status_code=204)
def cancel_alert(
    alert_id: Annotated[str, Path(min_length=1, max_length=64)], user: CurrentUser, catalog: CatalogDep
) -> Response:
    try:
        catalog.catalog.cancel_alert(user.id, alert_id)
    except CatalogError as exc:
        raise HTTPException(404, str(exc)) from exc
    return Response(status_code=204)


@router.get("/notifications")
def list_notifications(user: CurrentUser, catalog: CatalogDep) -> list[AlertNotification]:
    return catalog.catalog.pending_notifications(user.id)


@router.post("/notifications/ack", status_code=204)
def acknowledge(body: Acknowledge, user: CurrentUser, catalog: CatalogDep) -> Response:
    catalog.catalog.mark_delivered(user.id, body.ids)
    return Response(status_code=204)
