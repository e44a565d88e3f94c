"""Business hours and SLA policies: the settings admins write, and the reads other apps ask of them.

``business_hours_contains`` and ``schedule_for_department`` are what tickets (SLA clocks, auto-replies) and
routing's rules use; the clock arithmetic itself is in ``departments.schedules``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from departments.models import BusinessHours, Department, SlaPolicy, SlaTarget
from departments.schedules import Schedule, is_open, next_open, schedule_errors, schedule_from_config
from departments.services import require_admin
from helpdesk.errors import ApplicationError, NotFound
from helpdesk.principals import Actor
from helpdesk.tenancy import require_active_tenant

PRIORITY_KEYS = ("low", "medium", "high", "urgent")  # tickets.models.Priority names; departments sits below it
MAX_TARGET_MINUTES = 365 * 24 * 60
_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


# --- business hours: reads --------------------------------------------------------------------------------

def business_hours_for_department(*, department_id: int | None) -> BusinessHours | None:
    """The department's own hours, else the tenant's, else None (always open): one query."""
    rows = BusinessHours.objects.filter(Q(department__isnull=True) | Q(department_id=department_id))
    return rows.order_by(F("department_id").asc(nulls_last=True)).first()


def schedule_of(hours: BusinessHours | None) -> Schedule | None:
    if hours is None:
        return None
    return schedule_from_config(time_zone=hours.time_zone, weekly=hours.weekly, holidays=hours.holidays)


def schedule_for_department(*, department_id: int | None) -> Schedule | None:
    return schedule_of(business_hours_for_department(department_id=department_id))


def business_hours_contains(department_id: int | None, at: datetime) -> bool:
    """Whether ``at`` is within the department's hours (else the tenant's); no hours configured = open."""
    return is_open(schedule_for_department(department_id=department_id), at)


def business_hours_next_open(department_id: int | None, at: datetime) -> datetime:
    return next_open(schedule_for_department(department_id=department_id), at)


def business_hours_list() -> list[BusinessHours]:
    return list(BusinessHours.objects.select_related("department").order_by(
        F("department_id").asc(nulls_first=True), "id"))


def business_hours_get(*, hours_id: int) -> BusinessHours:
    hours = BusinessHours.objects.select_related("department").filter(pk=hours_id).first()
    if hours is None:
        raise NotFound("No such business hours.")
    return hours


# --- business hours: writes -------------------------------------------------------------------------------

HOURS_FIELDS = ("time_zone", "weekly", "holidays", "out_of_hours_reply")


def _validated_hours(hours: BusinessHours) -> None:
    errors = schedule_errors(time_zone=hours.time_zone, weekly=hours.weekly, holidays=hours.holidays)
    if errors:
        raise ApplicationError("Please correct the business hours.", fields=errors)
    # One stored spelling: lower-case weekdays in order, holidays by date.
    hours.weekly = {day: [list(s) for s in shifts] for day, shifts in hours.weekly.items() if shifts}
    hours.holidays = sorted(
        ({"date": h["date"], "name": h.get("name", ""), "recurring": bool(h.get("recurring", False))}
         for h in hours.holidays),
        key=lambda h: h["date"],
    )


def business_hours_create(*, actor: Actor, department: Department | None = None, **fields: Any) -> BusinessHours:
    require_admin(actor)
    unknown = set(fields) - set(HOURS_FIELDS)
    if unknown:
        raise ApplicationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    tenant = require_active_tenant()
    if department is not None and department.tenant_id != tenant.pk:
        raise NotFound("No such department.", fields={"department": ["No such department."]})
    fields.setdefault("time_zone", tenant.time_zone)
    hours = BusinessHours(tenant=tenant, department=department, **fields)
    _validated_hours(hours)
    try:
        with transaction.atomic():
            hours.save()
    except IntegrityError as exc:
        where = "This department" if department else "The company"
        raise ApplicationError(
            f"{where} already has business hours: change those.",
            fields={"department": [f"{where} already has business hours."]},
        ) from exc
    return hours


def business_hours_update(*, actor: Actor, hours: BusinessHours, **fields: Any) -> BusinessHours:
    require_admin(actor)
    unknown = set(fields) - set(HOURS_FIELDS)
    if unknown:
        raise ApplicationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    changed = BusinessHours(**{f.attname: getattr(hours, f.attname) for f in BusinessHours._meta.concrete_fields})
    for name, value in fields.items():
        setattr(changed, name, value)
    _validated_hours(changed)
    changed.updated_at = timezone.now()
    changed.save()
    return changed


def business_hours_delete(*, actor: Actor, hours: BusinessHours) -> None:
    require_admin(actor)
    hours.delete()


# --- SLA policies -----------------------------------------------------------------------------------------

SLA_FIELDS = ("name", "targets", "customer_domains", "is_default", "due_soon_minutes")


def _targets_errors(targets: object) -> list[str]:
    if not isinstance(targets, dict):
        return ['Give targets per priority, e.g. {"urgent": {"first_response": 60}}.']
    problems = []
    for priority, per_target in targets.items():
        if priority not in PRIORITY_KEYS:
            problems.append(f"{priority!r} is not a priority; use {', '.join(PRIORITY_KEYS)}.")
            continue
        if not isinstance(per_target, dict):
            problems.append(f"{priority}: give minutes per target.")
            continue
        for target, minutes in per_target.items():
            if target not in SlaTarget.values:
                problems.append(f"{priority}: {target!r} is not a target; use {', '.join(SlaTarget.values)}.")
            elif minutes is not None and (
                not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= MAX_TARGET_MINUTES
            ):
                problems.append(f"{priority}.{target}: give whole minutes from 1 to {MAX_TARGET_MINUTES}, or null.")
    return problems


def _clean_domains(domains: object) -> tuple[list[str], list[str]]:
    if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
        return [], ["Give a list of email domains, e.g. [\"bigcustomer.com\"]."]
    clean = sorted({d.strip().lower().lstrip("@") for d in domains if d.strip()})
    bad = [d for d in clean if not _DOMAIN_RE.match(d)]
    return clean, [f"{d!r} is not an email domain." for d in bad]


def _save_policy(policy: SlaPolicy) -> SlaPolicy:
    errors: dict[str, list[str]] = {}
    if not (policy.name or "").strip():
        errors["name"] = ["This field is required."]
    policy.name = (policy.name or "").strip()[:120]
    target_problems = _targets_errors(policy.targets)
    if target_problems:
        errors["targets"] = target_problems
    policy.customer_domains, domain_problems = _clean_domains(policy.customer_domains)
    if domain_problems:
        errors["customer_domains"] = domain_problems
    if not isinstance(policy.due_soon_minutes, int) or not 0 <= policy.due_soon_minutes <= 24 * 60:
        errors["due_soon_minutes"] = ["Give whole minutes from 0 to 1440."]
    if errors:
        raise ApplicationError("Please correct the SLA policy.", fields=errors)
    if policy.customer_domains:
        # A customer in two groups would get whichever policy the database returned first.
        taken = _domains_taken(policy)
        if taken:
            raise ApplicationError("A customer domain belongs to another policy.", fields={
                "customer_domains": [f"{d} is already in {name}." for d, name in taken]})
    with transaction.atomic():
        if policy.is_default:
            # One default per tenant (a constraint says so): the new default replaces the old one.
            SlaPolicy.objects.filter(is_default=True).exclude(pk=policy.pk).update(is_default=False)
        try:
            with transaction.atomic():
                policy.save()
        except IntegrityError as exc:
            raise ApplicationError("An SLA policy with this name already exists.",
                                   fields={"name": ["An SLA policy with this name already exists."]}) from exc
    return policy


def _domains_taken(policy: SlaPolicy) -> list[tuple[str, str]]:
    wanted = set(policy.customer_domains)
    taken = []
    for name, domains in SlaPolicy.objects.exclude(pk=policy.pk).exclude(customer_domains=[]).values_list(
        "name", "customer_domains"
    ):
        taken.extend((d, name) for d in sorted(wanted & set(domains)))
    return taken


def sla_policy_create(*, actor: Actor, **fields: Any) -> SlaPolicy:
    require_admin(actor)
    unknown = set(fields) - set(SLA_FIELDS)
    if unknown:
        raise ApplicationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    return _save_policy(SlaPolicy(tenant=require_active_tenant(), **fields))


def sla_policy_update(*, actor: Actor, policy: SlaPolicy, **fields: Any) -> SlaPolicy:
    """Change a policy. Tickets keep the due times they have; new episodes (replies, reopenings) use the change."""
    require_admin(actor)
    unknown = set(fields) - set(SLA_FIELDS)
    if unknown:
        raise ApplicationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    changed = SlaPolicy(**{f.attname: getattr(policy, f.attname) for f in SlaPolicy._meta.concrete_fields})
    for name, value in fields.items():
        setattr(changed, name, value)
    return _save_policy(changed)


def sla_policy_delete(*, actor: Actor, policy: SlaPolicy) -> None:
    """Tickets under the policy keep their due times and breaches (reports still count them)."""
    require_admin(actor)
    policy.delete()


def sla_policy_list() -> list[SlaPolicy]:
    return list(SlaPolicy.objects.order_by("name", "id"))


def sla_policy_get(*, policy_id: int) -> SlaPolicy:
    policy = SlaPolicy.objects.filter(pk=policy_id).first()
    if policy is None:
        raise NotFound("No such SLA policy.", fields={"policy_id": ["No such SLA policy."]})
    return policy


def sla_policy_for(*, department_id: int | None, contact_email: str) -> SlaPolicy | None:
    """The policy a new ticket gets: its customer's group (email domain), else the department's, else the
    tenant's default."""
    domain = contact_email.rpartition("@")[2].lower() if "@" in contact_email else ""
    department_policy_id = None
    if department_id is not None:
        department_policy_id = (
            Department.objects.filter(pk=department_id).values_list("sla_policy_id", flat=True).first()
        )
    # A company has a handful of policies: read them all and match in Python, which also works where JSON
    # containment has no SQL (the embedded SQLite default).
    policies = list(SlaPolicy.objects.order_by("id"))
    for matches in (
        lambda p: bool(domain) and domain in p.customer_domains,
        lambda p: p.pk == department_policy_id,
        lambda p: p.is_default,
    ):
        found = next((p for p in policies if matches(p)), None)
        if found is not None:
            return found
    return None
