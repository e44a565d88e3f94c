"""Building blocks for the routing lifecycle, reconciler and concurrency tests: a department of agents with the
routing values a test needs, chats waiting for them, and the agents' answers to offers.

Everything runs inside ``tenant_context``: the suite connects as the application role, with row-level security.
"""

from __future__ import annotations

import itertools

from departments import services as department_services
from departments.models import AgentProfile, Department
from helpdesk.principals import actor_for_membership
from helpdesk.tenancy import tenant_context
from routing import services
from routing.models import Offer, OfferState, RoutingDecision, RoutingItem
from tests.factories import TenantWorld
from tickets import services as ticket_services
from tickets.models import Channel, Ticket

_counter = itertools.count(1)


def team(world: TenantWorld, *specs: dict, name: str | None = None) -> tuple[Department, list[AgentProfile]]:
    """A new department whose members are new online agents, one per spec of AgentProfile fields."""
    n = next(_counter)
    with tenant_context(world.tenant):
        agents = []
        for index, spec in enumerate(specs, start=1):
            fields = {"status": "online", **spec}
            agents.append(department_services.agent_create(
                actor=world.admin, email=f"team{n}-{index}@{world.tenant.slug}.test",
                display_name=fields.pop("display_name", f"Team {n} Agent {index}"), **fields,
            ))
        department = department_services.department_create(
            actor=world.admin, name=name or f"Team {n}", members=agents,
        )
    return department, agents


def configure(world: TenantWorld, **fields) -> None:
    with tenant_context(world.tenant):
        services.settings_update(actor=world.admin, **fields)


def agent_change(world: TenantWorld, agent: AgentProfile, **fields) -> AgentProfile:
    """An admin changes the agent as they are now in the database (the caller's copy may be stale)."""
    with tenant_context(world.tenant):
        current = AgentProfile.objects.select_related("membership").get(pk=agent.pk)
        return department_services.agent_update(actor=world.admin, agent=current, **fields)


def chat(world: TenantWorld, department: Department | None, *, email: str | None = None, **fields) -> Ticket:
    """A chat; creating it queues it for routing (the TICKET_CREATED hook)."""
    n = next(_counter)
    contact = ticket_services.ContactData(name=f"Visitor {n}", email=email or f"visitor{n}@example.com")
    return world.ticket(channel=Channel.CHAT, department=department, contact=contact, **fields)


def item_of(world: TenantWorld, ticket: Ticket) -> RoutingItem:
    with tenant_context(world.tenant):
        return RoutingItem.objects.get(ticket_id=ticket.pk)


def route(world: TenantWorld, ticket: Ticket, **kwargs) -> RoutingDecision | None:
    """What the routing worker does for the ticket's item."""
    with tenant_context(world.tenant):
        return services.item_route(item_id=RoutingItem.objects.get(ticket_id=ticket.pk).pk, **kwargs)


def ringing(world: TenantWorld, ticket: Ticket) -> dict[int, Offer]:
    """Ringing offers of the ticket's item by agent id."""
    with tenant_context(world.tenant):
        return {o.agent_id: o for o in Offer.objects.filter(item__ticket_id=ticket.pk, state=OfferState.RINGING)}


def offer_states(world: TenantWorld, ticket: Ticket) -> dict[int, list[str]]:
    with tenant_context(world.tenant):
        states: dict[int, list[str]] = {}
        for agent_id, state in Offer.objects.filter(item__ticket_id=ticket.pk).order_by("id").values_list(
            "agent_id", "state"
        ):
            states.setdefault(agent_id, []).append(state)
        return states


def accept(world: TenantWorld, agent: AgentProfile, ticket: Ticket) -> Ticket:
    offer = ringing(world, ticket)[agent.pk]
    with tenant_context(world.tenant):
        return services.offer_accept(actor=actor_for_membership(agent.membership), offer_id=offer.pk)


def decline(world: TenantWorld, agent: AgentProfile, ticket: Ticket) -> None:
    offer = ringing(world, ticket)[agent.pk]
    with tenant_context(world.tenant):
        services.offer_decline(actor=actor_for_membership(agent.membership), offer_id=offer.pk)


def resolve(world: TenantWorld, ticket: Ticket) -> None:
    with tenant_context(world.tenant):
        ticket_services.ticket_update(actor=world.admin, ticket=Ticket.objects.get(pk=ticket.pk), status="resolved")


def assignee_id(world: TenantWorld, ticket: Ticket) -> int | None:
    with tenant_context(world.tenant):
        return Ticket.objects.get(pk=ticket.pk).assignee_id
