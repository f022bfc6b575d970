"""A text-to-image server as a generator: ``POST {base_url}/v1/images`` (see
``model_servers.imagegen.protocol``), the prompt built by ``tools.imagegen.prompt``."""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx

from core.telemetry import outgoing
from tools.base import Refusal
from tools.imagegen.prompt import ImagePrompt


class ImageRefused(Refusal):
    """The server will not make this picture (a size it does not take, an unusable control)."""

    CODES = frozenset({"invalid_request", "control_unavailable", "not_an_image", "too_large"})


@dataclass(frozen=True)
class Generated:
    png: bytes
    model: str
    timings_ms: dict[str, float]


class HttpImageGenerator:
    """Refusals come back as ``ImageRefused`` (final); transport errors and 5xx as ``httpx`` errors,
    which the worker treats as worth retrying."""

    def __init__(
        self, base_url: str, *, steps: int = 30, guidance_scale: float = 7.5, timeout_s: float = 300.0
    ):
        self.base_url = base_url.rstrip("/")
        self.steps = steps
        self.guidance_scale = guidance_scale
        self.timeout_s = timeout_s

    def generate(self, prompt: ImagePrompt) -> Generated:
        body = {
            "prompt": prompt.prompt,
            "negative_prompt": prompt.negative_prompt,
            "width": prompt.width,
            "height": prompt.height,
            "seed": prompt.seed,
            "steps": self.steps,
            "guidance_scale": self.guidance_scale,
        }
        url = f"{self.base_url}/v1/images"
        with outgoing("imagegen", "POST", url) as call:  # a client span + traceparent while tracing
            response = httpx.post(url, json=body, timeout=self.timeout_s, headers=call.headers)
            call.record(response)
        if 400 <= response.status_code < 500:
            try:
                error = response.json()
            except ValueError:
                error = {}
            code = error.get("code") if isinstance(error, dict) else None
            if code in ImageRefused.CODES:
                raise ImageRefused(code, str(error.get("detail", "The image server refused the request.")))
        response.raise_for_status()
        timings = json.loads(response.headers.get("X-Imagegen-Timings", "{}") or "{}")
        return Generated(
            png=response.content,
            model=response.headers.get("X-Imagegen-Model", "unknown"),
            timings_ms={str(k): float(v) for k, v in timings.items()},
        )
