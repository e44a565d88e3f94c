"""Display helpers of the ticket pages.

``event_line`` turns system log entries into sentences an agent reads at a glance: "Alice transferred from
Sales to Billing".

The log stores names as they were at the time of the event (``{"department": ["Sales", "Billing"]}``), so
nothing here looks anything up: renaming a department later does not rewrite history.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import dateformat, timezone
from django.utils.dateparse import parse_datetime
from django.utils.timesince import timesince

from tickets.models import ActorType, Channel, EventKind, Status, TicketEvent

register = template.Library()

_STATUS_LABELS = dict(Status.choices)
_CHANNEL_LABELS = dict(Channel.choices)


def _status(value: Any) -> str:
    return _STATUS_LABELS.get(value, str(value))


def _or(value: Any, empty: str) -> str:
    return str(value) if value not in (None, "") else empty


def _when(value: Any) -> str:
    moment = parse_datetime(value) if isinstance(value, str) else value
    if moment is None:
        return str(value)
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return dateformat.format(moment, "j M Y, H:i")


def _names(values: list[str]) -> str:
    if len(values) <= 1:
        return "".join(values)
    return ", ".join(values[:-1]) + " and " + values[-1]


def _assignee_change(before: Any, after: Any) -> str:
    if after is None:
        return f"unassigned {before}"
    if before is None:
        return f"assigned it to {after}"
    return f"reassigned it from {before} to {after}"


def _sentence(event: TicketEvent) -> str:
    data = event.data or {}
    kind = event.kind
    if kind == EventKind.CREATED:
        channel = data.get("channel") or event.channel
        # Without an agent or key behind it, the customer opened the ticket: "System created" would mislead.
        text = "opened" if event.actor_type == ActorType.SYSTEM else "created the ticket"
        text += f" via {_CHANNEL_LABELS.get(channel, channel)}"
        if data.get("department"):
            text += f" in {data['department']}"
        if data.get("assignee"):
            text += f" for {data['assignee']}"
        return text
    if kind == EventKind.CUSTOMER_MESSAGE:
        return "wrote a message"
    if kind == EventKind.AGENT_REPLY:
        return "replied to the customer"
    if kind == EventKind.NOTE_ADDED:
        return "added an internal note"
    if kind == EventKind.ASSIGNED:
        before, after = (data.get("assignee") or [None, None])[:2]
        if data.get("via") == "to_solve":
            return "took the ticket from To solve"
        if after is None:
            return f"unassigned the ticket (was {before})"
        if before is None:
            return f"assigned the ticket to {after}"
        return f"reassigned the ticket from {before} to {after}"
    if kind == EventKind.TRANSFERRED:
        parts = []
        if "department" in data:
            before, after = data["department"][:2]
            parts.append(f"transferred from {_or(before, 'no department')} to {_or(after, 'no department')}")
        if "assignee" in data:
            before, after = data["assignee"][:2]
            parts.append(_assignee_change(before, after))
        return " and ".join(parts) or "transferred the ticket"
    if kind == EventKind.STATUS_CHANGED:
        before, after = data.get("status", [None, None])[:2]
        return f"changed status from {_status(before)} to {_status(after)}"
    if kind == EventKind.POSTPONED:
        return f"postponed the ticket until {_when(data.get('postponed_until'))}"
    if kind == EventKind.PRIORITY_CHANGED:
        before, after = data.get("priority", [None, None])[:2]
        return f"changed priority from {_or(before, 'none').capitalize()} to {_or(after, 'none').capitalize()}"
    if kind == EventKind.TAGS_CHANGED:
        added, removed = data.get("added") or [], data.get("removed") or []
        parts = []
        if added:
            parts.append(f"added tag{'s' if len(added) > 1 else ''} {_names(added)}")
        if removed:
            parts.append(f"removed tag{'s' if len(removed) > 1 else ''} {_names(removed)}")
        return " and ".join(parts) or "changed tags"
    if kind == EventKind.CATEGORY_CHANGED:
        before, after = data.get("category", [None, None])[:2]
        return f"changed category from {_or(before, 'none')} to {_or(after, 'none')}"
    if kind == EventKind.SUBJECT_CHANGED:
        before, after = data.get("subject", [None, None])[:2]
        return f"renamed the ticket from “{before}” to “{after}”"
    if kind == EventKind.RULE_APPLIED:
        return _rule_sentence(data)
    sla_text = _sla_sentence(kind, data)
    if sla_text is not None:
        return sla_text
    return _routing_sentence(event, data) or event.get_kind_display().lower()


def _rule_change(name: str, before: Any, after: Any) -> str:
    if name == "tags":
        added = sorted(set(after or []) - set(before or []))
        removed = sorted(set(before or []) - set(after or []))
        parts = [f"+{t}" for t in added] + [f"−{t}" for t in removed]
        return f"tags {' '.join(parts)}"
    if name == "status":
        before, after = _status(before), _status(after)
    if name == "priority":
        before, after = _or(before, "none").capitalize(), _or(after, "none").capitalize()
    if name == "postponed_until":
        return f"postponed until {_when(after)}" if after else "no longer postponed"
    return f"{name} {_or(before, 'none')} → {_or(after, 'none')}"


def _rule_sentence(data: dict) -> str:
    """The rule is the actor ("Rule “VIP”"); this says what it did: "fired: priority Medium → High"."""
    parts = [_rule_change(name, *values[:2]) for name, values in (data.get("changes") or {}).items()]
    parts.extend(data.get("also") or [])
    return f"fired: {'; '.join(parts)}" if parts else "fired (nothing to change)"


_SLA_TARGETS = {"first_response": "first response", "next_response": "next response", "resolution": "resolution"}
_EMAIL_KINDS = {
    "acknowledgement": "an acknowledgement", "out_of_hours": "an out-of-hours reply", "reply": "a reply email",
    "resolved": "a resolved email", "satisfaction": "a satisfaction request",
}


def _sla_sentence(kind: str, data: dict) -> str | None:
    """SLA announcements and emails: "first response breached (due 3 Mar 2025, 10:00)"."""
    target = _SLA_TARGETS.get(data.get("target"), data.get("target"))
    if kind == EventKind.SLA_DUE_SOON:
        return f"{target} due soon, at {_when(data.get('due_at'))}"
    if kind == EventKind.SLA_BREACHED:
        return f"{target} breached (was due {_when(data.get('due_at'))})"
    if kind == EventKind.SLA_APPLIED:
        before, after = (data.get("policy") or [None, None])[:2]
        if after is None:
            return f"removed the SLA {before}"
        return f"set the SLA to {after}" + (f" (was {before})" if before else "")
    if kind == EventKind.AUTO_REPLY_SENT:
        return f"sent {_EMAIL_KINDS.get(data.get('kind'), 'an email')} to {data.get('to')}"
    if kind == EventKind.EMAIL_FAILED:
        return (f"could not deliver “{data.get('subject')}” to {data.get('to')} after {data.get('attempts')} "
                f"attempts: {data.get('error')}")
    return None


def _routing_sentence(event: TicketEvent, data: dict) -> str | None:
    kind = event.kind
    if kind == EventKind.ROUTED:
        offered = data.get("offered_to") or []
        method = (data.get("method") or "").replace("_", " ")
        if offered:
            return f"offered it to {_names(offered)} ({method})"
        return f"found no eligible agent ({method}); it waits in the queue"
    if kind == EventKind.OFFER_DECLINED:
        return "declined the offer"
    if kind == EventKind.OFFER_MISSED:
        return "let the offer ring out"
    if kind == EventKind.OFFER_WITHDRAWN:
        return "no longer has the offer ringing"
    if kind == EventKind.CALL_ANSWERED:
        return f"answered the call{' (' + data['agent'] + ')' if data.get('agent') else ''}"
    if kind == EventKind.CALL_ENDED:
        seconds = data.get("duration_seconds")
        return f"ended the call after {seconds} s" if seconds is not None else "ended the call"
    if kind == EventKind.CALL_MISSED:
        return "reported the call as missed"
    return _chat_sentence(event, data)


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, int):
        return ""
    if seconds < 60:
        return f"{seconds} s"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def _chat_sentence(event: TicketEvent, data: dict) -> str | None:
    kind = event.kind
    if kind == EventKind.CHAT_STARTED:
        return f"started a chat from the {data['widget']} widget" if data.get("widget") else "started a chat"
    if kind == EventKind.CHAT_ENDED:
        if data.get("by") == "visitor" and data.get("answered") is False:
            return "left before anyone answered: the chat ended"
        duration = _duration(data.get("duration_seconds"))
        return f"ended the chat after {duration}" if duration else "ended the chat"
    if kind == EventKind.CHAT_TRANSFERRED:
        return f"transferred the chat to {data.get('to') or 'someone else'}"
    if kind == EventKind.VISITOR_LEFT:
        return "left the chat"
    if kind == EventKind.VISITOR_RETURNED:
        return "came back to the chat"
    return None


@register.filter
def event_line(event: TicketEvent) -> dict[str, str]:
    """``{"actor": "Alice", "text": "transferred from Sales to Billing"}`` for one log entry."""
    if event.kind == EventKind.CREATED and event.actor_type == ActorType.SYSTEM:
        return {"actor": "Ticket", "text": _sentence(event)}
    actor = event.actor_label or ("Customer" if event.actor_type == ActorType.CUSTOMER else "System")
    return {"actor": actor, "text": _sentence(event)}


@register.filter
def ago(moment) -> str:
    """"3 hours ago": one unit is enough in a list; the exact time is in the title attribute."""
    if not moment:
        return ""
    return f"{timesince(moment, depth=1)} ago"
