"""``python -m model_servers.tryon``: serve virtual try-on over HTTP with uvicorn.

    python -m model_servers.tryon --host 127.0.0.1 --port 8092
    python -m model_servers.tryon --engine diffusion --weights /models/catvton --max-batch 4

The API (or a ``python -m tools.tryon worker``) uses it with ``IK_TRYON__ENGINE=model_server``
and ``IK_TRYON__MODEL_SERVER_URL=http://127.0.0.1:8092``.

``--engine geometric`` (the default) is the embedded CPU engine. ``--engine diffusion`` is the
CatVTON-style engine (``model_servers.tryon.diffusion``; needs the ``diffusion`` extra and, to be
useful, a GPU): its weights come from a local diffusers folder (``--weights``). ``--random-weights``
builds the architecture with random weights instead, for smoke tests and benchmarks only: its
pictures are noise.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from fastapi import FastAPI

from model_servers.serve import (
    add_batching,
    positive,
    run,
    server_parser,
    trace_server,
    warn_random_weights,
)
from model_servers.tryon.app import create_app
from tools.tryon.engine import TryOnEngine

logger = logging.getLogger("model_servers.tryon")


def parser() -> argparse.ArgumentParser:
    p = server_parser("python -m model_servers.tryon", __doc__, 8092)
    p.add_argument("--engine", choices=["geometric", "diffusion"], default="geometric")
    p.add_argument(
        "--weights", default=None, help="diffusion: a local diffusers folder (unet/ vae/ scheduler/)"
    )
    p.add_argument(
        "--random-weights",
        choices=["tiny", "full"],
        default=None,
        help="diffusion: random weights instead of --weights (outputs are NOISE; tests and benchmarks only)",
    )
    p.add_argument("--steps", type=positive, default=None, help="diffusion: denoising steps (default 30)")
    p.add_argument("--height", type=positive, default=None, help="diffusion: model height (default 1024)")
    p.add_argument("--width", type=positive, default=None, help="diffusion: model width (default 768)")
    p.add_argument("--device", default=None, help="diffusion: cuda or cpu (default: cuda when there is one)")
    add_batching(p, None)  # default: 4 for diffusion, 1 for geometric
    return p


def build_engine(args: argparse.Namespace) -> TryOnEngine:
    if args.engine == "geometric":
        from tools.tryon.geometric import GeometricEngine

        return GeometricEngine()
    from model_servers.tryon.diffusion import DiffusionTryOnEngine

    settings = {
        key: value
        for key, value in (
            ("num_inference_steps", args.steps),
            ("height", args.height),
            ("width", args.width),
        )
        if value is not None
    }
    if args.random_weights:
        warn_random_weights(logger, "diffusion try-on engine", args.random_weights)
        return DiffusionTryOnEngine.random(args.random_weights, device=args.device, **settings)
    return DiffusionTryOnEngine.from_folder(args.weights, device=args.device, **settings)


def build_app(args: argparse.Namespace) -> FastAPI:
    engine = build_engine(args)
    max_batch = args.max_batch or (4 if args.engine == "diffusion" else 1)
    return create_app(engine, max_batch=max_batch, max_wait_ms=args.max_wait_ms)


def main(argv: Sequence[str] | None = None) -> None:
    p = parser()
    args = p.parse_args(argv)
    if args.engine == "diffusion" and not (args.weights or args.random_weights):
        p.error("--engine diffusion needs --weights PATH (or --random-weights tiny|full for a smoke test)")
    if args.weights and args.random_weights:
        p.error("--weights and --random-weights exclude each other")
    if args.engine == "geometric" and (args.weights or args.random_weights):
        p.error("--weights and --random-weights are for --engine diffusion")
    trace_server("innovation-kun-tryon")
    run(build_app(args), args)


if __name__ == "__main__":
    main()
