"""The browsers' side of the push bench: many websockets in one asyncio process.

    python -m bench.push.client push --url ws://127.0.0.1:8000/ws/agent/ --sessions s.json --out r.json
    python -m bench.push.client echo --url ws://127.0.0.1:8001/ --connections 1000 --messages 2000 \\
        --size 450 --out e.json

``push``: one socket per agent session, each with that agent's cookie and an allowed Origin, starting at
``?after=0``. When all are open it prints ``READY {...}`` and then waits for ``EXPECT <n>`` on standard input
(sent once the driver is done): it waits until n offers have arrived live (or nothing more arrives for a
while), then sends every socket ``{"type": "sync"}`` with its last number and counts what the sync brings, so
"lost" means never received at all, and "replayed" means lost live but recovered. Receipt times are
``time.time()``, taken when the frame arrives, before it is parsed.

``echo``: the same number of sockets to a plain ``websockets`` echo server; one message at a time, of the given
size, round-robin over the sockets; each round trip is timed with ``perf_counter``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

ORIGIN = "http://127.0.0.1"
IDLE_SECONDS = 10.0


def _connect(url: str, headers: dict[str, str] | None = None):
    # No compression and no keep-alive pings, on both servers, so the two measure the same frames.
    return connect(url, origin=ORIGIN, additional_headers=headers, compression=None, ping_interval=None,
                   open_timeout=60, proxy=None, max_queue=None)


@dataclass
class AgentSocket:
    agent_id: int
    connection: ClientConnection
    last_seq: int = 0
    repeated: int = 0  # a seq at or below one this socket already had: sent twice
    gaps: int = 0
    events: int = 0


@dataclass
class PushState:
    sockets: list[AgentSocket] = field(default_factory=list)
    receipts: dict[int, dict] = field(default_factory=dict)  # offer id -> receipt
    duplicates: int = 0  # the same offer on the same agent's socket twice
    syncing: bool = False
    last_receipt: float = field(default_factory=time.monotonic)


async def _read(state: PushState, sock: AgentSocket) -> None:
    try:
        async for frame in sock.connection:
            at = time.time()
            event = json.loads(frame)
            seq = event.get("seq")
            if seq is None:
                continue
            sock.events += 1
            if seq <= sock.last_seq:
                sock.repeated += 1
                continue
            if seq != sock.last_seq + 1:
                sock.gaps += 1
            sock.last_seq = seq
            if event.get("type") == "offer.ringing":
                offer_id = event["offer_id"]
                if offer_id in state.receipts:
                    state.duplicates += 1
                    continue
                state.receipts[offer_id] = {"at": at, "agent_id": sock.agent_id, "live": not state.syncing,
                                            "bytes": len(frame)}
                state.last_receipt = time.monotonic()
    except ConnectionClosed:
        pass


async def _wait_for(state: PushState, expected: int) -> None:
    while len(state.receipts) < expected and time.monotonic() - state.last_receipt < IDLE_SECONDS:
        await asyncio.sleep(0.05)


async def run_push(args: argparse.Namespace) -> None:
    sessions = json.loads(Path(args.sessions).read_text())
    state = PushState()
    limit = asyncio.Semaphore(args.connect_concurrency)
    failures: list[str] = []

    async def open_one(session: dict) -> None:
        async with limit:
            try:
                connection = await _connect(f"{args.url}?after=0", {"Cookie": session["cookie"]})
                hello = json.loads(await connection.recv())
                if hello.get("type") != "hello":
                    raise RuntimeError(f"first frame {hello}")
            except Exception as exc:  # noqa: BLE001 - counted and reported
                failures.append(f"{type(exc).__name__}: {exc}")
                return
            sock = AgentSocket(agent_id=session["agent_id"], connection=connection)
            state.sockets.append(sock)
            asyncio.get_running_loop().create_task(_read(state, sock))

    started = time.perf_counter()
    await asyncio.gather(*(open_one(s) for s in sessions))
    connect_seconds = time.perf_counter() - started
    print("READY " + json.dumps({"connected": len(state.sockets), "failed": len(failures),
                                 "first_failure": failures[0] if failures else None,
                                 "connect_seconds": round(connect_seconds, 1)}), flush=True)

    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    expected = int(line.split()[1])
    state.last_receipt = time.monotonic()
    await _wait_for(state, expected)
    live = len(state.receipts)
    state.syncing = True
    for sock in state.sockets:
        await sock.connection.send(json.dumps({"type": "sync", "after": sock.last_seq}))
    state.last_receipt = time.monotonic()
    await _wait_for(state, expected)
    # A moment more: anything sent twice would arrive now.
    await asyncio.sleep(1.0)
    open_at_end = sum(1 for s in state.sockets if s.connection.state.name == "OPEN")
    result = {
        "connected": len(state.sockets), "connect_failures": failures[:5], "connect_failed": len(failures),
        "connect_seconds": round(connect_seconds, 1), "open_at_end": open_at_end,
        "live": live, "received": len(state.receipts), "duplicate_offers": state.duplicates,
        "repeated_seqs": sum(s.repeated for s in state.sockets), "gaps_seen": sum(s.gaps for s in state.sockets),
        "receipts": {str(k): v for k, v in state.receipts.items()},
    }
    Path(args.out).write_text(json.dumps(result))
    for sock in state.sockets:
        await sock.connection.close()
    print("DONE", flush=True)


async def run_echo(args: argparse.Namespace) -> None:
    limit = asyncio.Semaphore(args.connect_concurrency)

    async def open_one() -> ClientConnection:
        async with limit:
            return await _connect(args.url)

    started = time.perf_counter()
    connections = await asyncio.gather(*(open_one() for _ in range(args.connections)))
    connect_seconds = time.perf_counter() - started
    body = json.dumps({"type": "offer.ringing", "n": 0, "pad": ""})
    pad = "x" * max(0, args.size - len(body))

    async def round_trip(index: int) -> float:
        connection = connections[index % len(connections)]
        message = json.dumps({"type": "offer.ringing", "n": index, "pad": pad})
        sent = time.perf_counter()
        await connection.send(message)
        reply = await connection.recv()
        elapsed = time.perf_counter() - sent
        if json.loads(reply)["n"] != index:
            raise RuntimeError("the echo answered another message")
        return elapsed

    for index in range(min(200, args.messages)):  # warm-up
        await round_trip(index)
    rtts = []
    measured_from = time.perf_counter()
    for index in range(args.messages):
        rtts.append(await round_trip(index))
    seconds = time.perf_counter() - measured_from
    Path(args.out).write_text(json.dumps({"connections": len(connections), "connect_seconds": round(connect_seconds, 1),
                                          "messages": len(rtts), "bytes": len(json.dumps({"type": "offer.ringing",
                                                                                        "n": 0, "pad": pad})),
                                          "seconds": round(seconds, 2), "rtts": rtts}))
    for connection in connections:
        await connection.close()
    print("DONE", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["push", "echo"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--sessions", help="push: the seed's cookies file")
    parser.add_argument("--connections", type=int, default=1000, help="echo: sockets to open")
    parser.add_argument("--messages", type=int, default=2000, help="echo: round trips to time")
    parser.add_argument("--size", type=int, default=450, help="echo: message size in bytes")
    parser.add_argument("--connect-concurrency", type=int, default=50)
    args = parser.parse_args(argv)
    asyncio.run(run_push(args) if args.mode == "push" else run_echo(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
