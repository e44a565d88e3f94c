from __future__ import annotations

from channels.db import database_sync_to_async

from channels_app.heartbeat import AGENT, heartbeat
from channels_app.streams import StreamConsumer, query_int
from helpdesk import push
from helpdesk.models import Tenant
from helpdesk.tenancy import tenant_context
from routing import services as routing_services


@database_sync_to_async
def _presence(tenant_id: int, agent_id: int, *, connected: bool) -> None:
    with tenant_context(Tenant.objects.get(pk=tenant_id)):
        if connected:
            routing_services.agent_connected(agent_id=agent_id)
        else:
            routing_services.agent_disconnected(agent_id=agent_id)


class AgentConsumer(StreamConsumer):
    """One per agent browser tab: receives that agent's own stream only (no department-wide broadcast)."""

    async def connect(self) -> None:
        identity = self.scope.get("agent_identity")
        if identity is None:
            await self.close(code=4401)
            return
        tenant_id, agent_id = identity
        self.identity = identity
        await self.accept()
        await _presence(tenant_id, agent_id, connected=True)
        await self.stream_open(tenant_id=tenant_id, stream=push.agent_stream(agent_id),
                               after=query_int(self.scope, "after"))
        heartbeat.add(tenant_id, AGENT, agent_id)

    async def disconnect(self, code: int) -> None:
        if getattr(self, "group", None):
            await self.stream_close()
            tenant_id, agent_id = self.identity
            heartbeat.discard(tenant_id, AGENT, agent_id)
            await _presence(tenant_id, agent_id, connected=False)

    async def receive_json(self, content, **kwargs) -> None:
        if isinstance(content, dict):
            await self.stream_command(content)
