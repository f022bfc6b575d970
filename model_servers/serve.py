"""The command line every model server shares: where to listen, how to log, how batches form, and
how random weights are announced; then uvicorn."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Sequence

import uvicorn
from fastapi import FastAPI

from core.logging import configure_logging


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def server_parser(prog: str, doc: str | None, port: int) -> argparse.ArgumentParser:
    """``--host``, ``--port`` and ``--log-level``; servers add their own options."""
    parser = argparse.ArgumentParser(
        prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: loopback)")
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return parser


def add_batching(parser: argparse.ArgumentParser, default_batch: int | None) -> None:
    parser.add_argument(
        "--max-batch", type=positive, default=default_batch, help="requests run together on the accelerator"
    )
    parser.add_argument("--max-wait-ms", type=float, default=10.0, help="how long a batch waits to fill (ms)")


def warn_random_weights(logger: logging.Logger, what: str, size: str) -> None:
    """Say loudly that a server built from random weights answers with noise."""
    logger.warning(
        "RANDOM WEIGHTS (%s): the %s's pictures are NOISE. Use this for smoke tests and benchmarks only, "
        "never for people.",
        size,
        what,
    )


def run(app: FastAPI, args: argparse.Namespace) -> None:
    configure_logging(args.log_level)
    uvicorn.run(app, host=args.host, port=args.port, log_config=None)


def serve(
    prog: str, doc: str | None, create_app: Callable[[], FastAPI], port: int, argv: Sequence[str] | None
) -> None:
    """A server with no options of its own."""
    args = server_parser(prog, doc, port).parse_args(argv)
    run(create_app(), args)
