"""The floor to compare with: a plain ``websockets`` echo server, one process, nothing between the socket and
the reply.

    python -m bench.push.echo --port 8001
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from websockets.asyncio.server import ServerConnection, serve


async def echo(connection: ServerConnection) -> None:
    async for message in connection:
        await connection.send(message)


async def run(port: int) -> None:
    async with serve(echo, "127.0.0.1", port, compression=None, ping_interval=None, max_queue=None) as server:
        print(f"READY {server.sockets[0].getsockname()[1]}", flush=True)
        await server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed as READY <port>)")
    asyncio.run(run(parser.parse_args(argv).port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
