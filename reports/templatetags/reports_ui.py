"""Template helpers of the reports: figures as the export writes them, durations in words, and a ticket's rating
on its page."""

from __future__ import annotations

from decimal import Decimal

from django import template

from reports.ratings import rating_for_ticket
from tickets.models import Ticket

register = template.Library()


@register.filter
def number(value: float | Decimal | int | None) -> str:
    """A figure as the CSV has it: 8078 rather than 8078.0 (averages and percentages are floats, sums are
    decimals), 97.5 as it is; nothing for no value."""
    if value is None:
        return ""
    whole = value.is_integer() if isinstance(value, float) else (
        isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value())
    return str(int(value)) if whole else str(value)


@register.filter
def duration(seconds: float | None) -> str:
    """42 s, 5 min 3 s, 2 h 5 min, 3 d 4 h; an em dash for nothing measured."""
    if seconds is None:
        return "—"
    total = int(round(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


@register.inclusion_tag("reports/includes/ticket_rating.html")
def ticket_rating(ticket: Ticket) -> dict:
    return {"rating": rating_for_ticket(ticket=ticket)}
