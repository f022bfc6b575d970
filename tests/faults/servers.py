"""Private servers for fault tests: started by our own script on free ports, killed with SIGKILL.

A fault test must not kill the shared servers the rest of the suite uses, so each starts its own
instance of the one server it breaks, through ``deploy/local/services.sh`` (the same code path as
``make services-up``) with its own ports and data folder. ``kill`` is a crash, not a shutdown: the
server gets no chance to flush or say goodbye to its clients, which is what an OOM-kill or a lost
node does. ``start`` again reuses the data folder, so the restarted server recovers what it had
written, as a restarted pod with its volume would.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "deploy" / "local" / "services.sh"
#: Under /var/tmp, not pytest's tmp_path: PostgreSQL runs as the ``postgres`` user, which cannot
#: enter root's private temporary folders.
FAULTS_DIR = Path(os.environ.get("IK_FAULTS_DIR", "/var/tmp/innovation-kun/faults"))  # noqa: S108

ServerName = Literal["postgres", "redis", "kafka", "neo4j"]

_PORT_ENV: dict[ServerName, str] = {
    "postgres": "IK_POSTGRES_PORT",
    "redis": "IK_REDIS_PORT",
    "kafka": "IK_KAFKA_PORT",
    "neo4j": "IK_NEO4J_PORT",
}
#: Where the script leaves each server's pid, relative to its services folder.
_PID_FILE: dict[ServerName, str] = {
    "postgres": "postgres/data/postmaster.pid",
    "redis": "redis/redis.pid",
    "kafka": "kafka/kafka.pid",
    "neo4j": "neo4j/neo4j.pid",
}
#: Ports a server opens besides its own (Kafka's controller listens on port + 1).
_EXTRA_PORTS: dict[ServerName, int] = {"postgres": 0, "redis": 0, "kafka": 1, "neo4j": 0}
_LOG_FILE: dict[ServerName, str] = {
    "postgres": "postgres/postgres.log",
    "redis": "redis/redis.log",
    "kafka": "kafka/kafka.log",
    "neo4j": "neo4j/neo4j.log",
}


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _free_ports(extra: int) -> int:
    """A port with ``extra`` free neighbours above it, away from the shared servers' 55xxx-59xxx."""
    for _ in range(200):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port + extra < 65536 and all(_port_free(port + i) for i in range(extra + 1)):
            return port
    raise RuntimeError("no free port run found")


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class PrivateServer:
    """One server of ``services.sh`` on ports and a data folder nobody else uses."""

    def __init__(self, name: ServerName, *, startup_timeout_s: int = 180) -> None:
        self.name = name
        self.port = _free_ports(_EXTRA_PORTS[name])
        self.root = FAULTS_DIR / f"{name}-{uuid.uuid4().hex[:8]}"
        self.startup_timeout_s = startup_timeout_s
        #: What ``services.sh env`` printed once it was up: the ``IK_TEST_*`` variables for it.
        self.env: dict[str, str] = {}

    def _script(self, command: str) -> str:
        env = {
            **os.environ,
            "IK_SERVICES": self.name,
            "IK_SERVICES_DIR": str(self.root),
            "IK_SERVICES_TIMEOUT": str(self.startup_timeout_s),
            _PORT_ENV[self.name]: str(self.port),
        }
        done = subprocess.run(  # noqa: S603 - our own script, with a fixed command
            [str(SCRIPT), command],
            env=env,
            capture_output=True,
            text=True,
            timeout=self.startup_timeout_s + 120,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"services.sh {command} for {self.name} failed ({done.returncode}):\n"
                f"{done.stderr[-4000:]}\n{self.log_tail()}"
            )
        return done.stdout

    def start(self) -> None:
        """Start (or restart on its old data) and wait until it answers."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        self._script("up")
        self.env = {}
        for line in self._script("env").splitlines():
            assignment = line.removeprefix("export ").strip()
            if "=" in assignment:
                key, value = assignment.split("=", 1)
                self.env[key] = shlex.split(value)[0] if value else ""
        if not self.env:
            raise RuntimeError(f"{self.name} started but services.sh env printed nothing")

    def pid(self) -> int:
        return int((self.root / _PID_FILE[self.name]).read_text().split()[0])

    def kill(self, timeout_s: float = 30.0) -> None:
        """SIGKILL the server and wait until its port is closed."""
        pid = self.pid()
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + timeout_s
        while _listening(self.port) or _alive(pid):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} (pid {pid}) still up {timeout_s:.0f} s after SIGKILL")
            time.sleep(0.05)
        if self.name == "postgres":
            # PostgreSQL's children outlive a killed postmaster for a moment; a stale pid file
            # and shared memory from them would make the restart refuse to start.
            _wait_children_gone(self.root / "postgres" / "data", deadline)

    def stop(self) -> None:
        """Shut down cleanly if it is running; errors are ignored (it may already be dead)."""
        with contextlib.suppress(Exception):
            self._script("down")

    def log_tail(self, chars: int = 3000) -> str:
        path = self.root / _LOG_FILE[self.name]
        try:
            return f"--- {path} ---\n" + path.read_text(errors="replace")[-chars:]
        except OSError:
            return f"(no log at {path})"

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (killed but not yet reaped by its parent) is gone for our purposes.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _wait_children_gone(data_dir: Path, deadline: float) -> None:
    marker = str(data_dir).encode()
    while time.monotonic() < deadline and any(marker in cmdline for cmdline in _command_lines()):
        time.sleep(0.1)


def _command_lines() -> Iterator[bytes]:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                yield (entry / "cmdline").read_bytes()


@contextlib.contextmanager
def private_server(name: ServerName) -> Iterator[PrivateServer]:
    """A started private server, stopped and deleted when the block ends."""
    server = PrivateServer(name)
    try:
        server.start()
        yield server
    finally:
        server.remove()
