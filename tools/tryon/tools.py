"""Agent-facing try-on tools: start a try-on from a photo the person sent, and check on it.

The picture is made asynchronously, so ``virtual_try_on`` answers with the queued job (a
``job`` card the app follows through ``/tryon/jobs/{id}/events``) and never waits for it.
Refusals (no person, several people, a shoe, a product without a photo) come back as
messages the agent can pass on, in the person's language.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tools.base import Card, Tool, ToolArgs, ToolContext, ToolError, ToolResult
from tools.jobs import JobError
from tools.tryon.engine import TryOnRejected
from tools.tryon.schemas import GarmentRef, TryOnJobRead
from tools.tryon.service import TryOnService
from tools.uploads import UnknownUpload, UploadStore
from tools.wardrobe.images import ImageRejected

#: Refusals in Chinese (the English message comes from the check itself).
_REJECTED_ZH = {
    "no_person": "照片里没有找到人，请发一张你本人的正面照（半身或全身）",
    "several_people": "照片里不止一个人，请发一张只有你自己的照片",
    "face_only": "照片只拍到了脸，请发一张能看到肩膀和上身的照片",
    "body_not_visible": "照片里看不到要试穿的身体部位，请发一张半身或全身、正对镜头的照片",
    "wrong_garment_type": "这件商品不是上衣、下装或连衣裙，暂时无法虚拟试穿",
    "garment_has_no_image": "这件商品还没有商品图，暂时无法试穿",
    "no_garment": "没能从商品图里找到衣物",
}
_STATUS_ZH = {
    "queued": "排队中",
    "running": "生成中",
    "succeeded": "已完成",
    "failed": "失败",
    "cancelled": "已取消",
}


def _tryon(context: ToolContext) -> TryOnService:
    service: TryOnService | None = getattr(context.services, "tryon", None)
    if service is None:
        raise ToolError("virtual try-on is not available in this deployment")
    return service


def job_card(job: TryOnJobRead) -> Card:
    return Card(
        kind="job",
        id=job.id,
        title=str(job.garment.get("name") or "try-on"),
        image_url=f"/api/v1/tryon/jobs/{job.id}/result" if job.has_result else None,
        data={
            "status": job.status,
            "progress": job.progress,
            "events_url": f"/api/v1/tryon/jobs/{job.id}/events",
            **({"error_code": job.error_code} if job.error_code else {}),
        },
    )


def _job_fact(job: TryOnJobRead, zh: bool) -> str:
    name = job.garment.get("name") or ("这件衣服" if zh else "the garment")
    if zh:
        base = f"试穿「{name}」：{_STATUS_ZH[job.status]}"
        if job.status == "failed" and job.error_message:
            base += f"（{job.error_message}）"
        return base
    base = f"try-on of {name}: {job.status}"
    if job.status == "failed" and job.error_message:
        base += f" ({job.error_message})"
    return base


# --- virtual_try_on --------------------------------------------------------------------------------


class VirtualTryOnArgs(ToolArgs):
    upload_id: str = Field(
        pattern=r"^[0-9a-f]{32}$",
        description="The id of a photo of the person (from the message's attachments): one person, "
        "facing the camera, from the waist up or full length.",
    )
    product_id: str | None = Field(
        default=None, max_length=64, description="A catalogue product to try on (tops, bottoms or dresses)."
    )
    wardrobe_item_id: str | None = Field(
        default=None, max_length=36, description="Instead of a product: one of the person's wardrobe items."
    )


def virtual_try_on(context: ToolContext, args: VirtualTryOnArgs) -> ToolResult:
    service = _tryon(context)
    zh = context.zh
    uploads: UploadStore | None = getattr(context.services, "uploads", None)
    if uploads is None:
        raise ToolError("photo uploads are not available in this deployment")
    try:
        ref = GarmentRef(product_id=args.product_id, wardrobe_item_id=args.wardrobe_item_id)
    except ValueError as exc:
        raise ToolError("name exactly one garment to try on: a product_id or a wardrobe_item_id") from exc
    try:
        photo = uploads.read(context.user_id, args.upload_id)
        job, created = service.submit(context.user_id, photo, ref)
    except UnknownUpload as exc:
        raise ToolError(str(exc)) from exc
    except (TryOnRejected, ImageRejected) as exc:
        message = (
            _REJECTED_ZH.get(exc.code, exc.message) if zh and isinstance(exc, TryOnRejected) else exc.message
        )
        return ToolResult(ok=False, error=message, data={"code": exc.code})
    except JobError as exc:
        return ToolResult(ok=False, error=exc.message, data={"code": exc.code})
    if zh:
        fact = f"已开始为你试穿「{job.garment.get('name')}」，图片生成后会显示在这里"
    else:
        fact = f"started a try-on of {job.garment.get('name')}; the picture appears here when it is ready"
    if not created:
        fact = _job_fact(job, zh)
    return ToolResult(
        ok=True,
        data={"job_id": job.id, "status": job.status, "created": created, "engine": job.engine},
        facts=[fact],
        cards=[job_card(job)],
    )


VIRTUAL_TRY_ON = Tool(
    name="virtual_try_on",
    description=(
        "Show a garment on the person's own photo. Needs a photo of the person (upload_id) and one garment: "
        "a catalogue product_id or a wardrobe_item_id. Returns a job that finishes in the background; the "
        "app "
        "shows the picture when it is ready. Photos without exactly one person, or garments that are not "
        "tops, bottoms or dresses, are refused with the reason."
    ),
    args=VirtualTryOnArgs,
    run=virtual_try_on,
)


# --- tryon_job_status ------------------------------------------------------------------------------


class TryOnStatusArgs(ToolArgs):
    job_id: str | None = Field(
        default=None, max_length=36, description="A try-on job's id; omit for the person's latest try-on."
    )
    action: Literal["status", "cancel"] = Field(
        default="status", description="cancel stops a queued or running job."
    )


def tryon_job_status(context: ToolContext, args: TryOnStatusArgs) -> ToolResult:
    service = _tryon(context)
    zh = context.zh
    job_id = args.job_id
    if job_id is None:
        latest = service.list(context.user_id, limit=1)
        if not latest:
            return ToolResult(
                ok=False, error="还没有试穿记录" if zh else "there is no try-on yet", data={"code": "none"}
            )
        job_id = latest[0].id
    try:
        job = (
            service.cancel(context.user_id, job_id)
            if args.action == "cancel"
            else service.get(context.user_id, job_id)
        )
    except JobError as exc:
        return ToolResult(ok=False, error=exc.message, data={"code": exc.code})
    return ToolResult(
        ok=True,
        data={"job_id": job.id, "status": job.status, "progress": job.progress},
        facts=[_job_fact(job, zh)],
        cards=[job_card(job)],
    )


TRYON_JOB_STATUS = Tool(
    name="tryon_job_status",
    description=(
        "How the person's virtual try-on is going (queued, running, succeeded or failed, with the reason), "
        "for a job_id or their latest one; action=cancel stops a queued or running try-on."
    ),
    args=TryOnStatusArgs,
    run=tryon_job_status,
)

TRYON_TOOLS = (VIRTUAL_TRY_ON, TRYON_JOB_STATUS)
