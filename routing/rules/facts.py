"""Reading what conditions see of a ticket: one query for the ticket and its customer, one for its tags, and
the latest customer message or business hours only when a condition looks at them."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from helpdesk.tenancy import require_active_tenant
from routing.rules import integrations
from routing.rules.conditions import TicketFacts
from tickets.models import Message, MessageKind, Ticket, TicketTag


def tenant_zone() -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(require_active_tenant().time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def facts_of(ticket: Ticket, *, tags: Iterable[str], body: str = "", in_business_hours: bool | None = None,
             zone: zoneinfo.ZoneInfo | None = None) -> TicketFacts:
    """Facts of a ticket already read with its contact (pure apart from the time zone lookup)."""
    zone = zone or tenant_zone()
    return TicketFacts(
        channel=ticket.channel, subject=ticket.subject, body=body,
        customer_email=ticket.contact.email or "", customer_name=ticket.contact.name or "",
        department=ticket.department_id, priority=ticket.priority, status=ticket.status,
        tags=frozenset(tags), assignee=ticket.assignee_id, category=ticket.category_id,
        in_business_hours=in_business_hours, created_at=ticket.created_at,
        created_time=ticket.created_at.astimezone(zone).time().replace(second=0, microsecond=0),
    )


def facts_read(ticket_id: int, *, needed: frozenset[str], lock: bool = False) -> TicketFacts | None:
    """The ticket's facts now, or None when it is gone. ``lock`` holds its row until the transaction ends, so
    the conditions checked are the state the actions change."""
    tickets = Ticket.objects.filter(pk=ticket_id)
    if lock:
        tickets = tickets.select_for_update(no_key=True, of=("self",))
    found = facts_scan(tickets, needed=needed, limit=1, hours_at=timezone.now())
    return found[0][1] if found else None


def facts_for(tickets: list[Ticket], *, needed: frozenset[str], hours_at: datetime | None = None,
              ) -> dict[int, TicketFacts]:
    """Facts of many tickets read with their contacts and tags prefetched, in a few queries. Business hours
    are those at ``hours_at``, or else at each ticket's creation (what a dry run over past tickets asks)."""
    ids = [t.pk for t in tickets]
    bodies: dict[int, str] = {}
    if "body" in needed and ids:
        for ticket_id, body in (Message.objects.filter(ticket_id__in=ids, kind=MessageKind.CUSTOMER)
                                .order_by("ticket_id", "-created_at", "-id").distinct("ticket_id")
                                .values_list("ticket_id", "body")):
            bodies[ticket_id] = body
    contains = integrations.service("business_hours_contains") if "in_business_hours" in needed else None
    zone = tenant_zone()
    return {
        t.pk: facts_of(
            t, tags=[tag.name for tag in t.tags.all()], body=bodies.get(t.pk, ""),
            in_business_hours=bool(contains(t.department_id, hours_at or t.created_at)) if contains else None,
            zone=zone,
        )
        for t in tickets
    }


_SCAN_COLUMNS = ("pk", "channel", "subject", "status", "priority", "department_id", "assignee_id", "category_id",
                 "created_at", "contact__email", "contact__name")


def facts_scan(tickets: QuerySet[Ticket], *, needed: frozenset[str], limit: int, hours_at: datetime | None = None,
               ) -> list[tuple[int, TicketFacts]]:
    """Facts of up to ``limit`` tickets of an ordered queryset, read as plain rows (no model instances: a dry
    run checks thousands). Business hours are those at ``hours_at``, or else at each ticket's creation."""
    rows = list(tickets.values(*_SCAN_COLUMNS)[:limit])
    ids = [row["pk"] for row in rows]
    tags: dict[int, set[str]] = {}
    if "tags" in needed and ids:
        for ticket_id, name in TicketTag.objects.filter(ticket_id__in=ids).values_list("ticket_id", "tag__name"):
            tags.setdefault(ticket_id, set()).add(name)
    bodies: dict[int, str] = {}
    if "body" in needed and ids:
        bodies = dict(Message.objects.filter(ticket_id__in=ids, kind=MessageKind.CUSTOMER)
                      .order_by("ticket_id", "-created_at", "-id").distinct("ticket_id")
                      .values_list("ticket_id", "body"))
    contains = integrations.service("business_hours_contains") if "in_business_hours" in needed else None
    zone = tenant_zone()
    return [(row["pk"], TicketFacts(
        channel=row["channel"], subject=row["subject"], body=bodies.get(row["pk"], ""),
        customer_email=row["contact__email"] or "", customer_name=row["contact__name"] or "",
        department=row["department_id"], priority=row["priority"], status=row["status"],
        tags=frozenset(tags.get(row["pk"], ())), assignee=row["assignee_id"], category=row["category_id"],
        in_business_hours=bool(contains(row["department_id"], hours_at or row["created_at"])) if contains else None,
        created_at=row["created_at"],
        created_time=row["created_at"].astimezone(zone).time().replace(second=0, microsecond=0),
    )) for row in rows]
