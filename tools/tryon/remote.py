"""A try-on model server as an engine: ``POST {base_url}/v1/tryon`` (see ``model_servers.tryon.protocol``)."""

from __future__ import annotations

import io
import json

import httpx
import numpy as np
from PIL import Image

from core.telemetry import outgoing
from tools.tryon.engine import Mask, TryOnRejected, TryOnRequest, TryOnResult
from tools.wardrobe.images import encode_png


def _mask_png(mask: Mask | None) -> bytes | None:
    if mask is None:
        return None
    out = io.BytesIO()
    Image.fromarray(np.asarray(mask, dtype=np.uint8) * 255).save(out, "PNG")
    return out.getvalue()


class HttpTryOnEngine:
    """Refusals come back as ``TryOnRejected`` (final); transport errors and 5xx as ``httpx``
    errors, which the worker treats as worth retrying."""

    name = "model-server"

    def __init__(self, base_url: str, timeout_s: float = 120.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    def run(self, request: TryOnRequest) -> TryOnResult:
        files: dict[str, tuple[str, bytes, str]] = {
            "person": ("person.png", encode_png(request.person), "image/png"),
            "garment": ("garment.png", encode_png(request.garment), "image/png"),
        }
        for field, mask in (("garment_mask", request.garment_mask), ("agnostic", request.agnostic)):
            data = _mask_png(mask)
            if data is not None:
                files[field] = (f"{field}.png", data, "image/png")
        url = f"{self.base_url}/v1/tryon"
        with outgoing("tryon", "POST", url) as call:  # a client span + traceparent while tracing
            response = httpx.post(
                url,
                files=files,
                data={"kind": request.kind, "seed": str(request.seed)},
                timeout=self.timeout_s,
                headers=call.headers,
            )
            call.record(response)
        if response.status_code == 422:
            body = (
                response.json()
                if response.headers.get("content-type", "").startswith("application/json")
                else {}
            )
            code = body.get("code") if isinstance(body, dict) else None
            if code in TryOnRejected.CODES:
                raise TryOnRejected(code, str(body.get("detail", "The try-on server refused the photo.")))
        response.raise_for_status()
        with Image.open(io.BytesIO(response.content)) as img:
            image = np.asarray(img.convert("RGB"), dtype=np.uint8)
        timings = json.loads(response.headers.get("X-TryOn-Timings", "{}") or "{}")
        return TryOnResult(
            image=image,
            engine=response.headers.get("X-TryOn-Engine", self.name),
            timings_ms={str(k): float(v) for k, v in timings.items()},
        )
