"""What a rule (saved or not) would have matched among past tickets, and what it would have changed, without
changing anything.

Tickets are judged as they are now. The conditions the database can decide become one filter, so the count
is exact and fast on any number of tickets; when a condition needs Python (a pattern, the message, business
hours, time of day) at most SCAN_LIMIT of the filtered tickets are checked, newest first, and the count says
it is a lower bound.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from departments.models import AgentProfile, Department
from helpdesk.errors import ApplicationError
from helpdesk.principals import Actor
from routing.rules.actions import planned_changes
from routing.rules.conditions import groups_match, needed_facts
from routing.rules.facts import facts_scan
from routing.rules.queries import groups_q
from routing.rules.services import rule_validate
from tickets.models import PRIORITY_NAMES, Category, Ticket

SCAN_LIMIT = 5000
SHOWN = 50
MAX_RANGE_DAYS = 366


@dataclass
class DryRunTicket:
    id: int
    code: str
    subject: str
    created_at: datetime
    changes: dict[str, list[Any]]
    also: list[str]


@dataclass
class DryRun:
    matched: int
    complete: bool
    scanned: int
    tickets: list[DryRunTicket] = field(default_factory=list)


def rule_dry_run(*, actor: Actor, data: dict[str, Any], start: datetime, end: datetime,
                 shown: int = SHOWN) -> DryRun:
    if not actor.is_admin:
        from helpdesk.errors import PermissionDenied

        raise PermissionDenied("Only admins try rules.")
    errors: dict[str, list[str]] = {}
    if end <= start:
        errors["end"] = ["The end must be after the start."]
    elif (end - start).days > MAX_RANGE_DAYS:
        errors["end"] = [f"At most {MAX_RANGE_DAYS} days at a time."]
    if errors:
        raise ApplicationError("The dry run could not start.", fields=errors)
    clean = rule_validate(data)
    q, exact = groups_q(clean.condition_groups)
    tickets = Ticket.objects.filter(created_at__gte=start, created_at__lt=end).filter(q).order_by(
        "-created_at", "-id")
    if exact:
        matched = tickets.count()
        shown_ids = list(tickets.values_list("pk", flat=True)[:shown])
        result = DryRun(matched=matched, complete=True, scanned=matched)
    else:
        scan = facts_scan(tickets, needed=needed_facts(clean.condition_groups), limit=SCAN_LIMIT)
        hits = [pk for pk, facts in scan if groups_match(clean.condition_groups, facts)]
        shown_ids = hits[:shown]
        result = DryRun(matched=len(hits), complete=len(scan) < SCAN_LIMIT, scanned=len(scan))
    by_id = Ticket.objects.select_related("department", "assignee", "category").prefetch_related("tags").in_bulk(
        shown_ids)
    rows = [by_id[pk] for pk in shown_ids]
    names = _names(clean.actions)
    for ticket in rows:
        changes, also = _would_change(ticket, clean.actions, names)
        result.tickets.append(DryRunTicket(id=ticket.pk, code=ticket.code, subject=ticket.subject,
                                           created_at=ticket.created_at, changes=changes, also=also))
    return result


def _names(actions: list[dict[str, Any]]) -> dict[tuple[str, int], str]:
    """Names of the departments, agents and categories the actions name, in one query each."""
    names: dict[tuple[str, int], str] = {}
    for kind, model, label in (("transfer", Department, "name"), ("assign", AgentProfile, "display_name"),
                               ("set_category", Category, "name")):
        ids = [a["value"] for a in actions if a["type"] == kind]
        for pk, name in model.objects.filter(pk__in=ids).values_list("pk", label):
            names[(kind, pk)] = name
    return names


def _would_change(ticket: Ticket, actions: list[dict[str, Any]],
                  names: dict[tuple[str, int], str]) -> tuple[dict[str, list[Any]], list[str]]:
    tags = sorted(t.name for t in ticket.tags.all())
    planned = planned_changes(actions, current_tags=set(tags))
    current = {
        "department": ticket.department.name if ticket.department_id else None,
        "assignee": ticket.assignee.display_name if ticket.assignee_id else None,
        "category": ticket.category.name if ticket.category_id else None,
        "priority": PRIORITY_NAMES[ticket.priority], "status": ticket.status, "tags": tags,
    }
    after = dict(current)
    for name, value in planned.items():
        if name == "department":
            after[name] = names.get(("transfer", value))
        elif name == "assignee":
            after[name] = None if value is None else names.get(("assign", value))
        elif name == "category":
            after[name] = names.get(("set_category", value))
        elif name == "priority":
            after[name] = PRIORITY_NAMES[value]
        elif name == "postponed_until":
            after["postponed_for_minutes"] = int(value.total_seconds() // 60)
        else:
            after[name] = value
    changes = {name: [current.get(name), after[name]] for name in after if current.get(name) != after[name]}
    also = [{"add_note": "add an internal note", "send_auto_reply": "send an auto-reply",
             "apply_sla": "apply an SLA level"}[a["type"]]
            for a in actions if a["type"] in ("add_note", "send_auto_reply", "apply_sla")]
    return changes, also
