"""Text-to-image for the image model server: an SD-1.5-shaped latent diffusion pipeline with
optional ControlNet conditioning (a pose skeleton or an edge map steers the composition).

The pieces are diffusers' ``UNet2DConditionModel``, ``AutoencoderKL``, ``DDIMScheduler`` and,
per control kind, a ``ControlNetModel`` whose residuals are added to the UNet's skip connections.
The text encoder is a small protocol (``TextEncoder``) so the pipeline runs without
``transformers``: ``CLIPTextEncoder`` is the production path for real SD-1.5 weights,
``HashingTextEncoder`` a random stand-in for tests and random-weight benchmarks.

Every request draws its initial noise from its own seed on the CPU, so a request's picture does
not depend on the device or on which other requests shared its batch.

Nothing is ever downloaded: weights are either random (``TextToImage.random``, whose pictures
are noise) or read from a local diffusers folder (``TextToImage.from_folder``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, cast, get_args

import cv2
import numpy as np
import torch
from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL
from diffusers.models.controlnets.controlnet import ControlNetModel
from diffusers.models.unets.unet_2d_condition import UNet2DConditionModel
from diffusers.schedulers.scheduling_ddim import DDIMScheduler
from numpy.typing import NDArray
from safetensors.torch import load_file, save_file

from model_servers import sd15
from tools.base import Refusal

logger = logging.getLogger(__name__)

RGB = NDArray[np.uint8]
ControlKind = Literal["pose", "edges"]
CONTROL_KINDS: tuple[ControlKind, ...] = get_args(ControlKind)
Size = sd15.Size

#: CLIP's context length; SD-1.5's UNet cross-attends to this many token states.
MAX_LENGTH = 77
#: The hashing encoder's weights in a saved folder (instead of ``text_encoder/`` + ``tokenizer/``).
HASHING_ENCODER_FILE = "hashing_text_encoder.safetensors"
#: The pipeline's own settings beside the diffusers subfolders.
PIPELINE_CONFIG = "imagegen.json"


class ControlUnavailable(Refusal):
    """A request asked for a control kind this pipeline has no ControlNet for."""

    CODES = frozenset({"control_unavailable"})

    def __init__(self, kind: str, available: Sequence[str]) -> None:
        have = ", ".join(available) or "none"
        super().__init__("control_unavailable", f"this model has no {kind!r} ControlNet (available: {have})")


# -- text encoders ---------------------------------------------------------------------------------


class TextEncoder(Protocol):
    """Prompts to the token states the UNet cross-attends to, shape ``(B, 77, D)``."""

    @property
    def dim(self) -> int: ...

    def encode(self, prompts: list[str]) -> torch.Tensor: ...


_WORD = re.compile(r"\w+|[^\w\s]")


class HashingTextEncoder:
    """Words hashed to token ids, looked up in a randomly initialised table, plus positions.

    It carries **no learned meaning**: it exists so the pipeline, its tests and the random-weight
    GPU benchmark exercise the real shapes (``(B, 77, D)``) and costs without ``transformers`` or
    CLIP weights. It is deterministic (BLAKE2 hashes, a seeded table), so the same prompt always
    gives the same states and different prompts give different ones.
    """

    BOS, EOS, PAD = 0, 1, 2
    _RESERVED = 3

    def __init__(
        self,
        dim: int = 768,
        *,
        vocab_size: int = 8192,
        seed: int = 0,
        weights: dict[str, torch.Tensor] | None = None,
    ) -> None:
        if weights is None:
            generator = torch.Generator("cpu").manual_seed(seed)
            weights = {
                "token_embedding": torch.randn(vocab_size, dim, generator=generator),
                "position_embedding": torch.randn(MAX_LENGTH, dim, generator=generator) * 0.1,
            }
        self.token_embedding = weights["token_embedding"].float().contiguous()
        self.position_embedding = weights["position_embedding"].float().contiguous()
        if self.position_embedding.shape != (MAX_LENGTH, self.token_embedding.shape[1]):
            raise ValueError("position embedding must be (77, D) with the token table's D")

    @property
    def dim(self) -> int:
        return int(self.token_embedding.shape[1])

    @property
    def vocab_size(self) -> int:
        return int(self.token_embedding.shape[0])

    def token_ids(self, prompt: str) -> list[int]:
        """``[BOS, words…, EOS, PAD…]``, 77 long; words past CLIP's window are dropped as CLIP does."""
        span = self.vocab_size - self._RESERVED
        ids = [
            self._RESERVED + int.from_bytes(hashlib.blake2b(w.encode(), digest_size=8).digest(), "big") % span
            for w in _WORD.findall(prompt.lower())
        ][: MAX_LENGTH - 2]
        ids = [self.BOS, *ids, self.EOS]
        return ids + [self.PAD] * (MAX_LENGTH - len(ids))

    def encode(self, prompts: list[str]) -> torch.Tensor:
        ids = torch.tensor([self.token_ids(p) for p in prompts], dtype=torch.long)
        states = self.token_embedding[ids] + self.position_embedding
        # CLIP's last hidden state is layer-normed; keep the same scale.
        return torch.nn.functional.layer_norm(states, (self.dim,))

    def save(self, path: Path) -> None:
        save_file(
            {"token_embedding": self.token_embedding, "position_embedding": self.position_embedding}, path
        )

    @classmethod
    def load(cls, path: Path) -> HashingTextEncoder:
        return cls(weights=load_file(path))


