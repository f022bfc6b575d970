"""EmbeddedLLMServer: a real child process on a free port, and the reasons it fails to start."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from model_servers.llm.client import LLMClient
from model_servers.llm.process import EmbeddedLLMServer, EmbeddedServerError
from tests.model_servers.llm.conftest import MODEL

if TYPE_CHECKING:
    from model_servers.llm.serving import LlamaEngine

pytestmark = pytest.mark.unit


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.slow
def test_child_serves_completions_and_stops(engine: LlamaEngine) -> None:
    # ``engine`` only makes sure llama.cpp and the model are installed; the child loads its own.
    server = EmbeddedLLMServer(port=free_port(), startup_timeout_s=60)

    async def go() -> tuple[bool, str, int | None]:
        async with server:
            assert server.running
            async with LLMClient(server.url, MODEL) as client:
                healthy = await client.health()
                text = await client.complete([{"role": "user", "content": "Say hello."}], max_tokens=5)
            process = server._process
        assert process is not None
        return healthy, text, process.returncode

    healthy, text, returncode = asyncio.run(go())
    assert healthy
    assert text.strip()
    assert returncode is not None  # stopped, not left running
    assert not server.running
    assert "loaded" in server.stderr_tail


def test_missing_model_file_fails_with_the_childs_reason(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")  # without it the child fails earlier, on the import
    server = EmbeddedLLMServer(port=free_port(), model_path=tmp_path / "missing.gguf", startup_timeout_s=30)
    with pytest.raises(EmbeddedServerError, match=r"exited with status 2(.|\n)*model file not found"):
        asyncio.run(server.start())
    assert not server.running


@pytest.mark.slow
def test_corrupt_model_file_fails_with_the_childs_reason(engine: LlamaEngine, tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.gguf"
    corrupt.write_bytes(b"GGUF" + b"\0" * 64)
    server = EmbeddedLLMServer(port=free_port(), model_path=corrupt, startup_timeout_s=30)
    with pytest.raises(
        EmbeddedServerError, match=r"exited with status 3(.|\n)*Failed to load model from file"
    ):
        asyncio.run(server.start())


def test_server_that_never_gets_healthy_is_stopped_at_the_deadline(tmp_path: Path) -> None:
    # A child that runs but never listens: python itself, sleeping, stands in for a hung server.
    hung = tmp_path / "hung.py"
    hung.write_text("import sys, time\nprint('warming up', file=sys.stderr, flush=True)\ntime.sleep(60)\n")
    server = EmbeddedLLMServer(port=free_port(), startup_timeout_s=1.5)
    server._command = lambda: [server.python, str(hung)]  # type: ignore[method-assign]
    with pytest.raises(EmbeddedServerError, match=r"did not answer /health within 1.5 s(.|\n)*warming up"):
        asyncio.run(server.start())
    assert not server.running


def test_from_settings_uses_the_embedded_port_and_model() -> None:
    from core.config import LLMSettings

    server = EmbeddedLLMServer.from_settings(
        LLMSettings(provider="embedded", embedded_port=9555, embedded_model_path=Path("m.gguf"))
    )
    assert server.url == "http://127.0.0.1:9555/v1"
    assert server.model_name == MODEL
    assert "--model-path" in server._command()
