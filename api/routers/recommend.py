"""Recommendations: outfits, completing a look, similar pieces, and the interactions that personalise them.

Everything acts for the signed-in person. Interactions (views, likes, add-to-cart, try-ons,
purchases) are what make the next list personal; each is applied before the response, so
a client that posts a like and then asks for outfits sees the effect.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CurrentUser, RecommendDep
from graphs.vocabulary import Occasion
from tools.recommend.behaviour import InteractionKind
from tools.recommend.schemas import OutfitRequest, OutfitResult, SimilarResult

router = APIRouter(prefix="/recommendations", tags=["recommendations"])

ProductIdPath = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class LookRequest(OutfitRequest):
    product_id: ProductIdPath


class InteractionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: ProductIdPath
    kind: InteractionKind
    occasion: Occasion | None = None


class InteractionOut(BaseModel):
    id: str
    product_id: str
    kind: InteractionKind
    occasion: Occasion | None
    #: The person's recommendation generation after this interaction (lists cached before it are stale).
    generation: int


@router.post("/outfits")
def outfits(body: OutfitRequest, user: CurrentUser, recommend: RecommendDep) -> OutfitResult:
    return recommend.recommend_outfits(user.id, body)


@router.post("/complete-the-look")
def complete_the_look(body: LookRequest, user: CurrentUser, recommend: RecommendDep) -> OutfitResult:
    request = OutfitRequest.model_validate(body.model_dump(exclude={"product_id"}))
    return recommend.complete_the_look(user.id, body.product_id, request)


@router.get("/similar/{product_id}")
def similar(
    product_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")],
    user: CurrentUser,
    recommend: RecommendDep,
    limit: Annotated[int, Query(ge=1, le=20)] = 8,
) -> SimilarResult:
    return recommend.similar(user.id, product_id, limit)


@router.post("/interactions", status_code=status.HTTP_201_CREATED)
def record_interaction(body: InteractionIn, user: CurrentUser, recommend: RecommendDep) -> InteractionOut:
    recorded = recommend.record(user.id, body.product_id, body.kind, body.occasion)
    return InteractionOut(
        id=recorded.id,
        product_id=recorded.product_id,
        kind=recorded.kind,
        occasion=recorded.occasion,
        generation=recorded.generation,
    )
