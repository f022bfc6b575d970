"""The person's wardrobe: add clothes by photo (one or many), re-tag them, build outfits from
them, and log what was worn.

Photos are checked before anything is stored: a file that is too large is refused with 413
as soon as it is read past the limit, an unsupported format with 415, and a corrupt file,
a decompression bomb or a photo without a garment with 422, each saying why.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, HTTPException, Path, Query, Response, UploadFile, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CurrentUser, RecommendDep, SettingsDep, UploadsDep, WardrobeDep
from graphs.vocabulary import Occasion, Season
from tools.recommend.schemas import OutfitRequest, OutfitResult
from tools.wardrobe.schemas import (
    AddedItem,
    CalendarDay,
    ItemCreate,
    ItemUpdate,
    Tag,
    WardrobeFilter,
    WardrobeInsights,
    WardrobeItemRead,
    WearEntry,
)

router = APIRouter(prefix="/wardrobe", tags=["wardrobe"])
uploads_router = APIRouter(prefix="/uploads", tags=["uploads"])

#: The request-size ceilings of the photo routes. The per-photo limit (``IK_WARDROBE__MAX_UPLOAD_BYTES``,
#: 10 MB by default, at most 50 MB) is checked on each file; these only bound what is read at all.
ONE_PHOTO_BODY = 51 * 1024 * 1024
BULK_BODY = 256 * 1024 * 1024
ItemId = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$")]


async def read_limited(upload: UploadFile, limit: int) -> bytes:
    """The file's bytes, refusing (413) as soon as more than ``limit`` arrive."""
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"{upload.filename or 'the file'} is over {limit / 1024 / 1024:.0f} MB; "
            "send a smaller photo (phones' 'large' setting is enough)",
        )
    return data


class UploadOut(BaseModel):
    upload_id: str
    format: str
    width: int
    height: int


@uploads_router.post("", status_code=status.HTTP_201_CREATED, max_body_size=ONE_PHOTO_BODY)
async def upload_photo(
    user: CurrentUser, uploads: UploadsDep, settings: SettingsDep, file: Annotated[UploadFile, File()]
) -> UploadOut:
    """Keep a photo for the conversation ("add this to my wardrobe"); the chat message names its id."""
    data = await read_limited(file, settings.wardrobe.max_upload_bytes)
    upload_id, image = uploads.save_image(user.id, data)
    return UploadOut(upload_id=upload_id, format=image.format, width=image.width, height=image.height)


@uploads_router.get(
    "/{upload_id}", response_class=Response, responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}}
)
def read_upload(upload_id: str, user: CurrentUser, uploads: UploadsDep) -> Response:
    """A photo the caller sent, to show it again in the conversation; anyone else's is a 404."""
    data, content_type = uploads.read_with_type(user.id, upload_id)
    return Response(data, media_type=content_type, headers={"Cache-Control": "private, max-age=86400"})


@router.post("/items", status_code=status.HTTP_201_CREATED, max_body_size=ONE_PHOTO_BODY)
async def add_item(
    user: CurrentUser,
    wardrobe: WardrobeDep,
    settings: SettingsDep,
    photo: Annotated[UploadFile, File(description="JPEG, PNG or WebP")],
    caption: Annotated[str | None, Form(max_length=300)] = None,
    allow_duplicate: Annotated[bool, Form()] = False,
) -> AddedItem:
    data = await read_limited(photo, settings.wardrobe.max_upload_bytes)
    return wardrobe.add_photo(user.id, data, caption=caption, allow_duplicate=allow_duplicate)


@router.post("/items/manual", status_code=status.HTTP_201_CREATED)
def add_item_manually(body: ItemCreate, user: CurrentUser, wardrobe: WardrobeDep) -> WardrobeItemRead:
    return wardrobe.add_manual(user.id, body)


