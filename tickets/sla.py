"""SLA clocks on tickets: which policy a ticket is under, when each target is due, pauses, and breaches.

Three targets, each with its own due time and episode: first response (from creation to the first agent
reply), next response (from a customer's follow-up to the agent's answer) and resolution (from creation, or
from a reopening, to resolved). Clocks count business time only (the department's hours, else the tenant's)
and stop while the ticket waits on the customer (answered) or is postponed; when they restart, each running
target keeps the business time it had left.

"Due soon" and "breached" are written to the ticket once per target and episode, by the sweep (a beat task)
or, when work finishes late before the sweep noticed, by the service that finishes it. Reports count met or
breached from the due and breached columns; the log holds one event per announcement.

The functions here change the locked ticket in memory and save only the SLA columns; ticket services call
them inside their own transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from departments.business_hours import schedule_for_department, sla_policy_for
from departments.models import Department, SlaPolicy, SlaTarget
from departments.schedules import (
    NeverOpen,
    Schedule,
    business_duration_between,
    business_seconds_between,
    business_time_add,
)
from helpdesk.errors import NotFound
from helpdesk.principals import Actor
from tickets.models import PRIORITY_NAMES, EventKind, Status, Ticket

TARGETS = (SlaTarget.FIRST_RESPONSE, SlaTarget.NEXT_RESPONSE, SlaTarget.RESOLUTION)
PAUSED_STATUSES = (Status.ANSWERED, Status.POSTPONED)
CLOSED_STATUSES = (Status.RESOLVED, Status.SPAM)
SLA_COLUMNS = [
    "sla_policy", "sla_paused_since", "sla_paused_seconds", "sla_due_at", "sla_check_at",
    *[f"{t}_{suffix}" for t in TARGETS for suffix in ("due_at", "due_soon_at", "breached_at")],
]


def _get(ticket: Ticket, target: str, suffix: str) -> datetime | None:
    return getattr(ticket, f"{target}_{suffix}")


def _set(ticket: Ticket, target: str, suffix: str, value: datetime | None) -> None:
    setattr(ticket, f"{target}_{suffix}", value)


def _budget_seconds(policy: SlaPolicy | None, ticket: Ticket, target: str) -> int | None:
    if policy is None:
        return None
    minutes = policy.target_minutes(PRIORITY_NAMES[ticket.priority], target)
    return None if minutes is None else minutes * 60


def _add(start: datetime, seconds: int | timedelta, schedule: Schedule | None) -> datetime | None:
    try:
        return business_time_add(start, seconds, schedule)
    except NeverOpen:
        return None  # hours that never open: no due time rather than a stuck clock


def is_running(ticket: Ticket, target: str) -> bool:
    """Whether the target's clock is ticking now (due set, work not done, ticket not paused or closed)."""
    if _get(ticket, target, "due_at") is None or ticket.status in PAUSED_STATUSES + CLOSED_STATUSES:
        return False
    if target == SlaTarget.FIRST_RESPONSE:
        return ticket.first_response_at is None
    return True


def _refresh(ticket: Ticket) -> None:
    """Recompute the inbox's sort key and the sweep's next look from the targets."""
    due_times, checks = [], []
    window = timedelta(minutes=ticket.sla_policy.due_soon_minutes if ticket.sla_policy else 0)
    for target in TARGETS:
        if not is_running(ticket, target):
            continue
        due = _get(ticket, target, "due_at")
        due_times.append(due)
        if _get(ticket, target, "breached_at") is None:
            checks.append(due)
            if window and _get(ticket, target, "due_soon_at") is None:
                checks.append(due - window)
    ticket.sla_due_at = min(due_times, default=None)
    ticket.sla_check_at = min(checks, default=None)


def _save(ticket: Ticket) -> None:
    _refresh(ticket)
    ticket.save(update_fields=SLA_COLUMNS)


def _breach(ticket: Ticket, target: str, events: list[tuple[str, dict]]) -> None:
    """Record a breach once per episode, dated when the target was due."""
    due = _get(ticket, target, "due_at")
    if _get(ticket, target, "breached_at") is None:
        _set(ticket, target, "breached_at", due)
        events.append((EventKind.SLA_BREACHED, {"target": target, "due_at": due.isoformat()}))


