"""A stream client that behaves like the browser's: it remembers the last sequence number it has seen,
reconnects with ``?after=<that>`` and asks for a ``sync``. It runs on an event loop in a background thread, so
the test's own thread can meanwhile create tickets through the services with Django's ordinary sync ORM.

Nothing here knows what an event means or whose stream it is: an agent's socket and a chat visitor's
socket are both a ``StreamClient`` with their own path and headers, checked with ``delivery_report``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

ORIGIN = "http://127.0.0.1"


class ClientLoop:
    """An asyncio event loop in a daemon thread; ``run`` waits for a coroutine from the calling thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="stream-clients", daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.run(cancel_all())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@dataclass
class StreamSocket:
    """One connection of a client, and every frame the server sent on it, in order."""

    server: str
    after: int
    hello: dict
    events: list[dict] = field(default_factory=list)
    others: list[dict] = field(default_factory=list)
    closed: bool = False
    connection: ClientConnection | None = None
    reader: asyncio.Task | None = None

    @property
    def seqs(self) -> list[int]:
        return [e["seq"] for e in self.events]


class StreamClient:
    """One browser tab's view of a stream, across however many sockets it takes."""

    def __init__(self, loop: ClientLoop, *, path: str, headers: dict[str, str]) -> None:
        self.loop = loop
        self.path = path
        self.headers = headers
        self.sockets: list[StreamSocket] = []
        self.last_seq = 0

    # -- from the test's thread ------------------------------------------------------------------------------

    def connect(self, server_name: str, ws_url: str, *, after: int | None = None) -> StreamSocket:
        return self.loop.run(self._connect(server_name, ws_url, self.last_seq if after is None else after))

    def sync(self) -> None:
        self.send({"type": "sync", "after": self.last_seq})

    def send(self, message: dict) -> None:
        self.loop.run(self._send(message))

    def drop(self) -> None:
        """Lose the connection the way a network does: no close handshake."""
        self.loop.run(self._drop())

    def close(self) -> None:
        self.loop.run(self._close())

    @property
    def current(self) -> StreamSocket:
        return self.sockets[-1]

    def events(self) -> list[dict]:
        """Every event received, over all sockets, in the order received (duplicates included)."""
        return [event for socket in list(self.sockets) for event in list(socket.events)]

    def seen(self) -> set[int]:
        return {event["seq"] for event in self.events()}

    # -- on the loop -----------------------------------------------------------------------------------------

    async def _connect(self, server_name: str, ws_url: str, after: int) -> StreamSocket:
        separator = "&" if "?" in self.path else "?"  # a visitor's path carries its chat in the query
        connection = await connect(f"{ws_url}{self.path}{separator}after={after}", origin=ORIGIN,
                                   additional_headers=self.headers, open_timeout=10, proxy=None)
        hello = json.loads(await asyncio.wait_for(connection.recv(), timeout=10))
        if hello.get("type") != "hello":
            raise AssertionError(f"the first frame was not hello: {hello}")
        socket = StreamSocket(server=server_name, after=after, hello=hello, connection=connection)
        socket.reader = asyncio.get_running_loop().create_task(self._read(socket))
        self.sockets.append(socket)
        return socket

    async def _read(self, socket: StreamSocket) -> None:
        try:
            async for frame in socket.connection:
                message = json.loads(frame)
                if "seq" in message:
                    socket.events.append(message)
                    self.last_seq = max(self.last_seq, message["seq"])
                else:
                    socket.others.append(message)
        except ConnectionClosed:
            pass
        finally:
            socket.closed = True

    async def _send(self, message: dict) -> None:
        await self.current.connection.send(json.dumps(message))

    async def _drop(self) -> None:
        socket = self.current
        socket.connection.transport.abort()
        if socket.reader is not None:
            await asyncio.wait([socket.reader], timeout=10)

    async def _close(self) -> None:
        for socket in self.sockets:
            if not socket.closed:
                await socket.connection.close()
            if socket.reader is not None:
                await asyncio.wait([socket.reader], timeout=10)


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.05)


@dataclass
class DeliveryReport:
    """How a client's sockets covered a stream's persisted events."""

    last_seq: int
    duplicates_on_a_socket: dict[str, list[int]]
    out_of_order_on_a_socket: dict[str, list[int]]
    missing: list[int]
    unknown: list[int]
    different_from_database: list[int]


def delivery_report(client: StreamClient, persisted: dict[int, dict]) -> DeliveryReport:
    """Compare what the client's sockets were sent with the stream's events in the database (seq -> event).

    On one socket a seq may never come twice, and seqs only go up; over all sockets together, after dropping
    the duplicates a reconnect may legitimately bring, every persisted seq arrives, with the persisted content.
    """
    duplicates: dict[str, list[int]] = {}
    disorder: dict[str, list[int]] = {}
    for index, socket in enumerate(client.sockets):
        label = f"{index}:{socket.server}"
        seqs = socket.seqs
        repeated = sorted({s for s in seqs if seqs.count(s) > 1})
        if repeated:
            duplicates[label] = repeated
        backwards = [b for a, b in zip(seqs, seqs[1:], strict=False) if b <= a]
        if backwards:
            disorder[label] = backwards
    received = {event["seq"]: event for event in client.events()}
    last = max(persisted, default=0)
    different = [seq for seq, event in received.items()
                 if seq in persisted and {k: v for k, v in event.items() if k != "at"}
                 != {k: v for k, v in persisted[seq].items() if k != "at"}]
    return DeliveryReport(
        last_seq=last, duplicates_on_a_socket=duplicates, out_of_order_on_a_socket=disorder,
        missing=sorted(set(persisted) - set(received)), unknown=sorted(set(received) - set(persisted)),
        different_from_database=sorted(different),
    )