class CLIPTextEncoder:
    """SD-1.5's CLIP ViT-L/14 text encoder from a weights folder's ``tokenizer/`` and ``text_encoder/``.

    The production path with real SD-1.5 weights. It needs ``transformers``, imported only here
    so the rest of the server runs without it. Only its "transformers is missing" error is
    tested in this repository: neither ``transformers`` nor CLIP weights are in the test
    environment, so the tokenising and encoding below have never run here.
    """

    def __init__(
        self, folder: str | Path, *, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32
    ) -> None:
        try:
            from transformers import CLIPTextModel, CLIPTokenizer  # type: ignore[import-not-found, unused-ignore]
        except ImportError as exc:
            raise RuntimeError(
                "CLIPTextEncoder needs the 'transformers' package (pip install transformers); "
                "it is not installed"
            ) from exc
        folder = Path(folder)
        self.device = torch.device(device)
        self.tokenizer: Any = CLIPTokenizer.from_pretrained(
            folder, subfolder="tokenizer", local_files_only=True
        )
        model: Any = CLIPTextModel.from_pretrained(
            folder, subfolder="text_encoder", local_files_only=True, torch_dtype=dtype
        )
        self.model: Any = sd15.place(model, self.device, dtype)

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size)

    def encode(self, prompts: list[str]) -> torch.Tensor:  # pragma: no cover - needs transformers
        tokens = self.tokenizer(
            prompts, padding="max_length", max_length=MAX_LENGTH, truncation=True, return_tensors="pt"
        )
        with torch.inference_mode():
            return cast(torch.Tensor, self.model(tokens.input_ids.to(self.device))[0])


# -- requests and results ------------------------------------------------------------------------


@dataclass(frozen=True)
class Control:
    """A conditioning image (an OpenPose-style skeleton for ``pose``, a white-on-black edge map
    for ``edges``) and how strongly it steers, 0 (not at all) to 2."""

    kind: ControlKind
    image: RGB
    scale: float = 1.0


@dataclass(frozen=True)
class GenerationRequest:
    prompt: str
    negative_prompt: str = ""
    width: int = 512
    height: int = 512
    seed: int = 0
    steps: int = 30
    guidance_scale: float = 7.5
    control: Control | None = None

    @property
    def batch_key(self) -> tuple[int, int, int, str | None]:
        """Requests with equal keys can share one denoising loop."""
        return (self.width, self.height, self.steps, self.control.kind if self.control else None)


@dataclass(frozen=True)
class GeneratedImage:
    rgb: RGB
    seed: int
    timings_ms: dict[str, float]


# -- model construction --------------------------------------------------------------------------


