"""Reads for departments and agents, always through the acting tenant."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Count, Prefetch, QuerySet

from departments.filters import AgentFilter, DepartmentFilter
from departments.models import AgentProfile, Department
from helpdesk.errors import NotFound
from helpdesk.filters import filterset_qs
from helpdesk.principals import Actor


def department_list(*, actor: Actor, filters: Mapping[str, Any] | None = None) -> QuerySet[Department]:
    """``filters`` are DepartmentFilter parameters; a bad one raises ApplicationError."""
    departments = Department.objects.select_related("leader").prefetch_related(
        Prefetch("members", queryset=AgentProfile.objects.only("id", "display_name", "tenant_id"))
    )
    if filters is None:
        return departments
    return filterset_qs(DepartmentFilter(data=filters, queryset=departments))


def department_list_with_counts(*, actor: Actor) -> list[Department]:
    """Departments with their member count and how many of their tickets are new, open and resolved.

    Two queries: one for departments and members, one grouping tickets by department and status (a join of
    both in one query would multiply rows and need DISTINCT counts).
    """
    departments = list(Department.objects.select_related("leader").annotate(member_count=Count("memberships")))
    counted_statuses = ("new", "open", "resolved")
    counts = (
        Department.objects.filter(tickets__status__in=counted_statuses)
        .values("id", "tickets__status")
        .annotate(n=Count("tickets"))
    )
    by_department: dict[int, dict[str, int]] = {}
    for row in counts:
        by_department.setdefault(row["id"], {})[row["tickets__status"]] = row["n"]
    for department in departments:
        found = by_department.get(department.pk, {})
        for status in counted_statuses:
            setattr(department, f"{status}_count", found.get(status, 0))
    return departments


def department_get(*, actor: Actor, department_id: int) -> Department:
    department = department_list(actor=actor).filter(pk=department_id).first()
    if department is None:
        raise NotFound("No such department.")
    return department


def department_ids_of_agent(*, agent: AgentProfile) -> list[int]:
    return list(agent.department_memberships.values_list("department_id", flat=True))


def agent_list(*, actor: Actor, filters: Mapping[str, Any] | None = None) -> QuerySet[AgentProfile]:
    """``filters`` are AgentFilter parameters; a bad one raises ApplicationError."""
    agents = AgentProfile.objects.select_related("membership", "user").prefetch_related(
        Prefetch("departments", queryset=Department.objects.only("id", "name", "tenant_id"))
    )
    if filters is None:
        return agents
    return filterset_qs(AgentFilter(data=filters, queryset=agents))


def agent_get(*, actor: Actor, agent_id: int) -> AgentProfile:
    agent = agent_list(actor=actor).filter(pk=agent_id).first()
    if agent is None:
        raise NotFound("No such agent.")
    return agent
