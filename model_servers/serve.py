"""The command line every image model server shares: host, port, log level, then uvicorn."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

import uvicorn
from fastapi import FastAPI

from core.logging import configure_logging


def serve(
    prog: str, doc: str | None, create_app: Callable[[], FastAPI], port: int, argv: Sequence[str] | None
) -> None:
    parser = argparse.ArgumentParser(prog=prog, description=doc)
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: loopback)")
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    uvicorn.run(create_app(), host=args.host, port=args.port, log_config=None)
