"""The ticket page's SLA panel and the reply box's canned-response picker."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from tickets import sla
from tickets.models import Ticket

register = template.Library()


def _duration(seconds: int) -> str:
    """"2 h 05 min" of business time; negative amounts read as overdue."""
    minutes = abs(seconds) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = ([f"{days} d"] if days else []) + ([f"{hours} h"] if hours or days else []) + [f"{minutes:02d} min"]
    return " ".join(parts) if seconds >= 0 else "overdue by " + " ".join(parts)


@register.inclusion_tag("tickets/includes/sla_panel.html")
def ticket_sla(ticket: Ticket) -> dict[str, Any]:
    """Due time, remaining business time and state of each SLA target of the ticket."""
    rows = sla.sla_state(ticket)
    for row in rows:
        remaining = row["remaining_seconds"]
        row["remaining"] = "" if remaining is None else _duration(remaining)
    return {"ticket": ticket, "policy": ticket.sla_policy, "rows": rows}


@register.inclusion_tag("tickets/includes/canned_picker.html")
def canned_picker(ticket: Ticket, target: str) -> dict[str, Any]:
    """The search list that inserts a canned response into the textarea with id ``target``."""
    return {"url": reverse("ticket-canned-responses", args=[ticket.code]), "target": target}
