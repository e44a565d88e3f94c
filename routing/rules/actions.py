"""Applying a rule's actions to a ticket through the tickets services, so the system log records each change
under the rule's name; the caller holds one transaction around all of them, so a ticket is never half-changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone

from departments.models import AgentProfile, Department
from helpdesk.errors import NotFound
from helpdesk.principals import Actor
from routing.models import Rule
from routing.rules import integrations
from tickets import services as ticket_services
from tickets.models import PRIORITY_BY_NAME, PRIORITY_NAMES, Category, EventKind, MessageKind, Status, Ticket


@dataclass(frozen=True)
class RuleActor(Actor):
    """A rule acting on a ticket: the log names the rule; it is nobody's agent."""

    rule_name: str = ""

    @property
    def label(self) -> str:
        return f"Rule “{self.rule_name}”"


class ReferenceMissing(Exception):
    """The rule names a department, agent, category, template or SLA level that no longer exists."""

    def __init__(self, kind: str, pk: Any):
        super().__init__(f"The {kind} this rule names (id {pk}) no longer exists.")
        self.kind = kind
        self.pk = pk


def _get(model, kind: str, pk: int):
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise ReferenceMissing(kind, pk)
    return found


def snapshot(ticket: Ticket) -> dict[str, Any]:
    """What the log's summary compares before and after a rule, as readable values."""
    return {
        "status": ticket.status,
        "priority": PRIORITY_NAMES[ticket.priority],
        "department": ticket.department.name if ticket.department_id else None,
        "assignee": ticket.assignee.display_name if ticket.assignee_id else None,
        "category": ticket.category.name if ticket.category_id else None,
        "postponed_until": ticket.postponed_until.isoformat() if ticket.postponed_until else None,
        "tags": sorted(ticket.tags.values_list("name", flat=True)),
    }


def planned_changes(actions: list[dict[str, Any]], *, current_tags: set[str]) -> dict[str, Any]:
    """The ticket_update arguments of the field-setting actions (later actions win for the same field), with
    ids still to be looked up. Pure: the dry run shows these without touching anything."""
    changes: dict[str, Any] = {}
    tags = set(current_tags)
    tags_touched = False
    for action in actions:
        kind, value = action["type"], action.get("value")
        if kind == "transfer":
            changes["department"] = value
        elif kind == "assign":
            changes["assignee"] = value
        elif kind == "unassign":
            changes["assignee"] = None
        elif kind == "set_priority":
            changes["priority"] = PRIORITY_BY_NAME[value]
        elif kind == "set_status":
            changes["status"] = value
            changes.pop("postponed_until", None)
        elif kind == "mark_spam":
            changes["status"] = Status.SPAM
            changes.pop("postponed_until", None)
        elif kind == "resolve":
            changes["status"] = Status.RESOLVED
            changes.pop("postponed_until", None)
        elif kind == "postpone":
            changes["status"] = Status.POSTPONED
            changes["postponed_until"] = timedelta(minutes=value)
        elif kind == "set_category":
            changes["category"] = value
        elif kind == "add_tags":
            tags |= set(value)
            tags_touched = True
        elif kind == "remove_tags":
            tags -= set(value)
            tags_touched = True
    if tags_touched:
        changes["tags"] = sorted(tags)
    return changes


def rule_actions_apply(*, rule: Rule, ticket: Ticket, trigger: str) -> dict[str, Any]:
    """Apply ``rule``'s actions to ``ticket`` (locked by the caller) and log the firing. Returns what changed,
    {field: [before, after]}. Raises ReferenceMissing when the rule names something deleted."""
    actor = RuleActor(tenant=ticket.tenant, role="admin", rule_name=rule.name)
    before = snapshot(ticket)
    planned = planned_changes(rule.actions, current_tags=set(before["tags"]))
    updates: dict[str, Any] = {}
    for name, value in planned.items():
        if name == "department":
            updates[name] = _get(Department, "department", value)
        elif name == "assignee":
            updates[name] = None if value is None else _get(AgentProfile, "agent", value)
        elif name == "category":
            updates[name] = _get(Category, "category", value)
        elif name == "postponed_until":
            updates[name] = timezone.now() + value
        else:
            updates[name] = value
    extra: list[str] = []
    if updates:
        ticket = ticket_services.ticket_update(actor=actor, ticket=ticket, **updates)
    for action in rule.actions:
        kind, value = action["type"], action.get("value")
        if kind == "add_note":
            ticket_services.message_add(actor=actor, ticket=ticket, kind=MessageKind.NOTE, body=value)
            extra.append("added an internal note")
        elif kind == "send_auto_reply":
            _call_integration("template_send_auto_reply", "template", value, ticket=ticket, template_id=value,
                              actor=actor)
            extra.append("sent an auto-reply")
        elif kind == "apply_sla":
            _call_integration("sla_apply", "SLA level", value, ticket=ticket, policy_id=value, actor=actor)
            extra.append("applied an SLA level")
    ticket = Ticket.objects.select_related("department", "assignee", "category").get(pk=ticket.pk)
    after = snapshot(ticket)
    changed = {name: [before[name], after[name]] for name in before if before[name] != after[name]}
    ticket_services.event_append(ticket=ticket, kind=EventKind.RULE_APPLIED, actor=actor, data={
        "rule_id": rule.pk, "rule": rule.name, "trigger": trigger, "changes": changed, "also": extra,
    })
    return changed


def _call_integration(name: str, kind: str, pk: Any, **kwargs: Any) -> None:
    service = integrations.service(name)
    if service is None:
        raise RuntimeError(f"{name} is not available in this help desk.")
    try:
        service(**kwargs)
    except NotFound as exc:
        raise ReferenceMissing(kind, pk) from exc