def _vae_config(size: Size) -> dict[str, Any]:
    # Four blocks in both sizes: the latent is 1/8 of the image, as the protocol's multiples of 8 assume.
    if size == "tiny":
        return {
            "in_channels": 3,
            "out_channels": 3,
            "block_out_channels": (8, 16, 16, 16),
            "down_block_types": ("DownEncoderBlock2D",) * 4,
            "up_block_types": ("UpDecoderBlock2D",) * 4,
            "layers_per_block": 1,
            "latent_channels": 4,
            "norm_num_groups": 8,
            "sample_size": 64,
            "scaling_factor": 0.18215,
        }
    return sd15.SD_VAE_CONFIG


def _random_controlnet(unet: UNet2DConditionModel, size: Size) -> ControlNetModel:
    """A ControlNet shaped like ``unet`` with random weights, zero convolutions included.

    Training starts ControlNet's output convolutions at zero so it begins as a no-op; random
    weights do not, so that the tests can see its residuals reach the UNet.
    """
    embedding = (8, 8, 16, 16) if size == "tiny" else (16, 32, 96, 256)
    controlnet: ControlNetModel = ControlNetModel.from_unet(
        unet, conditioning_embedding_out_channels=embedding, load_weights_from_unet=False
    )
    zero_convs = [
        controlnet.controlnet_cond_embedding.conv_out,
        *controlnet.controlnet_down_blocks,
        controlnet.controlnet_mid_block,
    ]
    for conv in zero_convs:
        cast(torch.nn.Conv2d, conv).reset_parameters()
    return controlnet


def _to_uint8(images: torch.Tensor) -> list[RGB]:
    array = images.float().clamp(-1, 1).add(1).mul(127.5).round().permute(0, 2, 3, 1).cpu().numpy()
    array = np.nan_to_num(array, nan=127.0)
    return [np.ascontiguousarray(a.astype(np.uint8)) for a in array]


def _control_tensor(images: Sequence[RGB], width: int, height: int) -> torch.Tensor:
    """Control images at the output size as (N, 3, H, W) in [0, 1], the range ControlNets are trained on."""
    resized = []
    for image in images:
        rgb = np.ascontiguousarray(np.asarray(image, dtype=np.uint8)[..., :3])
        if rgb.shape[:2] != (height, width):
            shrink = rgb.shape[0] > height or rgb.shape[1] > width
            interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
            rgb = np.asarray(cv2.resize(rgb, (width, height), interpolation=interpolation), dtype=np.uint8)
        resized.append(rgb)
    array = np.stack(resized).astype(np.float32) / 255.0
    return torch.from_numpy(array).permute(0, 3, 1, 2).contiguous()


# -- the pipeline --------------------------------------------------------------------------------


