"""One heartbeat per server process for every socket it holds open.

A server that dies never runs its sockets' disconnect, so the counts of open agent and visitor sockets in the
database would say "connected" forever. Instead each process tells the database, every
PRESENCE_HEARTBEAT_SECONDS, which agents and chats it still has sockets for: one statement per tenant and kind,
however many sockets. When a process dies its beats stop, and the routing sweep counts the silent sockets as
gone (routing.services.agents_gone_offline, routing.chats.chats_with_silent_visitors).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, defaultdict

from channels.db import database_sync_to_async
from django.conf import settings

from helpdesk.models import Tenant
from helpdesk.tenancy import tenant_context
from routing import chats
from routing import services as routing_services

logger = logging.getLogger(__name__)

AGENT, CHAT = "agent", "chat"


def beat_once(seen: dict[int, dict[str, list[int]]]) -> None:
    """Mark as heard from now the agents and chats ``seen`` names, by tenant: {tenant id: {kind: [ids]}}."""
    for tenant in Tenant.objects.filter(pk__in=seen).order_by("pk"):
        if seen[tenant.pk].get(AGENT):
            with tenant_context(tenant):
                routing_services.agents_seen(agent_ids=seen[tenant.pk][AGENT])
        if seen[tenant.pk].get(CHAT):
            with tenant_context(tenant):
                back = chats.chats_visitors_seen(chat_ids=seen[tenant.pk][CHAT])
            for chat_id in back:
                with tenant_context(tenant):
                    chats.chat_visitor_back(chat_id=chat_id)


_beat = database_sync_to_async(beat_once)


class ProcessHeartbeat:
    """The sockets this process holds open, by tenant, kind (agent or chat) and id, and the task that beats
    for them while there are any."""

    def __init__(self) -> None:
        self.open: Counter[tuple[int, str, int]] = Counter()
        self.task: asyncio.Task | None = None

    def add(self, tenant_id: int, kind: str, object_id: int) -> None:
        self.open[(tenant_id, kind, object_id)] += 1
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.task.get_loop() is not loop:
            self.task = loop.create_task(self._run())

    def discard(self, tenant_id: int, kind: str, object_id: int) -> None:
        key = (tenant_id, kind, object_id)
        self.open[key] -= 1
        if self.open[key] <= 0:
            del self.open[key]

    def snapshot(self) -> dict[int, dict[str, list[int]]]:
        seen: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        for tenant_id, kind, object_id in sorted(self.open):
            seen[tenant_id][kind].append(object_id)
        return seen

    async def _run(self) -> None:
        while self.open:
            await asyncio.sleep(settings.PRESENCE_HEARTBEAT_SECONDS)
            if not self.open:
                break
            try:
                await _beat(self.snapshot())
            except Exception:
                # A database hiccup must not stop the beats; the next one catches up.
                logger.exception("The presence heartbeat failed")


heartbeat = ProcessHeartbeat()
