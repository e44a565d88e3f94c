"""The ticket filters shared by the inbox page and the API, so both select exactly the same tickets."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from tickets.models import PRIORITY_BY_NAME, Channel, Status, Ticket


class CommaSeparatedField(forms.Field):
    """Accepts ``a,b`` in one parameter or the parameter repeated; yields a list of strings."""

    widget = forms.SelectMultiple

    def to_python(self, value):
        if value in (None, "", []):
            return []
        items = value if isinstance(value, list | tuple) else [value]
        out: list[str] = []
        for item in items:
            out.extend(part.strip() for part in str(item).split(",") if part.strip())
        return out


class MultiValueFilter(django_filters.Filter):
    field_class = CommaSeparatedField

    def __init__(self, *args, allowed: list[str] | None = None, numeric: bool = False, none_value: bool = False,
                 **kwargs):
        self.allowed = allowed
        self.numeric = numeric
        self.none_value = none_value
        kwargs.setdefault("lookup_expr", "in")
        super().__init__(*args, **kwargs)

    def _clean(self, values: list[str]) -> tuple[list, bool]:
        include_none = False
        cleaned: list = []
        for value in values:
            if self.none_value and value == "none":
                include_none = True
            elif self.numeric:
                if not value.isdigit():
                    raise forms.ValidationError(f"{value!r} is not a valid id.")
                cleaned.append(int(value))
            elif self.allowed is not None and value not in self.allowed:
                raise forms.ValidationError(f"{value!r} is not one of {', '.join(self.allowed)}.")
            else:
                cleaned.append(value)
        return cleaned, include_none

    def filter(self, qs: QuerySet, value: list[str]) -> QuerySet:
        if not value:
            return qs
        values, include_none = self._clean(value)
        condition = Q(**{f"{self.field_name}__in": values}) if values else Q(pk__in=[])
        if include_none:
            condition |= Q(**{f"{self.field_name}__isnull": True})
        return qs.filter(condition)


class TicketFilter(django_filters.FilterSet):
    status = MultiValueFilter(field_name="status", allowed=list(Status.values), help_text="new, open, ...; several allowed")
    channel = MultiValueFilter(field_name="channel", allowed=list(Channel.values), help_text="email, chat, ...")
    priority = MultiValueFilter(method="filter_priority", help_text="low, medium, high, urgent")
    department = MultiValueFilter(field_name="department_id", numeric=True, none_value=True,
                                  help_text="department ids, or `none`")
    assignee = MultiValueFilter(method="filter_assignee", help_text="agent ids, `me`, or `none`")
    tag = MultiValueFilter(method="filter_tag", help_text="tag names; a ticket with any of them matches")
    code = django_filters.CharFilter(method="filter_code")
    q = django_filters.CharFilter(method="filter_keyword", help_text="words in the subject, or a ticket code")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Ticket
        fields: list[str] = []

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
                actor = getattr(self.request, "actor", None)
                agent = actor.agent if actor else None
                ids.append(agent.pk if agent else -1)
            elif item.isdigit():
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
