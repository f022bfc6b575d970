"""The text-to-image protocol.

``POST /v1/images`` takes JSON (``ImageRequest``): the prompt and negative prompt, the size
(multiples of 8, 256 to 1536 pixels a side), the seed, the denoising steps (1 to 100), the
guidance scale and an optional ``control``: a conditioning image (base64 PNG or JPEG) of kind
``pose`` (an OpenPose-style skeleton, see ``pipeline.pose_control_image``) or ``edges`` (white
edges on black, see ``pipeline.edges_control_image``) and its strength, 0 to 2. The answer is
the picture as PNG; ``X-Imagegen-Model`` names the model and ``X-Imagegen-Timings`` carries the
stage timings as JSON (milliseconds, plus ``batch_size``: how many requests shared the loop).
A request the server cannot use is a 422 whose JSON body is ``{code, detail}``.

The first five fields are ``tools.imagegen.prompt.ImagePrompt``'s, so a prompt built there is a
body as it stands (``ImageRequest.from_prompt``); sides over 1536 are refused here, though.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from tools.imagegen.prompt import ImagePrompt

IMAGES_PATH = "/v1/images"
MODEL_HEADER = "X-Imagegen-Model"
TIMINGS_HEADER = "X-Imagegen-Timings"
#: The largest control image the server decodes.
MAX_CONTROL_BYTES = 20 * 1024 * 1024


class ControlSpec(BaseModel):
    kind: Literal["pose", "edges"]
    #: The conditioning image itself (skeleton or edge map), base64 PNG or JPEG.
    image: str = Field(max_length=(MAX_CONTROL_BYTES * 4) // 3 + 4)
    scale: float = Field(default=1.0, ge=0.0, le=2.0)


class ImageRequest(BaseModel):
    prompt: str = Field(max_length=4000)
    negative_prompt: str = Field(default="", max_length=4000)
    width: int = Field(default=512, ge=256, le=1536, multiple_of=8)
    height: int = Field(default=512, ge=256, le=1536, multiple_of=8)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    steps: int = Field(default=30, ge=1, le=100)
    guidance_scale: float = Field(default=7.5, ge=0.0, le=30.0)
    control: ControlSpec | None = None

    @classmethod
    def from_prompt(
        cls,
        prompt: ImagePrompt,
        *,
        steps: int = 30,
        guidance_scale: float = 7.5,
        control: ControlSpec | None = None,
    ) -> ImageRequest:
        return cls(
            prompt=prompt.prompt,
            negative_prompt=prompt.negative_prompt,
            width=prompt.width,
            height=prompt.height,
            seed=prompt.seed,
            steps=steps,
            guidance_scale=guidance_scale,
            control=control,
        )


class Health(BaseModel):
    status: str
    model: str
    max_batch: int
    controls: list[str]
