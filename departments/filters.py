"""Filters for the department and agent lists, applied by the selectors so every caller filters alike."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from departments.models import AgentProfile, AgentStatus, Department
from helpdesk.filters import MultiValueFilter
from helpdesk.models import Role


class DepartmentFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains", help_text="part of the name")

    class Meta:
        model = Department
        fields: list[str] = []


class AgentFilter(django_filters.FilterSet):
    status = MultiValueFilter(field_name="status", allowed=list(AgentStatus.values),
                              help_text="online, away, break, offline; several allowed")
    role = MultiValueFilter(field_name="membership__role", allowed=list(Role.values),
                            help_text="owner, admin, agent; several allowed")
    department = MultiValueFilter(method="filter_department", numeric=True, none_value=True,
                                  help_text="department ids (members of any of them), or `none`")

    class Meta:
        model = AgentProfile
        fields: list[str] = []

    def filter_department(self, qs: QuerySet, name: str, value: list[str]) -> QuerySet:
        if not value:
            return qs
        ids = [int(v) for v in value if v != "none"]
        condition = Q(pk__in=AgentProfile.objects.filter(department_memberships__department_id__in=ids).values("pk"))
        if "none" in value:
            condition |= ~Q(pk__in=AgentProfile.objects.filter(department_memberships__isnull=False).values("pk"))
        return qs.filter(condition)
