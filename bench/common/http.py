"""A bounded, closed-loop HTTP load generator: keep-alive connections in threads, standard library only.

Each worker thread owns one connection and sends its share of the requests back to back, so ``concurrency``
is the number of requests in flight. Only requests to the host given are ever sent.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.common.stats import Summary, summarize


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    expect: int = 200


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self):
        return json.loads(self.body)


class Client:
    """One keep-alive connection; reconnects once when the server has closed it."""

    def __init__(self, host: str, port: int, *, headers: dict[str, str] | None = None, timeout: float = 30.0):
        self.host, self.port, self.timeout = host, port, timeout
        self.headers = dict(headers or {})
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def send(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Response:
        all_headers = {**self.headers, **(headers or {})}
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(method, path, body=body, headers=all_headers)
                raw = conn.getresponse()
                data = raw.read()
                if raw.getheader("Connection", "").lower() == "close":
                    self.close()
                return Response(raw.status, raw.headers, data)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def get(self, path: str, headers: dict[str, str] | None = None) -> Response:
        return self.send("GET", path, headers=headers)


def run_load(
    name: str, *, make_client: Callable[[], Client], request_for: Callable[[int], Request], requests: int,
    concurrency: int,
) -> Summary:
    """Send ``requests`` requests (request_for(0), request_for(1), ...) with ``concurrency`` in flight."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    next_index = iter(range(requests))

    def worker() -> None:
        client = make_client()
        mine: list[float] = []
        try:
            while True:
                with lock:
                    index = next(next_index, None)
                if index is None:
                    break
                req = request_for(index)
                started = time.perf_counter()
                try:
                    response = client.send(req.method, req.path, body=req.body, headers=req.headers)
                except OSError as exc:
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                elapsed = time.perf_counter() - started
                if response.status != req.expect:
                    with lock:
                        errors.append(f"{req.method} {req.path} -> {response.status}: {response.body[:300]!r}")
                    continue
                mine.append(elapsed)
        finally:
            client.close()
            with lock:
                latencies.extend(mine)

    threads = [threading.Thread(target=worker, name=f"load-{i}") for i in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    summary = summarize(name, latencies, errors=len(errors), concurrency=concurrency, seconds=seconds)
    if errors:
        print(f"  {name}: {len(errors)} errors, first: {errors[0]}")
    return summary
