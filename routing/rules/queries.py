"""Conditions as database filters, where the database can decide them exactly; the rest (patterns, the
message body, business hours, time of day, parts of an email domain) are left to Python on a bounded set."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Q

from routing.rules.fields import (
    CONTAINS,
    GREATER,
    IN,
    IS,
    IS_EMPTY,
    IS_NOT,
    IS_NOT_EMPTY,
    LESS,
    NOT_CONTAINS,
    NOT_IN,
    PRIORITY_VALUES,
    STARTS_WITH,
)
from tickets.models import TicketTag

_COLUMNS = {"channel": "channel", "status": "status", "priority": "priority", "department": "department_id",
            "assignee": "assignee_id", "category": "category_id"}
_TEXT_COLUMNS = {"subject": "subject", "customer_email": "contact__email", "customer_name": "contact__name"}


def _tag_exists(**lookup: Any) -> Exists:
    return Exists(TicketTag.objects.filter(ticket_id=OuterRef("pk"), **lookup))


def condition_q(condition: dict[str, Any]) -> Q | None:
    """The condition as a filter on tickets, or None when the database cannot decide it exactly."""
    name, operator, value = condition["field"], condition["operator"], condition.get("value")
    if name == "priority":
        value = [PRIORITY_VALUES[v] for v in value] if isinstance(value, list) else PRIORITY_VALUES.get(value)
    if name in _COLUMNS:
        column = _COLUMNS[name]
        return {
            IS: lambda: Q(**{column: value}), IS_NOT: lambda: ~Q(**{column: value}),
            IN: lambda: Q(**{f"{column}__in": value}), NOT_IN: lambda: ~Q(**{f"{column}__in": value}),
            IS_EMPTY: lambda: Q(**{f"{column}__isnull": True}), IS_NOT_EMPTY: lambda: Q(**{f"{column}__isnull": False}),
            GREATER: lambda: Q(**{f"{column}__gt": value}), LESS: lambda: Q(**{f"{column}__lt": value}),
        }[operator]()
    if name in _TEXT_COLUMNS:
        column = _TEXT_COLUMNS[name]
        if operator == IS:
            return Q(**{f"{column}__iexact": value})
        if operator == IS_NOT:
            return ~Q(**{f"{column}__iexact": value})
        if operator == CONTAINS:
            return Q(**{f"{column}__icontains": value})
        if operator == NOT_CONTAINS:
            return ~Q(**{f"{column}__icontains": value})
        if operator == STARTS_WITH:
            return Q(**{f"{column}__istartswith": value})
        if operator == IS_EMPTY:
            return Q(**{column: ""})
        if operator == IS_NOT_EMPTY:
            return ~Q(**{column: ""})
        return None  # patterns, and lists compared without case
    if name == "customer_domain" and operator in (IS, IS_NOT):
        q = Q(contact__email__iendswith=f"@{value}")
        return q if operator == IS else ~q
    if name == "tags":
        if operator == CONTAINS:
            return Q(_tag_exists(tag__name=value))
        if operator == NOT_CONTAINS:
            return ~Q(_tag_exists(tag__name=value))
        if operator == IN:
            return Q(_tag_exists(tag__name__in=value))
        if operator == NOT_IN:
            return ~Q(_tag_exists(tag__name__in=value))
        if operator == IS_EMPTY:
            return ~Q(_tag_exists())
        if operator == IS_NOT_EMPTY:
            return Q(_tag_exists())
    if name == "created_at":
        moment = datetime.fromisoformat(value)
        return Q(created_at__gt=moment) if operator == GREATER else Q(created_at__lt=moment)
    return None


def groups_q(groups: Sequence[Sequence[dict[str, Any]]]) -> tuple[Q, bool]:
    """A filter that keeps every ticket the groups match (and, unless ``exact``, some they do not: those
    still need the Python check)."""
    if not groups:
        return Q(), True
    combined = Q()
    exact = True
    first = True
    for group in groups:
        group_q = Q()
        for condition in group:
            q = condition_q(condition)
            if q is None:
                exact = False
            else:
                group_q &= q
        combined = group_q if first else combined | group_q
        first = False
    return combined, exact
