"""Delivery of a push stream to one socket: in order, without gaps, without duplicates.

The socket starts at the sequence number the client says it has seen (``?after=N``; a page rendered by the
server embeds its stream's position). Live pushes that arrive out of turn (one was lost in the channel layer,
or a server restarted in between) make the consumer read the missing ones from the database first; a client
``{"type": "sync", "after": N}`` does the same on demand, which is how a push lost with nothing after it is
still delivered. The database is the truth; the layer only says "look now".
"""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from helpdesk import push
from helpdesk.models import Tenant
from helpdesk.tenancy import tenant_context


@database_sync_to_async
def _events_after(tenant_id: int, stream: str, after: int) -> list[dict]:
    with tenant_context(Tenant(pk=tenant_id)):
        return [push.event_json(e) for e in push.events_after(stream=stream, after=after)]


def query_int(scope: dict, name: str) -> int | None:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(name)
    if not values:
        return None
    try:
        value = int(values[0])
    except ValueError:
        return None
    return value if value >= 0 else None


class StreamConsumer(AsyncJsonWebsocketConsumer):
    tenant_id: int
    stream: str
    position: int = 0

    async def stream_open(self, *, tenant_id: int, stream: str, after: int | None) -> None:
        """Join the stream's group, then send what the client has not seen (joining first: nothing published
        in between can fall between the read and the subscription)."""
        self.tenant_id = tenant_id
        self.stream = stream
        self.group = push.stream_group(tenant_id, stream)
        self.sending = asyncio.Lock()
        await self.channel_layer.group_add(self.group, self.channel_name)
        if after is None:
            # A client with no position starts from now: its page was rendered from the database.
            after = await _stream_position(tenant_id, stream)
        self.position = after
        await self.send_json({"type": "hello", "stream": stream, "position": after})
        await self.catch_up()

    async def stream_close(self) -> None:
        group = getattr(self, "group", None)
        if group:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def catch_up(self) -> None:
        async with self.sending:
            while True:
                events = await _events_after(self.tenant_id, self.stream, self.position)
                for event in events:
                    await self.send_json(event)
                    self.position = event["seq"]
                if len(events) < push.REPLAY_LIMIT:
                    return

    async def push_event(self, message: dict) -> None:
        seq = message["event"]["seq"]
        if seq <= self.position:
            return
        if seq == self.position + 1 and not self.sending.locked():
            async with self.sending:
                if seq == self.position + 1:
                    await self.send_json(message["event"])
                    self.position = seq
                    return
        await self.catch_up()

    async def push_transient(self, message: dict) -> None:
        await self.send_json(message["event"])

    async def stream_command(self, content: dict) -> bool:
        """Handle the client's stream commands; False when ``content`` is something else."""
        if content.get("type") == "sync":
            # Never rewinds to the client's ``after``: a client's number lags behind its socket whenever frames
            # are on their way (a reconnecting client syncs right after its hello, with the replay in flight),
            # and sending those again would deliver them twice on one socket. A client that has reloaded its
            # state opens a new socket with ``?after=``.
            await self.catch_up()
            return True
        if content.get("type") == "ping":
            await self.send_json({"type": "pong", "position": self.position})
            return True
        return False


@database_sync_to_async
def _stream_position(tenant_id: int, stream: str) -> int:
    with tenant_context(Tenant(pk=tenant_id)):
        return push.stream_position(stream=stream)
