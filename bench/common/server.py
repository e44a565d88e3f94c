"""The server under test: N daphne processes accepting on one listening socket.

Daphne serves one process per core; on a multi-core machine it is deployed as several processes sharing a
socket (the ``--fd`` option, as under a process manager), so that is what is started here.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import time
from pathlib import Path


class ServerError(RuntimeError):
    pass


class Server:
    def __init__(self, *, root: Path, env: dict[str, str], processes: int, port: int, log_dir: Path,
                 application: str = "helpdesk.asgi:application"):
        self.root, self.env, self.processes, self.port = root, env, processes, port
        self.log_dir, self.application = log_dir, application
        self._procs: list[subprocess.Popen] = []
        self._sock: socket.socket | None = None

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))  # port 0: any free port, read back below
        self.port = sock.getsockname()[1]
        sock.listen(1024)
        sock.set_inheritable(True)
        self._sock = sock
        self.log_dir.mkdir(parents=True, exist_ok=True)
        daphne = str(self.root / ".venv" / "bin" / "daphne")
        for i in range(self.processes):
            log = open(self.log_dir / f"server-{self.processes}p-{i}.log", "wb")  # noqa: SIM115 - closed by the child
            proc = subprocess.Popen(
                [daphne, "--fd", str(sock.fileno()), "-v", "0", self.application],
                cwd=self.root, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT,
                pass_fds=[sock.fileno()],
            )
            log.close()
            self._procs.append(proc)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for proc in self._procs:
                if proc.poll() is not None:
                    raise ServerError(f"daphne exited with {proc.returncode}; see {self.log_dir}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    # Every process imports the app on start; give the others a moment to finish too.
                    time.sleep(1.0 if self.processes > 1 else 0.0)
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise ServerError(f"the server did not answer /healthz within {timeout:.0f} s")

    def stop(self) -> None:
        for proc in self._procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self._procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._procs.clear()
        if self._sock is not None:
            self._sock.close()
            self._sock = None
