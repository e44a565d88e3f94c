"""Dry runs say which past tickets a rule would have matched and what it would have changed, and change
nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from helpdesk.errors import ApplicationError, PermissionDenied
from helpdesk.tenancy import tenant_context
from routing.rules import dry_run
from tests.routing.routing_world import team
from tests.rules.helpers import act, cond
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db

WEEK = timedelta(days=7)


def definition(groups, actions, **extra):
    return {"name": "Try", "trigger": "ticket_created", "condition_groups": groups, "actions": actions, **extra}


def run(world, data, start=None, end=None, actor=None):
    now = timezone.now()
    with tenant_context(world.tenant):
        return dry_run.rule_dry_run(actor=actor or world.admin, data=data, start=start or now - WEEK,
                                    end=end or now + timedelta(minutes=1))


def snapshot(world):
    with tenant_context(world.tenant):
        return (list(Ticket.objects.order_by("id").values_list("id", "department_id", "priority", "status")),
                TicketEvent.objects.count())


def test_dry_run_counts_and_shows_changes_without_changing_anything(acme):
    marketing, _ = team(acme, {}, name="Marketing")
    social = [acme.ticket(channel=c) for c in ("twitter", "facebook", "twitter")]
    acme.ticket(channel="email")
    acme.ticket(channel="twitter", created_at=timezone.now() - 2 * WEEK)  # before the range
    before = snapshot(acme)

    result = run(acme, definition([[cond("channel", "in", ["twitter", "facebook"])]],
                                  [act("transfer", marketing.pk), act("add_note", "FYI")]))

    assert (result.matched, result.complete) == (3, True)
    assert [t.id for t in result.tickets] == [t.pk for t in reversed(social)]
    assert result.tickets[0].changes == {"department": ["Support", "Marketing"]}
    assert result.tickets[0].also == ["add an internal note"]
    assert snapshot(acme) == before


def test_conditions_only_python_can_decide_are_checked_on_the_filtered_tickets(acme):
    acme.ticket(subject="Order #12345 missing")
    acme.ticket(subject="Order missing")
    acme.ticket(channel="chat", subject="Order #99999 missing")
    result = run(acme, definition([[cond("subject", "matches", r"#\d{5}"), cond("channel", "is", "email")]],
                                  [act("set_priority", "high")]))
    assert result.matched == 1 and result.tickets[0].subject == "Order #12345 missing"
    assert result.tickets[0].changes == {"priority": ["medium", "high"]}


def test_invalid_rule_or_range_is_refused_with_field_errors(acme):
    with pytest.raises(ApplicationError) as bad_rule:
        run(acme, definition([[cond("subject", "matches", "(a+)+")]], []))
    assert set(bad_rule.value.fields) == {"condition_groups[0][0].value", "actions"}
    now = timezone.now()
    with pytest.raises(ApplicationError) as bad_range:
        run(acme, definition([], [act("resolve")]), start=now, end=now - WEEK)
    assert "end" in bad_range.value.fields


def test_only_admins_dry_run(acme):
    with pytest.raises(PermissionDenied):
        run(acme, definition([], [act("resolve")]), actor=acme.actor_of(acme.agents[0]))
