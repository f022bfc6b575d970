"""``python -m model_servers.imagegen``: serve text-to-image over HTTP with uvicorn.

    python -m model_servers.imagegen --weights /models/sd15 --port 8093 --max-batch 4
    python -m model_servers.imagegen --random-weights tiny      # smoke tests only: NOISE

``--weights`` is a local diffusers folder (``unet/ vae/ scheduler/ text_encoder/ tokenizer/``,
optionally ``controlnet/pose/`` and ``controlnet/edges/``); nothing is downloaded. Its CLIP text
encoder needs the ``transformers`` package. ``--random-weights`` builds the SD-1.5 architecture
with random weights and a hashing text encoder instead: its pictures are noise, for smoke tests
and benchmarks only.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from fastapi import FastAPI

from model_servers.imagegen.app import create_app
from model_servers.imagegen.pipeline import TextToImage
from model_servers.serve import add_batching, run, server_parser, trace_server, warn_random_weights

logger = logging.getLogger("model_servers.imagegen")


def parser() -> argparse.ArgumentParser:
    p = server_parser("python -m model_servers.imagegen", __doc__, 8093)
    weights = p.add_mutually_exclusive_group(required=True)
    weights.add_argument("--weights", default=None, help="a local diffusers folder")
    weights.add_argument(
        "--random-weights",
        choices=["tiny", "full"],
        default=None,
        help="random weights instead of --weights (outputs are NOISE; tests and benchmarks only)",
    )
    p.add_argument("--device", default=None, help="cuda or cpu (default: cuda when there is one)")
    add_batching(p, 4)
    return p


def build_pipeline(args: argparse.Namespace) -> TextToImage:
    if args.random_weights:
        warn_random_weights(
            logger, "text-to-image server (its hashing text encoder understands nothing)", args.random_weights
        )
        return TextToImage.random(args.random_weights, device=args.device)
    return TextToImage.from_folder(args.weights, device=args.device)


def build_app(args: argparse.Namespace) -> FastAPI:
    return create_app(build_pipeline(args), max_batch=args.max_batch, max_wait_ms=args.max_wait_ms)


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    trace_server("innovation-kun-imagegen")
    run(build_app(args), args)


if __name__ == "__main__":
    main()
