"""Run the embedded LLM server as a child process of the API or the CLI.

A child process rather than an in-process model: llama.cpp holds the GIL-free
CPU cores for seconds at a time and is not thread-safe, and a crash in native
code must not take the API down. The child listens on loopback only, logs JSON
lines that are re-logged here at their own level, and exits by itself when its
parent dies (its stdin pipe closes), so it never lingers holding the port.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import time
from collections import deque
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

import httpx

from model_servers.llm.client import LLMError
from model_servers.llm.protocol import DEFAULT_MODEL_NAME

if TYPE_CHECKING:
    from core.config import LLMSettings

logger = logging.getLogger(__name__)

_STDERR_TAIL_LINES = 40


class EmbeddedServerError(LLMError):
    """The embedded server could not be started; the message carries the child's last stderr lines."""


class EmbeddedLLMServer:
    """``python -m model_servers.llm`` on ``127.0.0.1:<port>``, started and stopped by its owner.

    async with EmbeddedLLMServer(port=8089) as server:
        client = LLMClient(server.url, server.model_name)
    """

    def __init__(
        self,
        *,
        port: int,
        host: str = "127.0.0.1",
        model_path: Path | None = None,
        model_name: str = DEFAULT_MODEL_NAME,
        startup_timeout_s: float = 60.0,
        stop_grace_s: float = 10.0,
        python: str = sys.executable,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.host = host
        self.port = port
        self.model_path = model_path
        self.model_name = model_name
        self.startup_timeout_s = startup_timeout_s
        self.stop_grace_s = stop_grace_s
        self.python = python
        self.extra_args = extra_args
        self._process: asyncio.subprocess.Process | None = None
        self._stderr_tail: deque[str] = deque(maxlen=_STDERR_TAIL_LINES)
        self._reader: asyncio.Task[None] | None = None

    @classmethod
    def from_settings(cls, llm: LLMSettings, *, startup_timeout_s: float = 60.0) -> EmbeddedLLMServer:
        """The server ``IK_LLM__PROVIDER=embedded`` asks for (port, GGUF file, served model name)."""
        return cls(
            port=llm.embedded_port,
            model_path=llm.embedded_model_path,
            model_name=llm.model,
            startup_timeout_s=startup_timeout_s,
        )

    @property
    def url(self) -> str:
        """The OpenAI-compatible base URL, for :class:`model_servers.llm.client.LLMClient`."""
        return f"http://{self.host}:{self.port}/v1"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    @property
    def stderr_tail(self) -> str:
        return "\n".join(self._stderr_tail)

    def _command(self) -> list[str]:
        command = [
            self.python,
            "-m",
            "model_servers.llm",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--model-name",
            self.model_name,
            "--log-json",
            "--exit-on-stdin-eof",
        ]
        if self.model_path is not None:
            # Absolute: the child runs from the repository root, not from our working directory.
            command += ["--model-path", str(self.model_path.resolve())]
        return command + list(self.extra_args)

    async def start(self) -> None:
        """Start the child and return once ``/health`` answers; raise :class:`EmbeddedServerError` if not."""
        if self.running:
            return
        self._stderr_tail.clear()
        started = time.monotonic()
        self._process = await asyncio.create_subprocess_exec(
            *self._command(),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            # Run from the repository root so ``-m model_servers.llm`` resolves without an install.
            cwd=Path(__file__).resolve().parents[2],
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            limit=1024 * 1024,  # longest stderr line read whole (a long traceback line, a big JSON log)
        )
        self._reader = asyncio.create_task(self._read_stderr(self._process))
        try:
            await self._wait_healthy(started)
        except BaseException:
            await self.stop()
            raise
        logger.info(
            "embedded LLM server ready at %s (pid %d) after %.1f s",
            self.url,
            self._process.pid,
            time.monotonic() - started,
        )

    async def _wait_healthy(self, started: float) -> None:
        process = self._process
        assert process is not None
        deadline = started + self.startup_timeout_s
        async with httpx.AsyncClient(timeout=httpx.Timeout(2.0)) as http:
            while True:
                if process.returncode is not None:
                    await self._drain_stderr()
                    raise EmbeddedServerError(
                        f"the embedded LLM server exited with status {process.returncode} during start-up; "
                        f"its stderr ends with:\n{self.stderr_tail or '(nothing)'}"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    response = await http.get(f"http://{self.host}:{self.port}/health")
                    if response.status_code == 200:
                        return
                if time.monotonic() >= deadline:
                    raise EmbeddedServerError(
                        "the embedded LLM server did not answer /health within "
                        f"{self.startup_timeout_s:g} s; its stderr ends with:\n"
                        f"{self.stderr_tail or '(nothing)'}"
                    )
                # Sleep on the child's exit, so a crash is noticed at once rather than at the next poll.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(process.wait()), timeout=0.2)

    async def _read_stderr(self, process: asyncio.subprocess.Process) -> None:
        """Keep the last lines for error messages and re-log each at the child's level.

        The pipe must be drained continuously: a child blocked on a full pipe stops serving.
        """
        assert process.stderr is not None
        async for raw in process.stderr:
            line = raw.decode("utf-8", errors="replace").rstrip()
            if not line:
                continue
            self._stderr_tail.append(self._relog(line))

    @staticmethod
    def _relog(line: str) -> str:
        """Log one child line at its own level; return it as plain text for error messages."""
        try:
            entry = json.loads(line)
        except ValueError:
            entry = None
        if not (isinstance(entry, dict) and "msg" in entry):
            logger.info("[llm] %s", line)
            return line
        level_name = str(entry.get("level", "INFO"))
        level = logging.getLevelName(level_name)
        logger.log(level if isinstance(level, int) else logging.INFO, "[llm] %s", entry["msg"])
        text = f"{level_name} {entry.get('logger', '')}: {entry['msg']}"
        return f"{text}\n{entry['exc']}" if entry.get("exc") else text

    async def _drain_stderr(self) -> None:
        if self._reader is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._reader), timeout=2.0)

    async def stop(self) -> None:
        """Ask the child to shut down (SIGTERM), kill it after ``stop_grace_s``; safe to call twice."""
        process, self._process = self._process, None
        if process is not None:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):  # it exited just now
                    process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), timeout=self.stop_grace_s)
                except TimeoutError:
                    logger.warning("embedded LLM server (pid %d) ignored SIGTERM; killing it", process.pid)
                    with contextlib.suppress(ProcessLookupError):
                        process.kill()
                    await process.wait()
            if process.stdin is not None:
                process.stdin.close()
        if self._reader is not None:
            await self._drain_stderr()
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()