def _finish(ticket: Ticket, target: str, now: datetime, events: list[tuple[str, dict]]) -> None:
    """The work the target measures is done: a late finish is a breach the sweep may not have seen yet."""
    due = _get(ticket, target, "due_at")
    if due is not None and now > due:
        _breach(ticket, target, events)


def _start(ticket: Ticket, target: str, start: datetime, schedule: Schedule | None) -> None:
    """A new episode: a fresh due time, and neither due-soon nor breach announced yet."""
    budget = _budget_seconds(ticket.sla_policy, ticket, target)
    _set(ticket, target, "due_at", None if budget is None else _add(start, budget, schedule))
    _set(ticket, target, "due_soon_at", None)
    _set(ticket, target, "breached_at", None)


def _log(ticket: Ticket, events: list[tuple[str, dict]], actor: Actor | None, now: datetime) -> None:
    from tickets.services import event_append  # the log writer lives with the services that use it most

    for kind, data in events:
        event_append(ticket=ticket, kind=kind, actor=actor, data=data, at=now)


# --- called by the ticket services ------------------------------------------------------------------------

def sla_ticket_created(*, ticket: Ticket, now: datetime) -> None:
    """Choose the policy (customer group, department, tenant default) and start the first clocks."""
    ticket.sla_policy = sla_policy_for(department_id=ticket.department_id, contact_email=ticket.contact.email)
    if ticket.sla_policy is None:
        return
    schedule = schedule_for_department(department_id=ticket.department_id)
    _start(ticket, SlaTarget.FIRST_RESPONSE, now, schedule)
    _start(ticket, SlaTarget.RESOLUTION, now, schedule)
    _save(ticket)


def _pause_or_resume(ticket: Ticket, now: datetime, schedule: Schedule | None) -> None:
    paused = ticket.status in PAUSED_STATUSES
    if paused and ticket.sla_paused_since is None:
        ticket.sla_paused_since = now
    elif not paused and ticket.sla_paused_since is not None:
        since = ticket.sla_paused_since
        for target in TARGETS:
            due = _get(ticket, target, "due_at")
            if due is not None and due > since:
                # The target keeps the business time it had left when the clock stopped.
                left = business_duration_between(since, due, schedule)
                _set(ticket, target, "due_at", _add(now, left, schedule))
        ticket.sla_paused_seconds += max(0, business_seconds_between(since, now, schedule))
        ticket.sla_paused_since = None


def sla_message_added(*, ticket: Ticket, kind: str, before_status: str, actor: Actor | None, now: datetime) -> None:
    """A reply ends the response targets; a customer's follow-up starts the next-response clock and, on a
    resolved ticket, a new resolution episode. ``ticket`` is saved by the caller already, status included."""
    if ticket.sla_policy_id is None:
        return
    schedule = schedule_for_department(department_id=ticket.department_id)
    events: list[tuple[str, dict]] = []
    if kind == "reply":
        if ticket.first_response_at == now:  # this reply is the first one
            _finish(ticket, SlaTarget.FIRST_RESPONSE, now, events)
        if _get(ticket, SlaTarget.NEXT_RESPONSE, "due_at") is not None and before_status not in PAUSED_STATUSES:
            _finish(ticket, SlaTarget.NEXT_RESPONSE, now, events)
        # The episode is over: its breach, if any, stays in the log.
        _set(ticket, SlaTarget.NEXT_RESPONSE, "due_at", None)
        _pause_or_resume(ticket, now, schedule)
    elif kind == "customer":
        if before_status in CLOSED_STATUSES:
            ticket.sla_paused_since = None
            _start(ticket, SlaTarget.RESOLUTION, now, schedule)
        # Resume before starting new clocks, so the pause never stretches a clock that starts now.
        _pause_or_resume(ticket, now, schedule)
        if ticket.first_response_at is not None and not is_running(ticket, SlaTarget.NEXT_RESPONSE):
            _start(ticket, SlaTarget.NEXT_RESPONSE, now, schedule)
    _save(ticket)
    _log(ticket, events, actor, now)


