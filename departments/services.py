"""Writes for departments and agents. Admin-only operations check the actor's role here, not in views."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from departments.models import AgentProfile, AgentStatus, Department, DepartmentMember
from helpdesk import hooks, push
from helpdesk.errors import ApplicationError, NotFound, PermissionDenied
from helpdesk.models import Membership, Role, Tenant
from helpdesk.principals import Actor
from helpdesk.services import user_get_or_create

DEPARTMENT_FIELDS = (
    "name", "description", "to_solve_enabled", "leader", "support_email", "signature", "sla_policy",
)
AGENT_FIELDS = (
    "display_name", "status", "chat_priority", "max_chats", "call_priority", "max_calls",
    "takes_tickets", "takes_chats", "takes_calls",
)


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied("Only admins of this company can do that.")


def _validate(instance, *, exclude: Iterable[str] = ()) -> None:
    try:
        instance.full_clean(exclude=list(exclude), validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise ApplicationError("Please correct the errors below.", fields=exc.message_dict) from exc


def _with_changes(instance, fields: dict[str, Any]):
    """A copy with the changes applied, so a refused change leaves the caller's object as it was."""
    changed = copy.copy(instance)
    for name, value in fields.items():
        setattr(changed, name, value)
    return changed


def _check_leader(leader: AgentProfile | None, tenant: Tenant) -> None:
    if leader is not None and leader.tenant_id != tenant.pk:
        raise NotFound("No such agent.", fields={"leader": ["No such agent."]})


def _check_policy(fields: dict[str, Any], tenant: Tenant) -> None:
    policy = fields.get("sla_policy")
    if policy is not None and policy.tenant_id != tenant.pk:
        raise NotFound("No such SLA policy.", fields={"sla_policy": ["No such SLA policy."]})


def _save_department(department: Department) -> Department:
    _validate(department, exclude=["tenant", "leader", "sla_policy"])
    try:
        with transaction.atomic():
            department.save()
    except IntegrityError as exc:
        raise ApplicationError(
            "A department with this name already exists.",
            fields={"name": ["A department with this name already exists."]},
        ) from exc
    return department


def department_create(*, actor: Actor, members: Iterable[AgentProfile] = (), **fields: Any) -> Department:
    require_admin(actor)
    unknown = set(fields) - set(DEPARTMENT_FIELDS)
    if unknown:
        raise ApplicationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    _check_leader(fields.get("leader"), actor.tenant)
    _check_policy(fields, actor.tenant)
    department = Department(tenant=actor.tenant, **fields)
    with transaction.atomic():
        _save_department(department)
        department_members_set(actor=actor, department=department, agents=members)
    return department


def department_update(
    *, actor: Actor, department: Department, members: Iterable[AgentProfile] | None = None, **fields: Any
) -> Department:
    """Change any of DEPARTMENT_FIELDS and, when ``members`` is given, make exactly them the members."""
    require_admin(actor)
    unknown = set(fields) - set(DEPARTMENT_FIELDS)
    if unknown:
        raise ApplicationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    _check_leader(fields.get("leader"), actor.tenant)
    _check_policy(fields, actor.tenant)
    with transaction.atomic():
        changed = _save_department(_with_changes(department, fields))
        if members is not None:
            department_members_set(actor=actor, department=changed, agents=members)
    return changed


def department_member_add(*, actor: Actor, department: Department, agent: AgentProfile) -> bool:
    """Add one agent; True if they were not a member yet."""
    require_admin(actor)
    _, created = DepartmentMember.objects.get_or_create(tenant=actor.tenant, department=department, agent=agent)
    return created


def department_member_remove(*, actor: Actor, department: Department, agent: AgentProfile) -> bool:
    require_admin(actor)
    deleted, _ = DepartmentMember.objects.filter(department=department, agent=agent).delete()
    return deleted > 0


def department_members_add_all(*, actor: Actor, department: Department) -> int:
    """Add every agent of the tenant; returns how many joined."""
    require_admin(actor)
    existing = set(DepartmentMember.objects.filter(department=department).values_list("agent_id", flat=True))
    new_rows = [
        DepartmentMember(tenant=actor.tenant, department=department, agent_id=agent_id)
        for agent_id in AgentProfile.objects.values_list("id", flat=True)
        if agent_id not in existing
    ]
    DepartmentMember.objects.bulk_create(new_rows, ignore_conflicts=True)
    return len(new_rows)


def department_members_remove_all(*, actor: Actor, department: Department) -> int:
    require_admin(actor)
    deleted, _ = DepartmentMember.objects.filter(department=department).delete()
    return deleted