@router.post("/items/bulk", max_body_size=BULK_BODY)
async def add_items_in_bulk(
    user: CurrentUser,
    wardrobe: WardrobeDep,
    settings: SettingsDep,
    photos: Annotated[list[UploadFile], File(description="Up to IK_WARDROBE__MAX_BATCH photos")],
    allow_duplicate: Annotated[bool, Form()] = False,
) -> StreamingResponse:
    """Progress as it happens: one JSON line per photo (``done``/``total``, the item or why it was
    refused), then a summary line. A bad photo does not stop the others."""
    if len(photos) > settings.wardrobe.max_batch:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"{len(photos)} photos sent; import at most {settings.wardrobe.max_batch} at a time",
        )
    files = [(p.filename or f"photo-{i + 1}", await read_limited(p, settings.wardrobe.max_upload_bytes))
             for i, p in enumerate(photos)]  # fmt: skip

    def lines() -> Iterator[bytes]:
        added = refused = 0
        for record in wardrobe.add_many(user.id, files, allow_duplicate=allow_duplicate):
            added += record["ok"]
            refused += not record["ok"]
            yield (json.dumps(record, ensure_ascii=False) + "\n").encode()
        yield (json.dumps({"summary": True, "added": added, "refused": refused}) + "\n").encode()

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@router.get("/items")
def list_items(
    user: CurrentUser,
    wardrobe: WardrobeDep,
    kind: str | None = None,
    category: str | None = None,
    colour: str | None = None,
    season: Season | None = None,
    occasion: Occasion | None = None,
    tag: str | None = None,
    idle_months: Annotated[int | None, Query(ge=1, le=120)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[WardrobeItemRead]:
    wanted = WardrobeFilter(
        kind=kind,
        category=category,
        colour=colour,
        season=season,
        occasion=occasion,
        tag=tag,
        idle_months=idle_months,
        limit=limit,
    )
    return wardrobe.items(user.id, wanted)


@router.get("/items/{item_id}")
def read_item(item_id: ItemId, user: CurrentUser, wardrobe: WardrobeDep) -> WardrobeItemRead:
    return wardrobe.get(user.id, item_id)


@router.patch("/items/{item_id}")
def edit_item(
    item_id: ItemId, body: ItemUpdate, user: CurrentUser, wardrobe: WardrobeDep
) -> WardrobeItemRead:
    return wardrobe.update(user.id, item_id, body)


@router.delete("/items/{item_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_item(item_id: ItemId, user: CurrentUser, wardrobe: WardrobeDep) -> Response:
    wardrobe.delete(user.id, item_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/items/{item_id}/photo")
def item_photo(
    item_id: ItemId,
    user: CurrentUser,
    wardrobe: WardrobeDep,
    variant: Literal["photo", "cutout"] = "photo",
) -> Response:
    """The stored photo (EXIF removed) or the cut-out with a transparent background."""
    photo = wardrobe.photo(user.id, item_id, variant)
    return Response(
        photo.data, media_type=photo.content_type, headers={"Cache-Control": "private, max-age=3600"}
    )


@router.get("/tags")
def list_tags(user: CurrentUser, wardrobe: WardrobeDep) -> dict[str, int]:
    """The person's own tags with how many items carry each."""
    return wardrobe.tag_names(user.id)


class TagMerge(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Tags to replace; one tag is a rename.
    sources: list[Tag] = Field(min_length=1, max_length=20)
    target: Tag


@router.post("/tags/merge")
def merge_tags(body: TagMerge, user: CurrentUser, wardrobe: WardrobeDep) -> dict[str, int]:
    return {"items_changed": wardrobe.merge_tags(user.id, body.sources, body.target)}


@router.post("/outfits")
def outfits_from_wardrobe(
    body: OutfitRequest, user: CurrentUser, wardrobe: WardrobeDep, recommend: RecommendDep
) -> OutfitResult:
    """Outfits from the person's own clothes; slots their wardrobe cannot fill come from the shop."""
    return recommend.wardrobe_outfits(user.id, body, wardrobe.owned_pieces(user.id))


class WearIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_ids: list[Annotated[str, Field(pattern=r"^[0-9a-f-]{36}$")]] = Field(min_length=1, max_length=12)
    worn_on: date | None = None
    occasion: Occasion | None = None


@router.post("/wear", status_code=status.HTTP_201_CREATED)
def log_wear(body: WearIn, user: CurrentUser, wardrobe: WardrobeDep) -> list[WearEntry]:
    return wardrobe.log_wear(user.id, body.item_ids, body.worn_on, body.occasion)


@router.delete("/wear/{item_id}/{worn_on}", status_code=status.HTTP_204_NO_CONTENT)
def unlog_wear(item_id: ItemId, worn_on: date, user: CurrentUser, wardrobe: WardrobeDep) -> Response:
    if not wardrobe.unlog_wear(user.id, item_id, worn_on):
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"no wear logged for that item on {worn_on.isoformat()}"
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/calendar")
def calendar(user: CurrentUser, wardrobe: WardrobeDep, start: date, end: date) -> list[CalendarDay]:
    return wardrobe.calendar(user.id, start, end)


@router.get("/insights")
def insights(
    user: CurrentUser, wardrobe: WardrobeDep, idle_months: Annotated[int, Query(ge=1, le=120)] = 3
) -> WardrobeInsights:
    return wardrobe.insights(user.id, idle_months)
