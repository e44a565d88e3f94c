"""The ticket filters shared by the inbox page and the API, so both select exactly the same tickets."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet

# CommaSeparatedField is imported here too for code that found it in this module before it moved down.
from helpdesk.filters import CommaSeparatedField, MultiValueFilter, is_id  # noqa: F401
from tickets.models import PRIORITY_BY_NAME, Channel, Status, Ticket


def _check_assignee(item: str) -> None:
    if item not in ("me", "none") and not is_id(item):
        raise forms.ValidationError(f"{item!r} is not an agent id, `me` or `none`.")


class TicketFilter(django_filters.FilterSet):
    status = MultiValueFilter(
        field_name="status", allowed=list(Status.values), help_text="new, open, ...; several allowed"
    )
    channel = MultiValueFilter(field_name="channel", allowed=list(Channel.values), help_text="email, chat, ...")
    priority = MultiValueFilter(method="filter_priority", allowed=list(PRIORITY_BY_NAME),
                                help_text="low, medium, high, urgent")
    department = MultiValueFilter(field_name="department_id", numeric=True, none_value=True,
                                  help_text="department ids, or `none`")
    assignee = MultiValueFilter(method="filter_assignee", check_item=_check_assignee,
                                help_text="agent ids, `me`, or `none`")
    tag = MultiValueFilter(method="filter_tag", help_text="tag names; a ticket with any of them matches")
    code = django_filters.CharFilter(method="filter_code", help_text="a ticket code")
    q = django_filters.CharFilter(method="filter_keyword", help_text="words in the subject, or a ticket code")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte",
                                                     help_text="created at or after (ISO 8601)")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt",
                                                      help_text="created before (ISO 8601)")
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte",
                                                     help_text="changed at or after (ISO 8601)")
    sla_due_before = django_filters.IsoDateTimeFilter(
        field_name="sla_due_at", lookup_expr="lt", help_text="an SLA target running and due before (ISO 8601)")
    sla_breached = django_filters.BooleanFilter(
        method="filter_sla_breached", help_text="true: a target of the current SLA episodes was breached")
    sla_policy = MultiValueFilter(field_name="sla_policy_id", numeric=True, none_value=True,
                                  help_text="SLA policy ids, or `none`")

    class Meta:
        model = Ticket
        fields: list[str] = []

    def __init__(self, *args: Any, actor: Any = None, **kwargs: Any):
        # Who `assignee=me` means when there is no request (a selector applying the filters for an actor).
        self.actor = actor
        super().__init__(*args, **kwargs)

    def filter_priority(self, qs: QuerySet, name: str, value: list[str]) -> QuerySet:
        unknown = [v for v in value if v not in PRIORITY_BY_NAME]
        if unknown:
            raise forms.ValidationError(f"Unknown priority {unknown[0]!r}.")
        return qs.filter(priority__in=[PRIORITY_BY_NAME[v] for v in value]) if value else qs

    def filter_assignee(self, qs: QuerySet, name: str, value: list[str]) -> QuerySet:
        if not value:
            return qs
        condition = Q(pk__in=[])
        ids = []
        for item in value:
            if item == "none":
                condition |= Q(assignee__isnull=True)
            elif item == "me":
                actor = self.actor or getattr(self.request, "actor", None)
                agent = actor.agent if actor else None
                ids.append(agent.pk if agent else -1)
            elif is_id(item):
                ids.append(int(item))
            else:
                raise forms.ValidationError(f"{item!r} is not an agent id, `me` or `none`.")
        if ids:
            condition |= Q(assignee_id__in=ids)
        return qs.filter(condition)

    def filter_tag(self, qs: QuerySet, name: str, value: list[str]) -> QuerySet:
        if not value:
            return qs
        names = [v.lower() for v in value]
        return qs.filter(pk__in=Ticket.objects.filter(ticket_tags__tag__name__in=names).values("pk"))

    def filter_sla_breached(self, qs: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return qs
        breached = (Q(first_response_breached_at__isnull=False) | Q(next_response_breached_at__isnull=False)
                    | Q(resolution_breached_at__isnull=False))
        return qs.filter(breached) if value else qs.exclude(breached)

    def filter_code(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(code=value.strip().upper()) if value.strip() else qs

    def filter_keyword(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        words = value.split()
        if not words:
            return qs
        condition = Q()
        for word in words:
            condition &= Q(subject__icontains=word)
        if len(words) == 1 and len(words[0]) == 9 and words[0][4] == "-":
            condition |= Q(code=words[0].upper())
        return qs.filter(condition)
