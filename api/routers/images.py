"""Outfit pictures: a board of an outfit's real product (and wardrobe) photos, and reading it back.

No image model runs in the embedded deployment; the board is what can be shown honestly, and its
``generative: false`` says so. A person reads only their own images (anyone else's is a 404).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CurrentUser, ImageGenDep
from tools.imagegen.board import MAX_ITEMS

router = APIRouter(prefix="/images", tags=["images"])


class OutfitBoardRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=MAX_ITEMS
    )
    wardrobe_item_ids: list[Annotated[str, Field(pattern=r"^[0-9a-f-]{36}$")]] = Field(
        default_factory=list, max_length=MAX_ITEMS
    )
    title: str | None = Field(default=None, max_length=60)


class OutfitImageOut(BaseModel):
    id: str
    url: str
    generative: bool
    pieces: list[str]


@router.post("/outfit-board", status_code=status.HTTP_201_CREATED)
def make_outfit_board(body: OutfitBoardRequest, user: CurrentUser, images: ImageGenDep) -> OutfitImageOut:
    image = images.outfit_board(
        user.id, product_ids=body.product_ids, wardrobe_item_ids=body.wardrobe_item_ids, title=body.title
    )
    return OutfitImageOut(id=image.id, url=image.url, generative=image.generative, pieces=image.pieces)


@router.get("/{image_id}", response_class=Response, responses={200: {"content": {"image/png": {}}}})
def read_image(
    image_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")], user: CurrentUser, images: ImageGenDep
) -> Response:
    return Response(
        images.read(user.id, image_id), media_type="image/png", headers={"Cache-Control": "private"}
    )