def department_members_set(*, actor: Actor, department: Department, agents: Iterable[AgentProfile]) -> None:
    require_admin(actor)
    wanted = {agent.pk for agent in agents}
    with transaction.atomic():
        DepartmentMember.objects.filter(department=department).exclude(agent_id__in=wanted).delete()
        existing = set(DepartmentMember.objects.filter(department=department).values_list("agent_id", flat=True))
        DepartmentMember.objects.bulk_create(
            [
                DepartmentMember(tenant=actor.tenant, department=department, agent_id=agent_id)
                for agent_id in wanted - existing
            ],
            ignore_conflicts=True,
        )


def agent_create(
    *, actor: Actor, email: str, display_name: str, role: str = Role.AGENT, password: str | None = None,
    **fields: Any,
) -> AgentProfile:
    """Add a person to the tenant as an agent (creating their login if they have none)."""
    require_admin(actor)
    if role not in Role.values:
        raise ApplicationError("Unknown role.", fields={"role": [f"Choose one of {', '.join(Role.values)}."]})
    if role == Role.OWNER and actor.role != Role.OWNER:
        raise PermissionDenied("Only an owner can add another owner.")
    with transaction.atomic():
        user = user_get_or_create(email=email, full_name=display_name, password=password)
        if Membership.objects.filter(tenant=actor.tenant, user=user).exists():
            raise ApplicationError(
                "This person is already a member.", fields={"email": ["Already a member of this company."]}
            )
        membership = Membership.objects.create(tenant=actor.tenant, user=user, role=role)
        return agent_profile_create(membership=membership, display_name=display_name, **fields)


def agent_profile_create(*, membership: Membership, display_name: str, **fields: Any) -> AgentProfile:
    agent = AgentProfile(
        tenant=membership.tenant, membership=membership, user=membership.user,
        display_name=display_name or membership.user.email, **fields,
    )
    _validate(agent, exclude=["tenant", "membership", "user"])
    agent.save()
    return agent


def agent_update(*, actor: Actor, agent: AgentProfile, role: str | None = None, **fields: Any) -> AgentProfile:
    """Admins edit any agent; an agent may change only their own status."""
    own_status_only = set(fields) <= {"status"} and role is None and actor.agent and actor.agent.pk == agent.pk
    if not own_status_only:
        require_admin(actor)
    unknown = set(fields) - set(AGENT_FIELDS)
    if unknown:
        raise ApplicationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    previous = {name: getattr(agent, name) for name in fields}
    changed = {name for name, value in fields.items() if previous[name] != value}
    if "status" in changed:
        fields["status_changed_at"] = timezone.now()
    agent = _with_changes(agent, fields)
    _validate(agent, exclude=["tenant", "membership", "user"])
    with transaction.atomic():
        agent.save()
        if role is not None and role != agent.membership.role:
            _membership_role_change(actor=actor, membership=agent.membership, role=role)
        pushes = []
        if "status" in changed:
            # Every open tab of the agent shows the new status, whoever or whatever changed it.
            pushes.append(push.Push(push.agent_stream(agent.pk), push.AGENT_STATUS_CHANGED, {
                "agent_id": agent.pk, "status": agent.status, "label": str(AgentStatus(agent.status).label),
                "previous": previous["status"], "by": actor.label,
            }))
        if changed:
            # Receivers add their pushes to ``pushes``: the transaction publishes once (see helpdesk.push).
            hooks.fire(hooks.AGENT_UPDATED, actor=actor, agent=agent, changed=changed, previous=previous,
                       pushes=pushes)
        push.publish(pushes)
    return agent


def _membership_role_change(*, actor: Actor, membership: Membership, role: str) -> None:
    if role not in Role.values:
        raise ApplicationError("Unknown role.", fields={"role": [f"Choose one of {', '.join(Role.values)}."]})
    if Role.OWNER in (role, membership.role) and actor.role != Role.OWNER:
        raise PermissionDenied("Only an owner can grant or take away the owner role.")
    if membership.role == Role.OWNER and not Membership.objects.filter(
        tenant=membership.tenant, role=Role.OWNER
    ).exclude(pk=membership.pk).exists():
        raise ApplicationError("A company needs at least one owner.", fields={"role": ["This is the last owner."]})
    membership.role = role
    membership.save(update_fields=["role"])


def agent_set_status(*, actor: Actor, status: str) -> AgentProfile:
    agent = actor.agent
    if agent is None:
        raise PermissionDenied("Only agents have a status.")
    if status not in AgentStatus.values:
        raise ApplicationError(
            "Unknown status.", fields={"status": [f"Choose one of {', '.join(AgentStatus.values)}."]}
        )
    return agent_update(actor=actor, agent=agent, status=status)
