"""A deployment in miniature: several daphne servers and Celery workers as real operating-system processes, on
the test database and the test Redis, sharing nothing but those two.

Every process is started with the same environment as production would give it (application role, Redis for
both the broker and the channel layer), so anything that only works inside one process fails here.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
START_TIMEOUT = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Process:
    name: str
    command: list[str]
    log: Path
    popen: subprocess.Popen | None = None

    def start(self, env: dict[str, str]) -> None:
        with self.log.open("ab") as log:
            self.popen = subprocess.Popen(self.command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                          start_new_session=True)

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def check_alive(self) -> None:
        if not self.alive:
            code = None if self.popen is None else self.popen.returncode
            raise RuntimeError(f"{self.name} exited with {code}:\n{self.log_text()[-4000:]}")

    def kill(self) -> None:
        """Die at once, as a crashed or OOM-killed process does: no close frames, no cleanup."""
        if self.alive:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.popen is None:
            return
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)
        self.popen = None


@dataclass
class Server(Process):
    port: int = 0

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def ready(self) -> bool:
        self.check_alive()
        try:
            with urllib.request.urlopen(f"{self.http_url}/healthz", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False


@dataclass
class Worker(Process):
    started_at_log_offset: int = 0

    def ready(self) -> bool:
        self.check_alive()
        return " ready." in self.log_text()[self.started_at_log_offset:]

    def start(self, env: dict[str, str]) -> None:
        self.started_at_log_offset = len(self.log_text())
        super().start(env)

    def tasks_succeeded(self, task_name: str) -> int:
        return sum(
            1 for line in self.log_text().splitlines() if f"Task {task_name}[" in line and " succeeded in " in line
        )


@dataclass
class Cluster:
    env: dict[str, str]
    servers: list[Server] = field(default_factory=list)
    workers: list[Worker] = field(default_factory=list)

    @classmethod
    def build(cls, *, env: dict[str, str], logs: Path, servers: int, workers: int) -> Cluster:
        cluster = cls(env=env)
        for index in range(servers):
            port = _free_port()
            name = "AB"[index] if index < 2 else str(index)
            cluster.servers.append(Server(
                name=f"server {name}", log=logs / f"server-{name}.log", port=port,
                command=[str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "helpdesk.asgi:application"],
            ))
        for index in range(1, workers + 1):
            cluster.workers.append(Worker(
                name=f"worker {index}", log=logs / f"worker-{index}.log",
                command=[str(BIN / "celery"), "-A", "helpdesk", "worker", "-P", "solo", "-n", f"worker{index}@%h",
                         "-Q", "celery", "--without-heartbeat", "--without-gossip", "--without-mingle",
                         "--loglevel", "INFO"],
            ))
        return cluster

    @property
    def processes(self) -> list[Process]:
        return [*self.servers, *self.workers]

    def ensure_running(self) -> None:
        """Start whatever is not running (all of it at first, a killed server later) and wait until it serves."""
        starting = [p for p in self.processes if not p.alive]
        for process in starting:
            process.start(self.env)
        deadline = time.monotonic() + START_TIMEOUT
        waiting = list(starting)
        while waiting:
            waiting = [p for p in waiting if not p.ready()]
            if waiting and time.monotonic() > deadline:
                raise RuntimeError(f"{waiting[0].name} did not start within {START_TIMEOUT} s:\n"
                                   f"{waiting[0].log_text()[-4000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        for process in self.processes:
            try:
                process.stop()
            except Exception:  # noqa: BLE001 - stop the others whatever happens to one
                if process.popen is not None:
                    os.killpg(process.popen.pid, signal.SIGKILL)
