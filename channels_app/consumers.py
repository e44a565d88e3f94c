from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from channels_app.events import agent_group
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


class AgentConsumer(AsyncJsonWebsocketConsumer):
    """One per agent browser tab: joined to that agent's own group only."""

    async def connect(self) -> None:
        identity = self.scope.get("agent_identity")
        if identity is None:
            await self.close(code=4401)
            return
        tenant_id, agent_id = identity
        self.identity = identity
        self.group = agent_group(tenant_id, agent_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await _presence(tenant_id, agent_id, connected=True)

    async def disconnect(self, code: int) -> None:
        group = getattr(self, "group", None)
        if group:
            await self.channel_layer.group_discard(group, self.channel_name)
            tenant_id, agent_id = self.identity
            await _presence(tenant_id, agent_id, connected=False)

    async def push(self, message: dict) -> None:
        await self.send_json(message["event"])
