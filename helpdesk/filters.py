"""Filter building blocks shared by every app's list filters, and how a selector applies a filterset."""

from __future__ import annotations

from collections.abc import Callable

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from helpdesk.errors import ApplicationError


def filterset_qs(filterset: django_filters.FilterSet) -> QuerySet:
    """The filtered queryset, or an ApplicationError naming each bad parameter (never a silently ignored one)."""
    if not filterset.is_valid():
        raise ApplicationError(
            "Invalid filter.",
            fields={name: [str(message) for message in messages] for name, messages in filterset.errors.items()},
        )
    return filterset.qs


class CommaSeparatedField(forms.Field):
    """Accepts ``a,b`` in one parameter or the parameter repeated; yields a list of strings."""

    widget = forms.SelectMultiple

    def __init__(self, *args, check_item: Callable[[str], None] | None = None, **kwargs):
        self.check_item = check_item
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        if value in (None, "", []):
            return []
        items = value if isinstance(value, list | tuple) else [value]
        out: list[str] = []
        for item in items:
            out.extend(part.strip() for part in str(item).split(",") if part.strip())
        return out

    def validate(self, value) -> None:
        # Bad values must fail while the form is validated: a ValidationError raised later, while filtering,
        # would escape as a server error instead of being reported against the parameter.
        super().validate(value)
        if self.check_item is None:
            return
        messages: list[str] = []
        for item in value:
            try:
                self.check_item(item)
            except forms.ValidationError as exc:
                messages.extend(exc.messages)
        if messages:
            raise forms.ValidationError(messages)


MAX_ID = 2**63 - 1


def is_id(value: str) -> bool:
    """A positive whole number that fits a database id (larger ones would make PostgreSQL raise)."""
    return value.isascii() and value.isdigit() and 0 < int(value) <= MAX_ID


class MultiValueFilter(django_filters.Filter):
    field_class = CommaSeparatedField

    def __init__(self, *args, allowed: list[str] | None = None, numeric: bool = False, none_value: bool = False,
                 **kwargs):
        self.allowed = allowed
        self.numeric = numeric
        self.none_value = none_value
        kwargs.setdefault("lookup_expr", "in")
        kwargs.setdefault("check_item", self._check_item)
        super().__init__(*args, **kwargs)

    def _check_item(self, value: str) -> None:
        self._clean([value])

    def _clean(self, values: list[str]) -> tuple[list, bool]:
        include_none = False
        cleaned: list = []
        for value in values:
            if self.none_value and value == "none":
                include_none = True
            elif self.numeric:
                if not is_id(value):
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
