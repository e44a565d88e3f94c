"""Reads for tickets, always through what the acting member or key may see."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connection
from django.db.models import Count, Prefetch, Q, QuerySet

from departments.models import AgentProfile, Department
from departments.selectors import department_ids_of_agent
from helpdesk.errors import NotFound
from helpdesk.filters import filterset_qs
from helpdesk.principals import Actor
from helpdesk.tenancy import require_active_tenant
from tickets.filters import TicketFilter
from tickets.models import ACTIVE_STATUSES, Attachment, Message, MessageKind, Tag, Ticket, TicketEvent, TicketTag


def ticket_visible_q(*, actor: Actor) -> Q:
    """Admins see every ticket; agents see their departments' tickets, their own, and those with no
    department (a one-person company has no departments at all)."""
    if actor.is_admin:
        return Q()
    agent = actor.agent
    if agent is None:
        return Q(pk__in=[])
    department_ids = list(agent.department_memberships.values_list("department_id", flat=True))
    return Q(department_id__in=department_ids) | Q(assignee_id=agent.pk) | Q(department__isnull=True)


def ticket_list(*, actor: Actor, filters: Mapping[str, Any] | None = None) -> QuerySet[Ticket]:
    """Visible tickets with what a list row shows, in a fixed number of queries however many rows.

    ``filters`` are TicketFilter parameters (a query string's values); a bad one raises ApplicationError.
    """
    tickets = (
        Ticket.objects.filter(ticket_visible_q(actor=actor))
        .select_related("department", "assignee", "contact", "category")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
    )
    if filters is None:
        return tickets
    return filterset_qs(TicketFilter(data=filters, queryset=tickets, actor=actor))


# What a row of a ticket list shows, as plain values (related rows' columns joined in, "department__name").
# Lists read these instead of model instances: building a ticket with four related instances and its tag
# manager was most of a list page's time.
TICKET_ROW_FIELDS = (
    "id", "code", "subject", "channel", "status", "postponed_until", "priority",
    "department_id", "department__name", "assignee_id", "assignee__display_name",
    "contact_id", "contact__name", "contact__email", "contact__phone", "contact__location", "contact__visitor_id",
    "category_id", "category__name", "created_at", "updated_at", "first_response_at", "resolved_at",
    "sla_policy_id", "sla_due_at", "sla_paused_since", "first_response_due_at", "first_response_breached_at",
    "next_response_due_at", "next_response_breached_at", "resolution_due_at", "resolution_breached_at",
)


def ticket_rows(tickets: QuerySet[Ticket]) -> QuerySet[dict[str, Any]]:
    """``tickets`` (from ticket_list, filtered and ordered as wanted) read as TICKET_ROW_FIELDS dicts."""
    return tickets.select_related(None).prefetch_related(None).values(*TICKET_ROW_FIELDS)


def ticket_row_of(ticket: Ticket) -> dict[str, Any]:
    """One ticket instance as the row ticket_rows would read for it."""
    row = {}
    for name in TICKET_ROW_FIELDS:
        related, _, column = name.partition("__")
        if column:
            obj = getattr(ticket, related)
            row[name] = None if obj is None else getattr(obj, column)
        else:
            row[name] = getattr(ticket, name)
    return row


def tag_names_by_ticket(*, ticket_ids: Iterable[int]) -> dict[int, list[str]]:
    """The tag names of each of these tickets, alphabetically, in one query."""
    names: dict[int, list[str]] = {}
    ids = list(ticket_ids)
    if not ids:
        return names
    if connection.vendor == "postgresql":
        # Every list page asks this for fifty tickets; as one array parameter in a plain statement it costs a
        # third of the ORM's IN list of fifty values, each prepared on its own. Scoped to the tenant like the
        # manager would (row-level security applies as well).
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT tt.ticket_id, t.name FROM tickets_tickettag tt JOIN tickets_tag t ON t.id = tt.tag_id "
                "WHERE tt.tenant_id = %s AND tt.ticket_id = ANY(%s) ORDER BY t.name",
                [require_active_tenant().pk, ids],
            )
            pairs = cursor.fetchall()
    else:
        pairs = TicketTag.objects.filter(ticket_id__in=ids).order_by("tag__name").values_list("ticket_id", "tag__name")
    for ticket_id, name in pairs:
        names.setdefault(ticket_id, []).append(name)
    return names


def to_solve_q(*, actor: Actor) -> Q:
    """The To solve queue: unassigned, still-active tickets of To solve departments (or of no department)."""
    return Q(assignee__isnull=True, status__in=ACTIVE_STATUSES) & (
        Q(department__isnull=True) | Q(department__to_solve_enabled=True)
    )


def inbox_ticket_list(
    *, actor: Actor, view: str, department: Department | None = None, filters: Mapping[str, Any] | None = None,
    scope: Q | None = None,
) -> QuerySet[Ticket]:
    """The tickets of one inbox view ("all", "mine", "to_solve" or "department") narrowed by ``filters`` and
    by an inbox scope's tickets (tickets.scopes), if any.

    A bad filter value raises ApplicationError naming the parameter.
    """
    tickets = ticket_list(actor=actor, filters=filters or {})
    if scope is not None:
        tickets = tickets.filter(scope)
    if view == "mine":
        agent = actor.agent
        return tickets.filter(assignee=agent) if agent else tickets.none()
    if view == "to_solve":
        return tickets.filter(to_solve_q(actor=actor))
    if view == "department":
        return tickets.filter(department=department)
    return tickets


def ticket_get(*, actor: Actor, ticket_id: int | None = None, code: str | None = None) -> Ticket:
    lookup = {"pk": ticket_id} if ticket_id is not None else {"code": (code or "").upper()}
    ticket = ticket_list(actor=actor).filter(**lookup).first()
    if ticket is None:
        raise NotFound("No such ticket.")
    return ticket


def message_list(*, actor: Actor, ticket: Ticket, include_notes: bool = True) -> QuerySet[Message]:
    messages = (
        Message.objects.filter(ticket=ticket)
        .select_related("author_agent")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
        .order_by("created_at", "id")
    )
    if not include_notes:
        messages = messages.exclude(kind=MessageKind.NOTE)
    return messages


def event_list(*, actor: Actor, ticket: Ticket) -> QuerySet[TicketEvent]:
    return TicketEvent.objects.filter(ticket=ticket).order_by("created_at", "id")


def attachment_get(*, actor: Actor, attachment_id: int) -> Attachment:
    attachment = Attachment.objects.select_related("message__ticket").filter(pk=attachment_id).first()
    if attachment is None or not ticket_list(actor=actor).filter(pk=attachment.message.ticket_id).exists():
        raise NotFound("No such attachment.")
    return attachment


def contact_history(*, actor: Actor, ticket: Ticket, limit: int = 20) -> list[Ticket]:
    """The customer's other tickets that this actor may see, newest first."""
    return list(
        Ticket.objects.filter(ticket_visible_q(actor=actor), contact_id=ticket.contact_id)
        .exclude(pk=ticket.pk)
        .only("id", "code", "subject", "status", "created_at", "channel", "tenant_id")
        .order_by("-created_at", "-id")[:limit]
    )


def department_choices(*, actor: Actor) -> QuerySet[Department]:
    return Department.objects.only("id", "name", "tenant_id").order_by("name")


def assignee_choices(*, actor: Actor) -> QuerySet[AgentProfile]:
    return AgentProfile.objects.only("id", "display_name", "tenant_id").order_by("display_name")


def assignee_options(*, actor: Actor) -> list[tuple[int, str]]:
    """(id, name) of every agent, for filter menus: plain tuples, as a menu of hundreds needs no models."""
    return list(AgentProfile.objects.order_by("display_name", "id").values_list("id", "display_name"))


def department_counts(*, actor: Actor) -> dict[int, dict[str, int]]:
    """Active and unassigned tickets per department in the actor's inbox sidebar (admins: every department;
    agents: their own), in two queries however many departments and tickets there are.

    Only active tickets are counted, through the status index, so the cost follows the open work, not history.
    """
    if actor.is_admin:
        department_ids = list(Department.objects.values_list("id", flat=True))
    elif actor.agent is not None:
        department_ids = department_ids_of_agent(agent=actor.agent)
    else:
        department_ids = []
    counts = {department_id: {"open": 0, "unassigned": 0} for department_id in department_ids}
    if not department_ids:
        return counts
    rows = (
        Ticket.objects.filter(department_id__in=department_ids, status__in=ACTIVE_STATUSES)
        .order_by().values("department_id")
        .annotate(open=Count("id"), unassigned=Count("id", filter=Q(assignee__isnull=True)))
    )
    for row in rows:
        counts[row["department_id"]] = {"open": row["open"], "unassigned": row["unassigned"]}
    return counts
