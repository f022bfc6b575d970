"""What the two diffusion servers share: Stable Diffusion 1.5's architecture and placement.

Both the try-on engine (an SD-1.5-inpainting UNet, 9 input channels) and text-to-image (the plain
SD-1.5 UNet, 4) are built from these configs when they are made with random weights, so a
benchmark measures the published architecture, and from a weights folder otherwise.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

import torch
from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL
from diffusers.models.unets.unet_2d_condition import UNet2DConditionModel
from diffusers.schedulers.scheduling_ddim import DDIMScheduler

Size = Literal["tiny", "full"]
_M = TypeVar("_M", bound=torch.nn.Module)


def scheduler() -> DDIMScheduler:
    """SD-1.5's training noise schedule, sampled with DDIM."""
    return cast(
        DDIMScheduler,
        DDIMScheduler(
            num_train_timesteps=1000,
            beta_start=0.00085,
            beta_end=0.012,
            beta_schedule="scaled_linear",
            clip_sample=False,
            set_alpha_to_one=False,
            steps_offset=1,
            prediction_type="epsilon",
        ),
    )


def unet_config(size: Size, in_channels: int) -> dict[str, Any]:
    """SD-1.5's UNet (``full``; runwayml/stable-diffusion-v1-5 and -inpainting, unet/config.json),
    or a two-block miniature of it (``tiny``) for CPU tests."""
    if size == "tiny":
        return {
            "in_channels": in_channels,
            "out_channels": 4,
            "block_out_channels": (32, 64),
            "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D"),
            "up_block_types": ("CrossAttnUpBlock2D", "UpBlock2D"),
            "layers_per_block": 1,
            "attention_head_dim": 4,
            "cross_attention_dim": 32,
            "norm_num_groups": 16,
            "sample_size": 32,
        }
    return {
        "in_channels": in_channels,
        "out_channels": 4,
        "block_out_channels": (320, 640, 1280, 1280),
        "down_block_types": ("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        "up_block_types": ("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
        "layers_per_block": 2,
        "attention_head_dim": 8,
        "cross_attention_dim": 768,
        "norm_num_groups": 32,
        "sample_size": 64,
    }


#: Stable Diffusion's VAE (the one SD-1.5 and SD-1.5-inpainting ship): 1/8 of the image, 4 channels.
SD_VAE_CONFIG: dict[str, Any] = {
    "in_channels": 3,
    "out_channels": 3,
    "block_out_channels": (128, 256, 512, 512),
    "down_block_types": ("DownEncoderBlock2D",) * 4,
    "up_block_types": ("UpDecoderBlock2D",) * 4,
    "layers_per_block": 2,
    "latent_channels": 4,
    "norm_num_groups": 32,
    "sample_size": 512,
    "scaling_factor": 0.18215,
}


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def default_dtype(device: str) -> torch.dtype:
    return torch.float16 if device.startswith("cuda") else torch.float32


def place(model: _M, device: torch.device, dtype: torch.dtype) -> _M:
    """``model`` on ``device`` in ``dtype``, in eval mode. Plain ``nn.Module.to``: these models
    keep no module in float32, so diffusers' warning about casting after loading does not apply."""
    torch.nn.Module.to(model, device=device, dtype=dtype)
    model.eval()
    return model


def check_size(size: str) -> None:
    if size not in ("tiny", "full"):
        raise ValueError(f"size must be 'tiny' or 'full', got {size!r}")


@contextlib.contextmanager
def random_init(device: str | None, seed: int) -> Iterator[torch.device]:
    """Build random-weight models inside this block: seeded without touching the caller's random
    state, and directly on the target device (a full UNet's random init on the CPU is slow)."""
    target = torch.device(device or default_device())
    forked = [target.index or 0] if target.type == "cuda" else []
    with torch.random.fork_rng(devices=forked), torch.device(target):
        torch.manual_seed(seed)
        yield target


def weights_folder(path: str | Path) -> Path:
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"no weights folder at {folder}")
    return folder


def load_core(folder: Path, dtype: torch.dtype) -> tuple[UNet2DConditionModel, AutoencoderKL, DDIMScheduler]:
    """The UNet, VAE and scheduler of a diffusers folder, read locally only (nothing is downloaded)."""
    common: dict[str, Any] = {"local_files_only": True, "torch_dtype": dtype}
    unet = UNet2DConditionModel.from_pretrained(folder, subfolder="unet", **common)
    vae = AutoencoderKL.from_pretrained(folder, subfolder="vae", **common)
    scheduler = DDIMScheduler.from_pretrained(folder, subfolder="scheduler", local_files_only=True)
    return cast(UNet2DConditionModel, unet), cast(AutoencoderKL, vae), cast(DDIMScheduler, scheduler)
