"""The command line every model server shares: where to listen, how to log, how batches form, how
random weights are announced and how traces are exported; then uvicorn."""

from __future__ import annotations

import argparse
import atexit
import logging
from collections.abc import Callable, Sequence

import uvicorn
from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from opentelemetry.sdk.trace import TracerProvider
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.config import Environment, TelemetrySettings
from core.logging import configure_logging
from core.telemetry import current_provider, fastapi_telemetry, shutdown_tracing, start_tracing


class _TracingEnvironment(BaseSettings):
    """The API's ``IK_TELEMETRY__*`` and ``IK_ENVIRONMENT`` variables, without its other settings
    (a model server has no database or secret key to validate)."""

    model_config = SettingsConfigDict(env_prefix="IK_", env_nested_delimiter="__", extra="ignore")

    environment: Environment = "production"
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)


def trace_server(service_name: str) -> TracerProvider | None:
    """Start tracing for this server process as ``IK_TELEMETRY__*`` says (off by default).

    Spans carry ``service_name`` unless ``IK_TELEMETRY__SERVICE_NAME`` names the service
    explicitly, so one shared environment file gives each server its own name in Jaeger.
    Call it before building the app: :func:`app_telemetry` hands the provider to FastAPI, whose
    server spans continue the API's trace from the ``traceparent`` header its clients send.
    """
    found = _TracingEnvironment()
    telemetry = found.telemetry
    if "service_name" not in telemetry.model_fields_set:
        telemetry = telemetry.model_copy(update={"service_name": service_name})
    provider = start_tracing(telemetry, found.environment)
    if provider is not None:
        atexit.register(shutdown_tracing, provider)  # flush the last batch when uvicorn exits
    return provider


def app_telemetry() -> TelemetryConfig:
    """``FastAPI(telemetry=...)`` for a model server: the process's provider, or off."""
    return fastapi_telemetry(current_provider())


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
    prog: str,
    doc: str | None,
    create_app: Callable[[], FastAPI],
    port: int,
    argv: Sequence[str] | None,
    *,
    service_name: str,
) -> None:
    """A server with no options of its own."""
    args = server_parser(prog, doc, port).parse_args(argv)
    trace_server(service_name)
    run(create_app(), args)
