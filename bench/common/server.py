"""The server under test: N daphne processes.

Daphne serves one process per core; on a multi-core machine it is deployed as several processes, either sharing
a socket (the ``--fd`` option, as under a process manager) or each on its own port behind a balancer. The first
is the default here. With ``own_ports`` each process listens on a port of its own (``ports``), for a client that
spreads its connections over them as a round-robin balancer would: with a shared socket, whichever process wakes
first takes a new connection, so two keep-alive connections often land on the same process while the other idles.
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
                 application: str = "helpdesk.asgi:application", own_ports: bool = False):
        self.root, self.env, self.processes, self.port = root, env, processes, port
        self.log_dir, self.application, self.own_ports = log_dir, application, own_ports
        self.ports: list[int] = []
        self._procs: list[subprocess.Popen] = []
        self._socks: list[socket.socket] = []

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _listen(self, port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))  # port 0: any free port, read back below
        sock.listen(1024)
        sock.set_inheritable(True)
        self._socks.append(sock)
        return sock

    def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        daphne = str(self.root / ".venv" / "bin" / "daphne")
        shared = None if self.own_ports else self._listen(self.port)
        for i in range(self.processes):
            sock = shared if shared is not None else self._listen(self.port if i == 0 else 0)
            self.ports.append(sock.getsockname()[1])
            log = open(self.log_dir / f"server-{self.processes}p-{i}.log", "wb")  # noqa: SIM115 - closed by the child
            proc = subprocess.Popen(
                [daphne, "--fd", str(sock.fileno()), "-v", "0", self.application],
                cwd=self.root, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT,
                pass_fds=[sock.fileno()],
            )
            log.close()
            self._procs.append(proc)
        self.port = self.ports[0]
        for port in sorted(set(self.ports)):
            self._wait_ready(port)

    def _wait_ready(self, port: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for proc in self._procs:
                if proc.poll() is not None:
                    raise ServerError(f"daphne exited with {proc.returncode}; see {self.log_dir}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    # Every process imports the app on start; give the others a moment to finish too.
                    time.sleep(1.0 if self.processes > 1 and not self.own_ports else 0.0)
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
        for sock in self._socks:
            sock.close()
        self._socks.clear()
        self.ports.clear()