class TextToImage:
    """Prompts (and optionally a pose or edge image) to pictures, several in one denoising loop.

    ``generate`` needs every request of a call to share width, height, steps and control kind
    (``GenerationRequest.batch_key``); seeds, prompts, guidance and control scales may differ.
    Not thread-safe: the server's ``ImageGenServing`` runs it under a lock.
    """

    def __init__(
        self,
        unet: UNet2DConditionModel,
        vae: AutoencoderKL,
        scheduler: DDIMScheduler,
        text_encoder: TextEncoder,
        *,
        controlnets: dict[ControlKind, ControlNetModel] | None = None,
        name: str = "sd15",
        device: str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        self.device = torch.device(device or sd15.default_device())
        self.dtype = dtype or sd15.default_dtype(self.device.type)
        if int(unet.config["in_channels"]) != 4:
            raise ValueError(
                f"a text-to-image UNet takes 4 latent channels, this one {unet.config['in_channels']}"
            )
        cross = int(unet.config["cross_attention_dim"])
        if text_encoder.dim != cross:
            raise ValueError(
                f"the text encoder gives {text_encoder.dim}-d states, the UNet attends to {cross}"
            )
        self.unet = sd15.place(unet, self.device, self.dtype)
        self.vae = sd15.place(vae, self.device, self.dtype)
        self.scheduler = scheduler
        self.text_encoder = text_encoder
        self.controlnets = {k: sd15.place(c, self.device, self.dtype) for k, c in (controlnets or {}).items()}
        self.name = name
        self.vae_factor = 2 ** (len(vae.config["block_out_channels"]) - 1)
        self.scaling_factor = float(vae.config["scaling_factor"])

    # -- construction --------------------------------------------------------------------------

    @classmethod
    def random(
        cls,
        size: Size = "tiny",
        *,
        seed: int = 0,
        controls: Sequence[ControlKind] = CONTROL_KINDS,
        device: str | None = None,
        dtype: torch.dtype | None = None,
    ) -> TextToImage:
        """The architecture with random weights, whose pictures are noise: for tests and benchmarks."""
        sd15.check_size(size)
        with sd15.random_init(device, seed) as target:
            unet = UNet2DConditionModel(**sd15.unet_config(size, in_channels=4))
            vae = AutoencoderKL(**_vae_config(size))
            controlnets = {kind: _random_controlnet(unet, size) for kind in controls}
        encoder = HashingTextEncoder(int(unet.config["cross_attention_dim"]), seed=seed)
        return cls(
            unet,
            vae,
            sd15.scheduler(),
            encoder,
            controlnets=controlnets,
            name=f"random-{size}",
            device=str(target),
            dtype=dtype,
        )

    @classmethod
    def from_folder(
        cls, path: str | Path, *, device: str | None = None, dtype: torch.dtype | None = None
    ) -> TextToImage:
        """A local diffusers folder: ``unet/``, ``vae/``, ``scheduler/``, optionally
        ``controlnet/pose/`` and ``controlnet/edges/``, and either ``hashing_text_encoder.safetensors``
        (a saved random model) or ``text_encoder/`` + ``tokenizer/`` (CLIP; needs ``transformers``)."""
        folder = sd15.weights_folder(path)
        target = device or sd15.default_device()
        torch_dtype = dtype or sd15.default_dtype(torch.device(target).type)
        unet, vae, scheduler = sd15.load_core(folder, torch_dtype)
        common: dict[str, Any] = {"local_files_only": True, "torch_dtype": torch_dtype}
        controlnets: dict[ControlKind, ControlNetModel] = {}
        for kind in CONTROL_KINDS:
            if (folder / "controlnet" / kind).is_dir():
                loaded = ControlNetModel.from_pretrained(folder / "controlnet" / kind, **common)
                controlnets[kind] = cast(ControlNetModel, loaded)
        encoder: TextEncoder
        if (folder / HASHING_ENCODER_FILE).is_file():
            encoder = HashingTextEncoder.load(folder / HASHING_ENCODER_FILE)
        else:
            encoder = CLIPTextEncoder(folder, device=target, dtype=torch_dtype)
        settings: dict[str, Any] = {"name": folder.name}
        if (folder / PIPELINE_CONFIG).is_file():
            settings.update(json.loads((folder / PIPELINE_CONFIG).read_text()))
        return cls(
            unet,
            vae,
            scheduler,
            encoder,
            controlnets=controlnets,
            name=str(settings["name"]),
            device=target,
            dtype=torch_dtype,
        )

    def save(self, path: str | Path) -> None:
        """Write a folder ``from_folder`` reads back into the same pipeline.

        A CLIP text encoder is not written: copy ``text_encoder/`` and ``tokenizer/`` from the source.
        """
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        self.unet.save_pretrained(folder / "unet")
        self.vae.save_pretrained(folder / "vae")
        self.scheduler.save_pretrained(folder / "scheduler")
        for kind, controlnet in self.controlnets.items():
            controlnet.save_pretrained(folder / "controlnet" / kind)
        if isinstance(self.text_encoder, HashingTextEncoder):
            self.text_encoder.save(folder / HASHING_ENCODER_FILE)
        (folder / PIPELINE_CONFIG).write_text(json.dumps({"name": self.name}, indent=2) + "\n")

    @property
    def control_kinds(self) -> list[ControlKind]:
        return sorted(self.controlnets)

    # -- inference -----------------------------------------------------------------------------

    def generate(self, requests: list[GenerationRequest]) -> list[GeneratedImage]:
        """Pictures for requests sharing one ``batch_key``, in one denoising loop."""
        if not requests:
            return []
        keys = {r.batch_key for r in requests}
        if len(keys) != 1:
            raise ValueError(
                f"a batch must share width, height, steps and control kind, got {sorted(keys, key=str)}"
            )
        width, height, steps, kind = keys.pop()
        if width % self.vae_factor or height % self.vae_factor or width <= 0 or height <= 0:
            raise ValueError(f"width and height must be positive multiples of {self.vae_factor}")
        if steps < 1:
            raise ValueError("steps must be at least 1")
        controlnet = None
        if kind is not None:
            controlnet = self.controlnets.get(cast(ControlKind, kind))
            if controlnet is None:
                raise ControlUnavailable(kind, self.control_kinds)
        start = time.perf_counter()
        with torch.inference_mode():
            guidance = [float(r.guidance_scale) for r in requests]
            guided = any(g != 1.0 for g in guidance)
            prompts = [r.prompt for r in requests]
            texts = [r.negative_prompt for r in requests] + prompts if guided else prompts
            states = self.text_encoder.encode(texts).to(self.device, self.dtype)
            encoded = time.perf_counter()
            control = None
            if controlnet is not None:
                control = self._control(requests, width, height, guided)
            latents = self._denoise(requests, states, guidance, steps, width, height, controlnet, control)
            denoised = time.perf_counter()
            decoded_images = self.vae.decode(latents / self.scaling_factor, return_dict=False)[0]
            images = _to_uint8(cast(torch.Tensor, decoded_images))
            decoded = time.perf_counter()
        timings = {
            "encode_text": round((encoded - start) * 1000, 2),
            "denoise": round((denoised - encoded) * 1000, 2),
            "decode": round((decoded - denoised) * 1000, 2),
        }
        return [
            GeneratedImage(rgb=image, seed=r.seed, timings_ms=dict(timings))
            for r, image in zip(requests, images, strict=True)
        ]

    def _control(
        self, requests: list[GenerationRequest], width: int, height: int, guided: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The control images and their per-request scales, doubled for guidance's two branches."""
        controls = [r.control for r in requests]
        assert all(c is not None for c in controls)
        images = _control_tensor([c.image for c in controls if c is not None], width, height)
        scales = torch.tensor([c.scale for c in controls if c is not None], dtype=torch.float32)
        if guided:
            images, scales = torch.cat([images, images]), torch.cat([scales, scales])
        return images.to(self.device, self.dtype), scales.to(self.device, self.dtype)[:, None, None, None]

    def _noise(self, seeds: list[int], shape: tuple[int, ...]) -> torch.Tensor:
        """Noise drawn on the CPU per request: the same seed gives the same picture on any
        device and in any batch."""
        draws = [torch.randn(shape, generator=torch.Generator("cpu").manual_seed(s)) for s in seeds]
        return torch.stack(draws).to(self.device, self.dtype)

    def _denoise(
        self,
        requests: list[GenerationRequest],
        states: torch.Tensor,
        guidance: list[float],
        steps: int,
        width: int,
        height: int,
        controlnet: ControlNetModel | None,
        control: tuple[torch.Tensor, torch.Tensor] | None,
    ) -> torch.Tensor:
        scheduler = cast(DDIMScheduler, DDIMScheduler.from_config(self.scheduler.config))
        scheduler.set_timesteps(steps, device=self.device)
        shape = (4, height // self.vae_factor, width // self.vae_factor)
        latents = self._noise([r.seed for r in requests], shape) * float(scheduler.init_noise_sigma)
        guided = states.shape[0] != latents.shape[0]
        scale = torch.tensor(guidance, device=self.device, dtype=self.dtype)[:, None, None, None]
        for t in scheduler.timesteps:
            model_in = torch.cat([latents, latents]) if guided else latents
            model_in = scheduler.scale_model_input(model_in, t)
            extra: dict[str, Any] = {}
            if controlnet is not None and control is not None:
                image, control_scale = control
                down, mid = controlnet(
                    model_in, t, encoder_hidden_states=states, controlnet_cond=image, return_dict=False
                )
                # Per-request strength: scale the residuals ourselves, so a batch may mix strengths.
                extra = {
                    "down_block_additional_residuals": [d * control_scale for d in down],
                    "mid_block_additional_residual": mid * control_scale,
                }
            noise = self.unet(model_in, t, encoder_hidden_states=states, return_dict=False, **extra)[0]
            if guided:
                uncond, cond = noise.chunk(2)
                noise = uncond + scale * (cond - uncond)
            latents = scheduler.step(noise, t, latents, return_dict=False)[0]
        return latents


# -- control images ------------------------------------------------------------------------------

# OpenPose's 18 COCO keypoints, from MediaPipe's 33 (the neck is the shoulders' midpoint).
_OPENPOSE_POINTS = (
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
    "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
    "right_eye", "left_eye", "right_ear", "left_ear",
)  # fmt: skip
# OpenPose's limbs (0-based keypoint pairs) and colours, as the pose ControlNets were trained on.
_OPENPOSE_LIMBS = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12),
    (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17),
)  # fmt: skip
_OPENPOSE_COLOURS = (
    (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0), (0, 255, 0),
    (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255), (0, 0, 255), (85, 0, 255),
    (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85),
)  # fmt: skip
_MIN_VISIBILITY = 0.5


def _openpose_points(rgb: RGB) -> dict[int, tuple[float, float]]:
    """Visible OpenPose keypoints in pixels; empty when MediaPipe finds nobody."""
    from tools.wardrobe.images import resize_max_side
    from tools.wardrobe.segment import _MP

    h, w = rgb.shape[:2]
    landmarks = _MP.landmarks(resize_max_side(np.ascontiguousarray(rgb[..., :3]), 512))
    if landmarks is None:
        return {}
    points: dict[int, tuple[float, float]] = {}
    for index, name in enumerate(_OPENPOSE_POINTS):
        if name == "neck":
            left, right = landmarks["left_shoulder"], landmarks["right_shoulder"]
            if min(left[2], right[2]) < _MIN_VISIBILITY:
                continue
            x, y = (left[0] + right[0]) / 2, (left[1] + right[1]) / 2
        else:
            x, y, visibility = landmarks[name]
            if visibility < _MIN_VISIBILITY:
                continue
        points[index] = (x * w, y * h)
    return points


def pose_control_image(rgb: RGB) -> RGB:
    """An OpenPose-style skeleton of the person in ``rgb`` on black, the size of ``rgb``: the
    conditioning image a pose ControlNet expects.

    A picture where MediaPipe finds nobody gives an all-black image rather than an error: to a
    pose ControlNet that means "no pose", so the caller still gets a (prompt-only) picture.
    """
    h, w = rgb.shape[:2]
    canvas = np.zeros((h, w, 3), dtype=np.uint8)
    points = _openpose_points(rgb)
    if not points:
        return canvas
    thickness = max(2, round(max(h, w) / 128))
    for (a, b), colour in zip(_OPENPOSE_LIMBS, _OPENPOSE_COLOURS, strict=False):
        if a in points and b in points:
            pa = (round(points[a][0]), round(points[a][1]))
            pb = (round(points[b][0]), round(points[b][1]))
            dimmed = tuple(int(c * 0.6) for c in colour)
            cv2.line(canvas, pa, pb, dimmed, thickness, lineType=cv2.LINE_AA)
    for index, (x, y) in points.items():
        cv2.circle(canvas, (round(x), round(y)), thickness + 1, _OPENPOSE_COLOURS[index], -1, cv2.LINE_AA)
    return canvas


def edges_control_image(rgb: RGB, low: int = 100, high: int = 200) -> RGB:
    """Canny edges, white on black, the conditioning image an edge (canny) ControlNet expects."""
    grey = cv2.cvtColor(np.ascontiguousarray(rgb[..., :3]), cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(grey, low, high)
    return np.ascontiguousarray(np.repeat(edges[..., None], 3, axis=2))