def sla_ticket_changed(
    *, ticket: Ticket, before_status: str, before_priority: int, before_department_id: int | None,
    actor: Actor | None, now: datetime,
) -> None:
    """Status, priority and department changes: pause, resume, resolve, reopen, targets re-timed to the new
    priority, and a transferred ticket under its old department's policy moved to the new department's."""
    events: list[tuple[str, dict]] = []
    if ticket.department_id != before_department_id:
        _follow_department(ticket, before_department_id, now, events)
    if ticket.sla_policy_id is None:
        _log(ticket, events, actor, now)
        return
    schedule = schedule_for_department(department_id=ticket.department_id)
    if ticket.status != before_status:
        if ticket.status == Status.RESOLVED:
            _finish(ticket, SlaTarget.RESOLUTION, now, events)
            ticket.sla_paused_since = None
        elif before_status in CLOSED_STATUSES and ticket.status not in CLOSED_STATUSES:
            _start(ticket, SlaTarget.RESOLUTION, now, schedule)
        if ticket.status not in CLOSED_STATUSES:
            _pause_or_resume(ticket, now, schedule)
    if ticket.priority != before_priority:
        _retime(ticket, ticket.sla_policy, before_priority, schedule, now)
    _save(ticket)
    _log(ticket, events, actor, now)


def _follow_department(
    ticket: Ticket, before_department_id: int | None, now: datetime, events: list[tuple[str, dict]],
) -> None:
    """A policy that came from the old department (or the company default) follows the ticket to the new
    department; one chosen for the customer's group or applied by a rule stays."""
    old_department_policy = None
    if before_department_id is not None:
        old_department_policy = (Department.objects.filter(pk=before_department_id)
                                 .values_list("sla_policy_id", flat=True).first())
    old_policy = ticket.sla_policy
    expected_before = sla_policy_for(department_id=before_department_id, contact_email=ticket.contact.email)
    if ticket.sla_policy_id not in (None, old_department_policy, getattr(expected_before, "pk", None)):
        return
    new_policy = sla_policy_for(department_id=ticket.department_id, contact_email=ticket.contact.email)
    if (new_policy.pk if new_policy else None) == ticket.sla_policy_id:
        return
    ticket.sla_policy = new_policy
    if new_policy is not None:
        schedule = schedule_for_department(department_id=ticket.department_id)
        if ticket.status in PAUSED_STATUSES and ticket.sla_paused_since is None:
            ticket.sla_paused_since = now
        _retime(ticket, old_policy, ticket.priority, schedule, now)
    else:
        for target in TARGETS:
            _set(ticket, target, "due_at", None)
    _save(ticket)
    events.append((EventKind.SLA_APPLIED, {"policy": [old_policy.name if old_policy else None,
                                                      new_policy.name if new_policy else None]}))


def _retime(
    ticket: Ticket, old_policy: SlaPolicy | None, old_priority: int, schedule: Schedule | None, now: datetime,
) -> None:
    """Move each unfinished target by the difference between its old and new budget, which keeps the business
    time already used (pauses included); a target the old terms did not have starts from the ticket's start."""
    old_priority_name = PRIORITY_NAMES[old_priority]
    for target in TARGETS:
        if target == SlaTarget.FIRST_RESPONSE and ticket.first_response_at is not None:
            continue
        if target == SlaTarget.RESOLUTION and ticket.status in CLOSED_STATUSES:
            continue
        new_budget = _budget_seconds(ticket.sla_policy, ticket, target)
        old_minutes = old_policy.target_minutes(old_priority_name, target) if old_policy else None
        due = _get(ticket, target, "due_at")
        if new_budget is None:
            _set(ticket, target, "due_at", None)
        elif due is not None and old_minutes is not None:
            _set(ticket, target, "due_at", _add(due, new_budget - old_minutes * 60, schedule))
        elif target != SlaTarget.NEXT_RESPONSE:
            start = ticket.created_at
            _set(ticket, target, "due_at", _add(start, new_budget + ticket.sla_paused_seconds, schedule))
        if _get(ticket, target, "due_at") != due:
            # New terms, new episode: an earlier announcement was about the old due time.
            _set(ticket, target, "due_soon_at", None)
            if _get(ticket, target, "due_at") is None or _get(ticket, target, "due_at") > now:
                _set(ticket, target, "breached_at", None)


