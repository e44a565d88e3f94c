"""Helpers shared by the calls, routing API and routing page tests: clients, and routing an item right away.

In tests the queued routing task never runs (it would go to the broker after a commit that never comes), so a
test routes an item itself, as the worker would.
"""

from __future__ import annotations

from rest_framework.test import APIClient

from departments import services as department_services
from departments.models import AgentProfile
from helpdesk.tenancy import tenant_context
from routing import calls, services
from routing.models import RoutingDecision, RoutingItem
from tests.factories import TenantWorld
from tickets.models import CallRecord, Ticket


def client_for(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


def route(world: TenantWorld, ticket: Ticket) -> RoutingDecision | None:
    """Run the routing worker's decision for ``ticket`` now."""
    with tenant_context(world.tenant):
        item = RoutingItem.objects.get(ticket=ticket)
        return services.item_route(item_id=item.pk)


def takes_calls(world: TenantWorld, *agents: AgentProfile) -> None:
    """Agents do not take calls until an admin says so."""
    with tenant_context(world.tenant):
        for agent in agents:
            department_services.agent_update(actor=world.admin, agent=agent, takes_calls=True)


def incoming_call(world: TenantWorld, number: str = "+1 555 0100", **fields) -> CallRecord:
    fields.setdefault("department", world.department)
    with tenant_context(world.tenant):
        return calls.call_receive(actor=world.key_actor(world.api_key), caller_number=number, **fields)


def chat(world: TenantWorld, **fields) -> Ticket:
    """A chat in the Support department: routed automatically, unlike email tickets."""
    return world.ticket(channel="chat", **fields)
