"""``python -m evals bench-tryon-gpu``: what the diffusion try-on engine costs on a GPU.

The engine is ``DiffusionTryOnEngine.random(size)``: SD-1.5-inpainting's UNet and SD's VAE
("full") with random weights, so the pictures are noise but every tensor has the size a real
CatVTON-style checkpoint gives it, and the time and memory are the ones serving would see.
Per batch size, after one warm-up batch: latency of a whole batch (p50/p95, ms), images per
second, and the peak GPU memory the batch allocated.

Without a CUDA device it reports ``skipped`` rather than CPU figures dressed up as GPU ones;
``device="cpu"`` (with ``size="tiny"``) is a smoke run of the same code path, labelled as such.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from core.config import REPO_ROOT
from evals.measure import machine, percentile

SUITE = "bench-tryon-gpu"
TEE = REPO_ROOT / "data" / "catalog" / "thumbnails" / "1529.jpg"


def _versions() -> dict[str, Any]:
    import diffusers
    import torch

    return {"torch": torch.__version__, "diffusers": diffusers.__version__, "cuda": torch.version.cuda}


def _inputs(height: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The astronaut at the model's resolution, a catalogue T-shirt, and a fixed torso region
    (no pose model: its time is not the engine's)."""
    import cv2
    from skimage import data as skdata

    from tools.wardrobe.images import load_image

    person = cv2.resize(skdata.astronaut(), (width, height), interpolation=cv2.INTER_AREA)  # type: ignore[no-untyped-call]
    garment = load_image(TEE.read_bytes()).rgb
    agnostic = np.zeros((height, width), dtype=bool)
    agnostic[int(height * 0.45) :, int(width * 0.15) : int(width * 0.85)] = True
    return np.asarray(person, dtype=np.uint8), garment, agnostic


def run(
    *,
    steps: int = 30,
    batch_sizes: Sequence[int] = (1, 4),
    height: int = 1024,
    width: int = 768,
    repeats: int = 5,
    size: Literal["tiny", "full"] = "full",
    device: str | None = None,
    guidance_scale: float = 2.5,
) -> dict[str, Any]:
    """Time the engine per batch size; ``device`` None means CUDA, or a ``skipped`` report."""
    import torch

    base: dict[str, Any] = {
        "suite": SUITE,
        "size": size,
        "steps": steps,
        "guidance_scale": guidance_scale,
        "resolution": {"height": height, "width": width},
        "machine": machine(),
        "versions": _versions(),
    }
    wanted = device or "cuda"
    if wanted.startswith("cuda") and not torch.cuda.is_available():
        return {**base, "device": wanted, "skipped": "no CUDA device on this machine"}
    on_cuda = wanted.startswith("cuda")
    base["device"] = wanted
    base["gpu"] = torch.cuda.get_device_name(torch.device(wanted)) if on_cuda else None
    if not on_cuda:
        base["note"] = "CPU smoke run of the code path: these figures say nothing about GPU serving"

    from model_servers.tryon.diffusion import DiffusionTryOnEngine
    from tools.tryon.engine import TryOnRequest

    started = time.perf_counter()
    engine = DiffusionTryOnEngine.random(
        size,
        height=height,
        width=width,
        device=wanted,
        num_inference_steps=steps,
        guidance_scale=guidance_scale,
    )
    if on_cuda:
        torch.cuda.synchronize()
    base["build_s"] = round(time.perf_counter() - started, 2)
    base["dtype"] = str(engine.dtype).removeprefix("torch.")
    base["parameters_m"] = {
        "unet": round(sum(p.numel() for p in engine.unet.parameters()) / 1e6, 1),
        "vae": round(sum(p.numel() for p in engine.vae.parameters()) / 1e6, 1),
    }
    person, garment, agnostic = _inputs(height, width)

    figures: list[dict[str, Any]] = []
    for batch in batch_sizes:
        requests = [
            TryOnRequest(person=person, garment=garment, kind="upper", agnostic=agnostic, seed=i)
            for i in range(batch)
        ]
        engine.run_batch(requests)  # warm-up: kernels chosen, memory pools grown
        if on_cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        latencies: list[float] = []
        stages: dict[str, list[float]] = {}
        for _ in range(repeats):
            t0 = time.perf_counter()
            results = engine.run_batch(requests)
            if on_cuda:
                torch.cuda.synchronize()
            latencies.append((time.perf_counter() - t0) * 1000)
            for stage, ms in results[0].timings_ms.items():
                stages.setdefault(stage, []).append(ms)
        p50 = percentile(latencies, 50)
        figures.append(
            {
                "batch": batch,
                "latency_ms": {"p50": p50, "p95": percentile(latencies, 95)},
                "images_per_s": round(batch / (p50 / 1000), 3) if p50 else None,
                "stages_ms_p50": {stage: percentile(v, 50) for stage, v in stages.items()},
                "peak_memory_mib": (round(torch.cuda.max_memory_allocated() / 2**20, 1) if on_cuda else None),
            }
        )
    return {**base, "repeats": repeats, "batches": figures}


def table(result: dict[str, Any]) -> str:
    res = result["resolution"]
    head = (
        f"diffusion try-on ({result['size']} random weights, {res['height']}×{res['width']}, "
        f"{result['steps']} steps, {result['device']})"
    )
    if "skipped" in result:
        return f"{head}: skipped, {result['skipped']}"
    lines = [head + (f", {result['gpu']}" if result.get("gpu") else "")]
    if result.get("note"):
        lines.append(f"  note: {result['note']}")
    for row in result["batches"]:
        memory = f"  peak {row['peak_memory_mib']} MiB" if row["peak_memory_mib"] is not None else ""
        lines.append(
            f"  batch {row['batch']:2d}  p50 {row['latency_ms']['p50']} ms  p95 {row['latency_ms']['p95']} ms"
            f"  {row['images_per_s']} img/s{memory}"
        )
    return "\n".join(lines)


def _batch_sizes(text: str) -> tuple[int, ...]:
    sizes = tuple(int(part) for part in text.split(",") if part.strip())
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("batch sizes are positive integers, e.g. 1,4")
    return sizes


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The suite's options, for ``python -m evals bench-tryon-gpu``; ``options`` maps them to ``run``."""
    parser.add_argument("--steps", type=int, default=30, help="denoising steps (default 30)")
    parser.add_argument(
        "--batch-sizes", type=_batch_sizes, default=(1, 4), help="comma-separated (default 1,4)"
    )
    parser.add_argument("--height", type=int, default=1024, help="model resolution (default 1024)")
    parser.add_argument("--width", type=int, default=768, help="model resolution (default 768)")
    parser.add_argument("--repeats", type=int, default=5, help="timed batches per batch size (default 5)")
    parser.add_argument("--size", choices=["tiny", "full"], default="full", help="model size (default full)")
    parser.add_argument(
        "--device", default=None, help="cuda (default; skipped without one) or cpu for a smoke run"
    )
    parser.add_argument(
        "--guidance-scale", type=float, default=2.5, help="1 turns guidance off (default 2.5)"
    )


def options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "steps": args.steps,
        "batch_sizes": args.batch_sizes,
        "height": args.height,
        "width": args.width,
        "repeats": args.repeats,
        "size": args.size,
        "device": args.device,
        "guidance_scale": args.guidance_scale,
    }