def sla_apply(*, ticket: Ticket, policy_id: int, actor: Actor | None) -> Ticket:
    """Put the ticket under another SLA policy (a rule action, or an admin's choice); logged.

    Unfinished targets are re-timed to the new terms, keeping the business time already used.
    """
    policy = SlaPolicy.objects.filter(pk=policy_id).first()
    if policy is None:
        raise NotFound("No such SLA policy.", fields={"policy_id": ["No such SLA policy."]})
    now = timezone.now()
    with transaction.atomic():
        locked = (Ticket.objects.select_for_update(no_key=True, of=("self",)).select_related("sla_policy")
                  .get(pk=ticket.pk))
        if locked.sla_policy_id == policy.pk:
            return locked
        old_policy = locked.sla_policy
        locked.sla_policy = policy
        schedule = schedule_for_department(department_id=locked.department_id)
        if locked.status in PAUSED_STATUSES and locked.sla_paused_since is None:
            locked.sla_paused_since = now
        _retime(locked, old_policy, locked.priority, schedule, now)
        _save(locked)
        _log(locked, [(EventKind.SLA_APPLIED, {"policy": [old_policy.name if old_policy else None, policy.name]})],
             actor, now)
    return locked


# --- the sweep --------------------------------------------------------------------------------------------

def sla_sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    """Announce what has become due soon or breached, for the active tenant; returns how many events."""
    now = now or timezone.now()
    announced = 0
    ids = list(
        Ticket.objects.filter(sla_check_at__lte=now).order_by("sla_check_at").values_list("id", flat=True)[:limit]
    )
    for ticket_id in ids:
        with transaction.atomic():
            # Skip a ticket an agent is changing right now: it is looked at again on the next sweep.
            locked = (Ticket.objects.select_for_update(no_key=True, skip_locked=True, of=("self",))
                      .select_related("sla_policy").filter(pk=ticket_id).first())
            if locked is None:
                continue
            announced += _ticket_sweep(locked, now)
    return announced


def _ticket_sweep(ticket: Ticket, now: datetime) -> int:
    events: list[tuple[str, dict]] = []
    window = timedelta(minutes=ticket.sla_policy.due_soon_minutes if ticket.sla_policy else 0)
    for target in TARGETS:
        if not is_running(ticket, target) or _get(ticket, target, "breached_at") is not None:
            continue
        due = _get(ticket, target, "due_at")
        if now >= due:
            _breach(ticket, target, events)
        elif window and _get(ticket, target, "due_soon_at") is None and now >= due - window:
            _set(ticket, target, "due_soon_at", now)
            events.append((EventKind.SLA_DUE_SOON, {"target": target, "due_at": due.isoformat()}))
    _save(ticket)
    _log(ticket, events, None, now)
    return len(events)


# --- reads for pages and the API --------------------------------------------------------------------------

def sla_state(ticket: Ticket, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Each target that has a due time: when, how much business time is left (None while not running), and
    whether it was met, breached or is paused. Reads the department's hours once."""
    now = now or timezone.now()
    rows = []
    schedule: Schedule | None | bool = False
    for target in TARGETS:
        due = _get(ticket, target, "due_at")
        if due is None:
            continue
        breached = _get(ticket, target, "breached_at")
        running = is_running(ticket, target)
        finished = (target == SlaTarget.FIRST_RESPONSE and ticket.first_response_at is not None) or (
            target == SlaTarget.RESOLUTION and ticket.status == Status.RESOLVED)
        remaining = None
        if running or ticket.sla_paused_since is not None and not finished:
            if schedule is False:
                schedule = schedule_for_department(department_id=ticket.department_id)
            remaining = business_seconds_between(ticket.sla_paused_since or now, due, schedule)
        if finished:
            state = "breached" if breached else "met"
        elif breached or (running and now >= due):
            state = "breached"
        elif not running:
            state = "paused" if ticket.status in PAUSED_STATUSES else "stopped"
        else:
            state = "running"
        rows.append({"target": target, "label": SlaTarget(target).label, "due_at": due, "state": state,
                     "breached_at": breached, "remaining_seconds": remaining})
    return rows
