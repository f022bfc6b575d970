"""A CatVTON-style diffusion try-on engine for the GPU try-on server.

The design follows Chong et al. 2024, "CatVTON: Concatenation Is All You Need for Virtual Try-On
with Diffusion Models": an SD-1.5-inpainting UNet with no text encoder and no garment encoder.
The garment is conditioning only because its latent sits *beside* the masked person's latent in
one wide latent, ``[masked person | garment]``; the UNet's self-attention carries the garment's
appearance across the seam into the masked region. The inpainting UNet's nine input channels are
the noisy wide latent (4), the wide mask ``[agnostic | zeros]`` (1) and the wide masked-image
latent (4). Classifier-free guidance drops the garment half (zeros), as the paper does.

Everything outside the agnostic mask is the original photo, pixel for pixel: the model's output is
only ever pasted into the region it was allowed to repaint.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import cv2
import numpy as np
import torch

# The defining modules, not the package root: under type checking the root re-exports
# placeholder classes of the same names.
from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL
from diffusers.models.unets.unet_2d_condition import UNet2DConditionModel
from diffusers.schedulers.scheduling_ddim import DDIMScheduler

from model_servers import sd15
from tools.tryon.engine import RGB, GarmentKind, Mask, TryOnRequest, TryOnResult
from tools.tryon.post import LanczosUpscaler, Upscaler, match_colour, paste_back

logger = logging.getLogger(__name__)

#: The engine's own settings beside the diffusers subfolders, so a saved folder loads as it was.
ENGINE_CONFIG = "tryon_engine.json"

AgnosticFn = Callable[[RGB, GarmentKind], Mask]


def detect_agnostic(person: RGB, kind: GarmentKind) -> Mask:
    """The region to repaint, from the pose; refuses a photo with nobody to dress (``TryOnRejected``)."""
    from tools.tryon.person import agnostic_mask, check_fit, check_person

    pose = check_person(person)
    check_fit(pose, kind)
    return agnostic_mask(pose, kind)


def _vae_config(size: Literal["tiny", "full"]) -> dict[str, Any]:
    if size == "tiny":
        return {
            "in_channels": 3,
            "out_channels": 3,
            "block_out_channels": (32, 64),
            "down_block_types": ("DownEncoderBlock2D",) * 2,
            "up_block_types": ("UpDecoderBlock2D",) * 2,
            "layers_per_block": 1,
            "latent_channels": 4,
            "norm_num_groups": 16,
            "sample_size": 64,
            "scaling_factor": 0.18215,
        }
    return sd15.SD_VAE_CONFIG


@dataclass(frozen=True)
class _Letterbox:
    """Where the photo sits inside the model's canvas, to undo the fit afterwards."""

    top: int
    left: int
    height: int
    width: int


def _fit(rgb: RGB, height: int, width: int, fill: int = 255) -> tuple[RGB, _Letterbox]:
    """``rgb`` scaled to fit ``height``×``width`` with its aspect kept, centred on a plain canvas:
    stretching a person changes their build, which the model would then dress."""
    h, w = rgb.shape[:2]
    scale = min(height / h, width / w)
    new_h, new_w = max(1, min(height, round(h * scale))), max(1, min(width, round(w * scale)))
    resized = cv2.resize(np.ascontiguousarray(rgb), (new_w, new_h), interpolation=cv2.INTER_AREA)
    canvas = np.full((height, width, 3), fill, dtype=np.uint8)
    top, left = (height - new_h) // 2, (width - new_w) // 2
    canvas[top : top + new_h, left : left + new_w] = resized
    return canvas, _Letterbox(top, left, new_h, new_w)


def _fit_mask(mask: Mask, box: _Letterbox, height: int, width: int) -> Mask:
    resized = cv2.resize(mask.astype(np.uint8) * 255, (box.width, box.height), interpolation=cv2.INTER_LINEAR)
    canvas = np.zeros((height, width), dtype=bool)
    canvas[box.top : box.top + box.height, box.left : box.left + box.width] = resized > 127
    return canvas


def _to_tensor(images: Sequence[RGB]) -> torch.Tensor:
    """uint8 HWC images → float (N, 3, H, W) in [-1, 1], the VAE's input range."""
    array = np.stack([np.asarray(i, dtype=np.float32) for i in images]) / 127.5 - 1.0
    return torch.from_numpy(array).permute(0, 3, 1, 2).contiguous()


