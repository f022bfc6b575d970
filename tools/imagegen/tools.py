"""Agent-facing image tool: an outfit picture made from the real photos of its pieces.

No image model is installed in the embedded deployment, so the picture is an outfit board (the
pieces' real photos laid out by slot); the result says so (``generative: false``) and the reply
must not describe it as the person wearing the outfit.
"""

from __future__ import annotations

from pydantic import Field

from tools.base import Card, Tool, ToolArgs, ToolContext, ToolError, ToolResult
from tools.imagegen.board import MAX_ITEMS
from tools.imagegen.service import ImageGenError, ImageGenService


def _imagegen(context: ToolContext) -> ImageGenService:
    service: ImageGenService | None = getattr(context.services, "imagegen", None)
    if service is None:
        raise ToolError("outfit images are not available in this deployment")
    return service


class OutfitImageArgs(ToolArgs):
    product_ids: list[str] = Field(
        default_factory=list, max_length=MAX_ITEMS, description="Catalogue products in the outfit."
    )
    wardrobe_item_ids: list[str] = Field(
        default_factory=list, max_length=MAX_ITEMS, description="The person's own pieces in the outfit."
    )
    title: str | None = Field(default=None, max_length=60, description="A short title, e.g. the occasion.")
    style: str | None = Field(
        default=None, max_length=40, description="A style word said, e.g. 'minimalist'."
    )
    occasion: str | None = Field(
        default=None,
        max_length=40,
        description="The occasion, in English or Chinese, for a generated picture.",
    )


def generate_outfit_image(context: ToolContext, args: OutfitImageArgs) -> ToolResult:
    service = _imagegen(context)
    note = (
        "商品实拍图拼版，并非生成的上身图"
        if context.zh
        else "Real product photos laid out, not a generated picture"
    )
    try:
        image = service.outfit_board(
            context.user_id,
            product_ids=args.product_ids,
            wardrobe_item_ids=args.wardrobe_item_ids,
            title=args.title,
            note=note,
        )
    except ImageGenError as exc:
        return ToolResult(ok=False, error=exc.message, data={"code": exc.code})
    joined = ("、" if context.zh else ", ").join(image.pieces)
    fact = (
        f"穿搭图（商品实拍图拼版）：{joined}" if context.zh else f"outfit board of the real photos: {joined}"
    )
    cards = [
        Card(kind="image", id=image.id, title=args.title, image_url=image.url, data={"generative": False})
    ]
    data: dict[str, object] = {"image_id": image.id, "generative": False, "pieces": image.pieces}
    if service.jobs is not None:
        # A text-to-image server is set up: a picture of someone wearing the outfit is drawn too.
        try:
            job, _ = service.generate(
                context.user_id,
                product_ids=args.product_ids,
                wardrobe_item_ids=args.wardrobe_item_ids,
                occasion=args.occasion,
                style=args.style,
            )
        except ImageGenError as exc:
            data["generation_error"] = exc.message
        else:
            data["generation_job_id"] = job.id
            cards.append(
                Card(
                    kind="job",
                    id=job.id,
                    title=args.title,
                    data={"status": job.status, "events_url": f"/api/v1/images/jobs/{job.id}/events"},
                )
            )
    return ToolResult(ok=True, data=data, facts=[fact], cards=cards)


GENERATE_OUTFIT_IMAGE = Tool(
    name="generate_outfit_image",
    description=(
        "Make a picture of an outfit from the real photos of its pieces (catalogue product_ids and/or the "
        "person's wardrobe_item_ids, 1 to 8 in all), laid out by slot with names and prices. Where an "
        "image-generation model is set up, a generated picture of someone wearing them is queued too "
        "(a job); otherwise only the layout of real photos is made."
    ),
    args=OutfitImageArgs,
    run=generate_outfit_image,
)

IMAGEGEN_TOOLS = (GENERATE_OUTFIT_IMAGE,)
