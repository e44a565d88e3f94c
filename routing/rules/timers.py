"""Time-based triggers, evaluated by beat from database state (no broker ETAs): a ticket that has been in a
status, unanswered, or without an assignee for the rule's minutes, whose SLA is due within them, or whose SLA
was breached (that long ago), fires the rule once per episode. An episode starts when the condition last
became true (the status change, the customer's latest message, the ticket losing its assignee, the due or
breach moment); its start is stored with the firing, so the next sweep skips it and a new episode fires again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection
from django.db.models import DateTimeField, Exists, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from helpdesk.models import Tenant
from helpdesk.tenancy import tenant_context
from routing.models import Rule, RuleTimeFiring, RuleTrigger
from routing.rules import engine
from routing.rules.conditions import groups_match, needed_facts
from routing.rules.facts import facts_for
from routing.rules.queries import groups_q
from tickets.models import ACTIVE_STATUSES, EventKind, Message, MessageKind, Status, Ticket, TicketEvent

# Tickets considered per rule and sweep; the rest are found by the next sweep (a minute later).
SWEEP_LIMIT = 500
STATUS_EVENT_KINDS = (EventKind.CREATED, EventKind.STATUS_CHANGED, EventKind.POSTPONED)
ASSIGNMENT_EVENT_KINDS = (EventKind.ASSIGNED, EventKind.TRANSFERRED)


def _latest_event(kinds: tuple[str, ...]) -> Subquery:
    return Subquery(TicketEvent.objects.filter(ticket_id=OuterRef("pk"), kind__in=kinds)
                    .order_by("-created_at", "-id").values("created_at")[:1], output_field=DateTimeField())


def episodes(rule: Rule) -> QuerySet[Ticket] | None:
    """The tickets in the rule's condition, annotated with ``episode_start``; None for triggers without one
    here (the SLA triggers wait for SLA levels)."""
    if rule.trigger == RuleTrigger.TIME_IN_STATUS:
        return Ticket.objects.filter(status=rule.trigger_options["status"]).annotate(
            episode_start=Coalesce(_latest_event(STATUS_EVENT_KINDS), "created_at"))
    if rule.trigger == RuleTrigger.TIME_UNANSWERED:
        latest_customer = Subquery(Message.objects.filter(ticket_id=OuterRef("pk"), kind=MessageKind.CUSTOMER)
                                   .order_by("-created_at", "-id").values("created_at")[:1])
        # A reply sets the ticket answered and a customer message sets it open again (tickets.services).
        return Ticket.objects.filter(status__in=(Status.NEW, Status.OPEN)).annotate(
            episode_start=Coalesce(latest_customer, "created_at"))
    if rule.trigger == RuleTrigger.TIME_UNASSIGNED:
        return Ticket.objects.filter(assignee__isnull=True, status__in=ACTIVE_STATUSES).annotate(
            episode_start=Coalesce(_latest_event(ASSIGNMENT_EVENT_KINDS), "created_at"))
    if not hasattr(Ticket, "sla_due_at"):
        return None  # SLA levels are not part of this help desk yet
    if rule.trigger == RuleTrigger.SLA_DUE_SOON:
        # The due moment names the episode: a target re-timed (another SLA level, a priority change) is a new one.
        return Ticket.objects.filter(sla_due_at__isnull=False, status__in=ACTIVE_STATUSES).annotate(
            episode_start=F("sla_due_at"))
    if rule.trigger == RuleTrigger.SLA_BREACHED:
        # PostgreSQL's GREATEST skips NULLs: the latest breach of any target.
        return Ticket.objects.annotate(episode_start=Greatest(
            "first_response_breached_at", "next_response_breached_at", "resolution_breached_at",
        )).filter(episode_start__isnull=False)
    return None


def _claim(rule: Rule, found: list[tuple[int, datetime]], now: datetime) -> list[int]:
    """Record the firings; returns the tickets whose episode had not fired yet (one statement, so two sweeps
    running at once never both fire the same episode)."""
    if not found:
        return []
    table = RuleTimeFiring._meta.db_table
    rows = ", ".join(["(%s, %s, %s, %s, %s)"] * len(found))
    params: list = []
    for ticket_id, start in found:
        params.extend([rule.tenant_id, rule.pk, ticket_id, start, now])
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (tenant_id, rule_id, ticket_id, episode_start, fired_at) VALUES {rows} "
            "ON CONFLICT (tenant_id, rule_id, ticket_id, episode_start) DO NOTHING RETURNING ticket_id", params)
        return [row[0] for row in cursor.fetchall()]


def time_rule_due(rule: Rule, *, now: datetime) -> list[int]:
    """Fire ``rule`` for the tickets whose episode has lasted long enough and has not fired: record the
    firings and queue the rule's run for each (after commit). Returns the ticket ids."""
    tickets = episodes(rule)
    if tickets is None:
        return []
    minutes = timedelta(minutes=rule.trigger_options.get("minutes") or 0)
    if rule.trigger == RuleTrigger.SLA_DUE_SOON:
        tickets = tickets.filter(episode_start__gt=now, episode_start__lte=now + minutes)
    else:
        tickets = tickets.filter(episode_start__lte=now - minutes)
    q, exact = groups_q(rule.condition_groups)
    fired = RuleTimeFiring.objects.filter(rule_id=rule.pk, ticket_id=OuterRef("pk"),
                                          episode_start=OuterRef("episode_start"))
    candidates = tickets.filter(q).filter(~Exists(fired))
    rows = list(candidates.select_related("contact").prefetch_related("tags").order_by("episode_start", "id")
                [:SWEEP_LIMIT])
    if not exact:
        facts = facts_for(rows, needed=needed_facts(rule.condition_groups), hours_at=now)
        rows = [t for t in rows if groups_match(rule.condition_groups, facts[t.pk])]
    claimed = _claim(rule, [(t.pk, t.episode_start) for t in rows], now)
    for ticket_id in claimed:
        engine.enqueue(tenant_id=rule.tenant_id, ticket_id=ticket_id, trigger=rule.trigger, rule_ids=[rule.pk])
    return claimed


def time_rules_sweep(*, tenant: Tenant, now: datetime | None = None) -> int:
    now = now or timezone.now()
    count = 0
    with tenant_context(tenant):
        for rule in Rule.objects.filter(active=True, trigger__in=[
            RuleTrigger.TIME_IN_STATUS, RuleTrigger.TIME_UNANSWERED, RuleTrigger.TIME_UNASSIGNED,
            RuleTrigger.SLA_DUE_SOON, RuleTrigger.SLA_BREACHED,
        ]).order_by("position", "id"):
            count += len(time_rule_due(rule, now=now))
    return count
