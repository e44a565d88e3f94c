from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from channels_app.events import agent_group


class AgentConsumer(AsyncJsonWebsocketConsumer):
    """One per agent browser tab: joined to that agent's own group only."""

    async def connect(self) -> None:
        identity = self.scope.get("agent_identity")
        if identity is None:
            await self.close(code=4401)
            return
        tenant_id, agent_id = identity
        self.group = agent_group(tenant_id, agent_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        group = getattr(self, "group", None)
        if group:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def push(self, message: dict) -> None:
        await self.send_json(message["event"])
