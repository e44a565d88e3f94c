"""The only way anything is pushed to browsers. Imports no domain code, so any service may call it.

Pushes are sent after the transaction commits: a rolled-back change is never announced.
"""

from __future__ import annotations

from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

# Event types pushed to agents' browsers.
TICKET_ASSIGNED = "ticket.assigned"
AGENT_STATUS_CHANGED = "agent.status_changed"
OFFER_RINGING = "offer.ringing"
OFFER_WITHDRAWN = "offer.withdrawn"


def agent_group(tenant_id: int, agent_id: int) -> str:
    return f"agent.{tenant_id}.{agent_id}"


def send_event_on_commit(*, tenant_id: int, agent_ids: Iterable[int], event: dict) -> None:
    agent_ids = list(agent_ids)

    def push() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        for agent_id in agent_ids:
            async_to_sync(layer.group_send)(agent_group(tenant_id, agent_id), {"type": "push", "event": event})

    transaction.on_commit(push)