def _to_uint8(images: torch.Tensor) -> list[RGB]:
    array = images.float().clamp(-1, 1).add(1).mul(127.5).round().permute(0, 2, 3, 1).cpu().numpy()
    array = np.nan_to_num(array, nan=127.0)
    return [np.ascontiguousarray(a.astype(np.uint8)) for a in array]


@dataclass(frozen=True)
class _Prepared:
    person: RGB
    agnostic: Mask
    box: _Letterbox
    canvas: RGB
    canvas_mask: Mask
    garment: RGB


class DiffusionTryOnEngine:
    """CatVTON-style mask-based try-on: an SD-1.5-inpainting UNet denoising ``[person | garment]``.

    **Weights.** ``random(...)`` builds the architecture with random weights: its output is noise.
    Those weights test the code path and measure speed; they say nothing about quality. Real
    weights come only from a configured local diffusers folder (``from_folder``); nothing is ever
    downloaded.

    **Licences.** The published try-on checkpoints of this family (CatVTON, IDM-VTON, OOTDiffusion)
    are CC BY-NC-SA: non-commercial use only. Leffa's are MIT. Check the weights' licence before
    a deployment points ``from_folder`` at them.

    **Maskless models.** This engine is mask-based: it repaints ``TryOnRequest.agnostic`` (or the
    region it computes from the pose) and keeps every other pixel. A maskless model such as FASHN
    VTON 1.5 (Apache-2.0) takes the whole person photo and ignores ``agnostic``; it belongs in a
    separate engine class behind the same ``TryOnEngine`` contract, not behind flags here.

    One engine is not thread-safe; the server's ``TryOnServing`` runs it under a lock, in batches.
    """

    name = "catvton-style-diffusion"

    def __init__(
        self,
        unet: UNet2DConditionModel,
        vae: AutoencoderKL,
        scheduler: DDIMScheduler,
        *,
        height: int = 1024,
        width: int = 768,
        num_inference_steps: int = 30,
        guidance_scale: float = 2.5,
        device: str | None = None,
        dtype: torch.dtype | None = None,
        feather_px: float = 4.0,
        agnostic_fn: AgnosticFn = detect_agnostic,
        upscaler: Upscaler | None = None,
    ) -> None:
        self.device = torch.device(device or sd15.default_device())
        self.dtype = dtype or sd15.default_dtype(self.device.type)
        unet_in = int(unet.config["in_channels"])
        if unet_in != 9:
            raise ValueError(f"an inpainting UNet takes 9 input channels (4 + 1 + 4), this one {unet_in}")
        self.vae_factor = 2 ** (len(vae.config["block_out_channels"]) - 1)
        self.unet_factor = 2 ** (len(unet.config["block_out_channels"]) - 1)
        multiple = self.vae_factor * self.unet_factor
        if height % multiple or width % multiple:
            raise ValueError(f"height and width must be multiples of {multiple}, got {height}×{width}")
        if num_inference_steps < 1:
            raise ValueError("num_inference_steps must be at least 1")
        self.unet = sd15.place(unet, self.device, self.dtype)
        self.vae = sd15.place(vae, self.device, self.dtype)
        self.scheduler = scheduler
        self.height, self.width = height, width
        self.num_inference_steps = num_inference_steps
        self.guidance_scale = guidance_scale
        self.feather_px = feather_px
        self.agnostic_fn = agnostic_fn
        self.upscaler = upscaler or LanczosUpscaler()
        self.scaling_factor = float(vae.config["scaling_factor"])
        #: No text encoder: cross-attention attends to one fixed zero token.
        self.null_embedding = torch.zeros(
            1, 1, int(unet.config["cross_attention_dim"]), device=self.device, dtype=self.dtype
        )
        #: Shape of the latent the UNet last denoised (for tests and logs), (N, C, h, 2·w).
        self.last_unet_input_shape: tuple[int, ...] | None = None

    # -- construction --------------------------------------------------------------------------

    @classmethod
    def random(
        cls,
        size: Literal["tiny", "full"] = "tiny",
        *,
        seed: int = 0,
        height: int | None = None,
        width: int | None = None,
        device: str | None = None,
        dtype: torch.dtype | None = None,
        **kwargs: Any,
    ) -> DiffusionTryOnEngine:
        """The architecture with random weights (output is noise): for tests and benchmarks."""
        sd15.check_size(size)
        with sd15.random_init(device, seed) as target:
            unet = UNet2DConditionModel(**sd15.unet_config(size, in_channels=9))
            vae = AutoencoderKL(**_vae_config(size))
        default_h, default_w = (64, 48) if size == "tiny" else (1024, 768)
        return cls(
            unet,
            vae,
            sd15.scheduler(),
            height=height or default_h,
            width=width or default_w,
            device=str(target),
            dtype=dtype,
            **kwargs,
        )

    @classmethod
    def from_folder(
        cls, path: str | Path, *, device: str | None = None, dtype: torch.dtype | None = None, **kwargs: Any
    ) -> DiffusionTryOnEngine:
        """A diffusers-format folder (``unet/``, ``vae/``, ``scheduler/``), read locally only.

        ``tryon_engine.json`` beside them, when present, gives the resolution and sampling
        settings it was saved with; keyword arguments override it.
        """
        folder = sd15.weights_folder(path)
        target = device or sd15.default_device()
        torch_dtype = dtype or sd15.default_dtype(torch.device(target).type)
        unet, vae, scheduler = sd15.load_core(folder, torch_dtype)
        settings: dict[str, Any] = {}
        if (folder / ENGINE_CONFIG).is_file():
            settings = json.loads((folder / ENGINE_CONFIG).read_text())
        settings.update(kwargs)
        return cls(
            unet,
            vae,
            scheduler,
            device=target,
            dtype=torch_dtype,
            **settings,
        )

    def save(self, path: str | Path) -> None:
        """Write a folder ``from_folder`` reads back into the same engine."""
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        self.unet.save_pretrained(folder / "unet")
        self.vae.save_pretrained(folder / "vae")
        self.scheduler.save_pretrained(folder / "scheduler")
        settings = {
            "height": self.height,
            "width": self.width,
            "num_inference_steps": self.num_inference_steps,
            "guidance_scale": self.guidance_scale,
            "feather_px": self.feather_px,
        }
        (folder / ENGINE_CONFIG).write_text(json.dumps(settings, indent=2) + "\n")

    # -- inference -----------------------------------------------------------------------------

    def run(self, request: TryOnRequest) -> TryOnResult:
        return self.run_batch([request])[0]

    def run_batch(self, requests: list[TryOnRequest]) -> list[TryOnResult]:
        """Dress several people in one denoising loop; each keeps its own seed's noise, so a
        request's picture does not depend on which others shared its batch. The stage timings
        are the batch's, and every result carries them."""
        if not requests:
            return []
        start = time.perf_counter()
        prepared = [self._prepare(r) for r in requests]
        with torch.inference_mode():
            masked, garment, mask = self._encode(prepared)
            encoded = time.perf_counter()
            latents = self._denoise(masked, garment, mask, [r.seed for r in requests])
            denoised = time.perf_counter()
            images = self._decode(latents)
            decoded = time.perf_counter()
        results = [self._finish(p, image) for p, image in zip(prepared, images, strict=True)]
        done = time.perf_counter()
        timings = {
            "encode": round((encoded - start) * 1000, 2),
            "denoise": round((denoised - encoded) * 1000, 2),
            "decode": round((decoded - denoised) * 1000, 2),
            "post": round((done - decoded) * 1000, 2),
        }
        return [
            TryOnResult(image=image, engine=self.name, garment_region=p.agnostic, timings_ms=dict(timings))
            for p, image in zip(prepared, results, strict=True)
        ]

    def _prepare(self, request: TryOnRequest) -> _Prepared:
        person = np.ascontiguousarray(request.person[..., :3], dtype=np.uint8)
        agnostic = request.agnostic
        if agnostic is None:
            agnostic = self.agnostic_fn(person, request.kind)
        if agnostic.shape != person.shape[:2]:
            raise ValueError(f"agnostic mask {agnostic.shape} does not match the person {person.shape[:2]}")
        canvas, box = _fit(person, self.height, self.width)
        canvas_mask = _fit_mask(agnostic, box, self.height, self.width)
        garment, _ = _fit(np.asarray(request.garment[..., :3], dtype=np.uint8), self.height, self.width)
        return _Prepared(person, np.asarray(agnostic, dtype=bool), box, canvas, canvas_mask, garment)

    def _latent(self, pixels: torch.Tensor) -> torch.Tensor:
        # The distribution's mean, not a sample: the conditioning latents should not depend on
        # a random draw the request's seed does not control.
        dist = self.vae.encode(pixels.to(self.device, self.dtype)).latent_dist
        return cast(torch.Tensor, dist.mode()) * self.scaling_factor

    def _encode(self, prepared: list[_Prepared]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Latents of the masked people and of the garments, and the masks at latent size."""
        masks = torch.from_numpy(np.stack([p.canvas_mask for p in prepared]).astype(np.float32))[:, None]
        people = _to_tensor([p.canvas for p in prepared]) * (1 - masks)
        garments = _to_tensor([p.garment for p in prepared])
        both = self._latent(torch.cat([people, garments]))
        masked, garment = both.chunk(2)
        h, w = masked.shape[-2:]
        # A latent cell is masked when any pixel it covers is: the seam must lie inside the
        # region the model repaints, never across kept pixels.
        latent_mask = torch.nn.functional.adaptive_max_pool2d(masks, (h, w))
        return masked, garment, latent_mask.to(self.device, self.dtype)

    def concat_conditioning(
        self, masked: torch.Tensor, garment: torch.Tensor, mask: torch.Tensor, *, drop_garment: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The wide masked-image latent ``[masked person | garment]`` and the wide mask
        ``[mask | zeros]``, both concatenated along the width; with ``drop_garment`` (the
        unconditional branch of guidance) the garment half is zeros."""
        right = torch.zeros_like(garment) if drop_garment else garment
        return torch.cat([masked, right], dim=-1), torch.cat([mask, torch.zeros_like(mask)], dim=-1)

    def _noise(self, seeds: list[int], shape: tuple[int, ...]) -> torch.Tensor:
        """Noise drawn on the CPU per request: the same seed gives the same picture on any
        device and in any batch."""
        draws = [torch.randn(shape, generator=torch.Generator("cpu").manual_seed(s)) for s in seeds]
        return torch.stack(draws).to(self.device, self.dtype)

    def _denoise(
        self, masked: torch.Tensor, garment: torch.Tensor, mask: torch.Tensor, seeds: list[int]
    ) -> torch.Tensor:
        scheduler = DDIMScheduler.from_config(self.scheduler.config)
        scheduler.set_timesteps(self.num_inference_steps, device=self.device)
        cond_image, cond_mask = self.concat_conditioning(masked, garment, mask)
        guided = self.guidance_scale > 1.0
        if guided:
            uncond_image, uncond_mask = self.concat_conditioning(masked, garment, mask, drop_garment=True)
            cond_image = torch.cat([uncond_image, cond_image])
            cond_mask = torch.cat([uncond_mask, cond_mask])
        n = masked.shape[0]
        latents = self._noise(seeds, tuple(cond_image.shape[1:])) * float(scheduler.init_noise_sigma)
        embedding = self.null_embedding.expand(cond_image.shape[0], -1, -1)
        for t in scheduler.timesteps:
            model_in = torch.cat([latents, latents]) if guided else latents
            model_in = scheduler.scale_model_input(model_in, t)
            unet_in = torch.cat([model_in, cond_mask, cond_image], dim=1)
            self.last_unet_input_shape = tuple(unet_in.shape)
            noise = self.unet(unet_in, t, encoder_hidden_states=embedding, return_dict=False)[0]
            if guided:
                uncond, cond = noise.chunk(2)
                noise = uncond + self.guidance_scale * (cond - uncond)
            latents = scheduler.step(noise, t, latents, return_dict=False)[0]
        assert latents.shape[0] == n
        return latents

    def _decode(self, latents: torch.Tensor) -> list[RGB]:
        person_half = latents[..., : latents.shape[-1] // 2] / self.scaling_factor
        decoded = self.vae.decode(person_half, return_dict=False)[0]
        return _to_uint8(cast(torch.Tensor, decoded))

    def _finish(self, prepared: _Prepared, generated: RGB) -> RGB:
        """Back to the photo's own size, and into the photo inside the agnostic region only."""
        box = prepared.box
        crop = generated[box.top : box.top + box.height, box.left : box.left + box.width]
        h, w = prepared.person.shape[:2]
        full = self.upscaler.upscale(np.ascontiguousarray(crop), (w, h))
        region = prepared.agnostic
        # The model redraws the kept part too; how far its tone drifted there corrects the garment.
        full = match_colour(full, prepared.person, region)
        # Feather inwards: the seam's soft edge lies inside the region, not over kept pixels.
        inner = region
        if self.feather_px > 0:
            k = max(3, round(self.feather_px) | 1)
            kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
            eroded = cv2.erode(region.astype(np.uint8), kernel) > 0
            inner = eroded if eroded.any() else region
        out = paste_back(prepared.person, full, inner, self.feather_px)
        out[~region] = prepared.person[~region]
        return out
