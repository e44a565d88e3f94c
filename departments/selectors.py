"""Reads for departments and agents, always through the acting tenant."""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet

from departments.models import AgentProfile, Department
from helpdesk.errors import NotFound
from helpdesk.principals import Actor


def department_list(*, actor: Actor) -> QuerySet[Department]:
    return Department.objects.select_related("leader").prefetch_related(
        Prefetch("members", queryset=AgentProfile.objects.only("id", "display_name", "tenant_id"))
    )


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


def agent_list(*, actor: Actor) -> QuerySet[AgentProfile]:
    return AgentProfile.objects.select_related("membership", "user").prefetch_related(
        Prefetch("departments", queryset=Department.objects.only("id", "name", "tenant_id"))
    )


def agent_get(*, actor: Actor, agent_id: int) -> AgentProfile:
    agent = agent_list(actor=actor).filter(pk=agent_id).first()
    if agent is None:
        raise NotFound("No such agent.")
    return agent
