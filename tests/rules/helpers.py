"""Building rules and reading what they did, for the rules tests."""

from __future__ import annotations

from typing import Any

from helpdesk.tenancy import tenant_context
from routing.models import Rule
from routing.rules import services
from tests.factories import TenantWorld
from tickets.models import EventKind, Ticket, TicketEvent


def cond(field: str, operator: str, value: Any = None) -> dict[str, Any]:
    return {"field": field, "operator": operator, "value": value}


def act(type_: str, value: Any = None) -> dict[str, Any]:
    return {"type": type_, "value": value}


def rule(world: TenantWorld, *, trigger: str = "ticket_created", groups: list | None = None,
         actions: list | None = None, active: bool = True, **fields: Any) -> Rule:
    data = {"name": fields.pop("name", "A rule"), "trigger": trigger, "condition_groups": groups or [],
            "actions": actions or [act("set_priority", "high")], "active": active, **fields}
    with tenant_context(world.tenant):
        return services.rule_create(actor=world.admin, data=data)


def fresh(world: TenantWorld, ticket: Ticket) -> Ticket:
    with tenant_context(world.tenant):
        return Ticket.objects.select_related("department", "assignee", "category").get(pk=ticket.pk)


def tags_of(world: TenantWorld, ticket: Ticket) -> list[str]:
    with tenant_context(world.tenant):
        return sorted(ticket.tags.values_list("name", flat=True))


def rule_events(world: TenantWorld, ticket: Ticket) -> list[TicketEvent]:
    with tenant_context(world.tenant):
        return list(TicketEvent.objects.filter(ticket=ticket, kind=EventKind.RULE_APPLIED).order_by("id"))


def kinds(world: TenantWorld, ticket: Ticket) -> list[str]:
    with tenant_context(world.tenant):
        return list(TicketEvent.objects.filter(ticket=ticket).order_by("id").values_list("kind", flat=True))
