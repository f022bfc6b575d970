"""The graph served by ``langgraph dev`` (``langgraph.json``), the way Agent Chat UI and Agent Inbox
use it: threads, runs, the support handoff as an Agent Inbox interrupt, and whose data a run uses.

The server runs as a subprocess from the repository root with its own data folder, file
persistence off, no LLM, and no calls home (analytics, version check, tracing).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from core.config import REPO_ROOT, Settings
from storage.sql import Database, build_database
from tools.profile.service import AccountService, ProfileService

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.anyio]

LANGGRAPH = Path(sys.executable).parent / "langgraph"
START_TIMEOUT_S = 240.0
RUN_TIMEOUT_S = 120.0


@dataclass
class Server:
    url: str
    data_dir: Path
    log: Path

    def client(self) -> LangGraphClient:
        return get_client(url=self.url, timeout=RUN_TIMEOUT_S)

    def database(self) -> Database:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the development default secrets
            settings = Settings(_env_file=None, environment="development", data_dir=self.data_dir)
        return build_database(settings)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def _wait_until_up(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"langgraph dev exited with {process.returncode}:\n{_tail(log)}")
        try:
            if httpx.get(f"{url}/ok", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"langgraph dev did not answer within {START_TIMEOUT_S:g} s:\n{_tail(log)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    # Its own process group (start_new_session): the signal reaches the server and anything it started.
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not LANGGRAPH.is_file():
        pytest.skip(f"langgraph-cli[inmem] is not installed ({LANGGRAPH} is missing)")
    folder = tmp_path_factory.mktemp("langgraph-dev")
    config = json.loads((REPO_ROOT / "langgraph.json").read_text(encoding="utf-8"))
    config["disable_persistence"] = True  # threads live in memory only; nothing pickled to disk
    config_path = folder / "langgraph.json"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    # The in-memory runtime always makes ``.langgraph_api`` in its working folder (the repository).
    state_dir = REPO_ROOT / ".langgraph_api"
    state_dir_existed = state_dir.exists()

    port = _free_port()
    # The developer's settings stay out (IK_CACHE_DIR, where the router's embeddings are cached, stays in).
    env = {
        key: value
        for key, value in os.environ.items()
        if key == "IK_CACHE_DIR" or not key.startswith(("IK_", "LANGSMITH_"))
    }
    env |= {
        "IK_DATA_DIR": str(folder / "var"),
        "IK_LLM__PROVIDER": "none",
        "IK_CATALOG__LIMIT": "300",
        "IK_SEARCH__SEMANTIC": "false",
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
        "LANGGRAPH_NO_VERSION_CHECK": "true",
        "LANGSMITH_TRACING": "false",
    }
    log = folder / "server.log"
    with log.open("wb") as output:
        command = [str(LANGGRAPH), "dev", "--no-browser", "--no-reload", "--port", str(port)]
        process = subprocess.Popen(  # noqa: S603 - our own CLI with arguments we built
            [*command, "--config", str(config_path)],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(process, url, log)
        yield Server(url=url, data_dir=folder / "var", log=log)
    finally:
        _stop(process)
        if not state_dir_existed:
            shutil.rmtree(state_dir, ignore_errors=True)


def _user_message(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


async def _say(
    client: LangGraphClient, thread_id: str, text: str, context: dict[str, Any] | None = None
) -> None:
    await client.runs.wait(thread_id, "agent", input=_user_message(text), context=context)


async def _messages(client: LangGraphClient, thread_id: str) -> list[dict[str, Any]]:
    state = await client.threads.get_state(thread_id)
    values = state["values"]
    assert isinstance(values, dict)
    messages: list[dict[str, Any]] = values["messages"]
    return messages


async def test_a_run_gets_an_answer_from_the_assistant(server: Server) -> None:
    client = server.client()
    thread = await client.threads.create()
    await _say(client, thread["thread_id"], "hello")
    messages = await _messages(client, thread["thread_id"])
    assert [m["type"] for m in messages] == ["human", "ai"]
    assert messages[-1]["name"] is None
    assert "style assistant" in messages[-1]["content"]


async def test_support_answers_the_handoff_from_agent_inbox(server: Server) -> None:
    client = server.client()
    thread_id = (await client.threads.create())["thread_id"]
    await _say(client, thread_id, "I want to talk to a human")

    thread = await client.threads.get(thread_id)
    assert thread["status"] == "interrupted"
    (interrupts,) = thread["interrupts"].values()
    (interrupt,) = interrupts
    (request,) = interrupt["value"]  # Agent Inbox reads a list of one HumanInterrupt
    assert request["action_request"]["action"] == "reply_to_customer"
    assert request["action_request"]["args"]["message"] == "I want to talk to a human"
    assert request["config"]["allow_respond"] is True
    assert "I want to talk to a human" in request["description"]

    await client.runs.wait(
        thread_id, "agent", command={"resume": [{"type": "response", "args": "Hi, this is support"}]}
    )
    last = (await _messages(client, thread_id))[-1]
    assert (last["type"], last["name"], last["content"]) == ("ai", "support", "Hi, this is support")


async def test_a_run_acts_for_the_user_in_its_context_else_for_the_local_account(server: Server) -> None:
    client = server.client()
    local_thread = (await client.threads.create())["thread_id"]
    await _say(client, local_thread, "hello")  # the graph is built and the database migrated

    database = server.database()
    try:
        accounts, profiles = AccountService(database), ProfileService(database)
        mei = accounts.create_user(email="mei@example.com", password="a-long-password-1")
        local = next(u for u in accounts.list_users().items if u.email == "you@localhost")

        mei_thread = (await client.threads.create())["thread_id"]
        for text in ("remember that I'm 158 cm", "yes"):
            await _say(client, mei_thread, text, context={"user_id": mei.id})
        for text in ("remember that I'm 181 cm", "yes"):
            await _say(client, local_thread, text)

        assert profiles.get(mei.id).height_cm == 158.0
        assert profiles.get(local.id).height_cm == 181.0
    finally:
        database.close()
