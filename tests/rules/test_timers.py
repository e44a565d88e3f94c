"""Time-based triggers: evaluated by beat from database state, each ticket firing each rule at most once per
episode of its condition."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from helpdesk.tenancy import tenant_context
from routing.models import RuleTimeFiring
from routing.rules import tasks, timers
from tests.factories import TenantWorld
from tests.rules.helpers import act, cond, fresh, rule, rule_events
from tickets import services as ticket_services
from tickets.models import MessageKind, Ticket

pytestmark = pytest.mark.django_db


def sweep(world: TenantWorld, now=None) -> int:
    return timers.time_rules_sweep(tenant=world.tenant, now=now)


def test_unassigned_rule_fires_once_per_episode(acme, worker):
    escalate = rule(acme, name="Unassigned 30 min", trigger="time_unassigned", trigger_options={"minutes": 30},
                    actions=[act("set_priority", "urgent")])
    old = acme.ticket(created_at=timezone.now() - timedelta(minutes=45))
    young = acme.ticket(created_at=timezone.now() - timedelta(minutes=10))

    with worker():
        assert sweep(acme) == 1
    assert fresh(acme, old).priority == 4 and fresh(acme, young).priority == 2
    with worker():
        assert sweep(acme) == 0  # the same episode does not fire again
    assert len(rule_events(acme, old)) == 1

    # Assigned, then unassigned again: a new episode starts, and fires once it has lasted 30 minutes.
    with tenant_context(acme.tenant):
        ticket = Ticket.objects.get(pk=old.pk)
        ticket = ticket_services.ticket_update(actor=acme.admin, ticket=ticket, assignee=acme.agents[0], priority=2)
        ticket_services.ticket_update(actor=acme.admin, ticket=ticket, assignee=None)
    with worker():
        assert sweep(acme) == 0
        later = timezone.now() + timedelta(minutes=31)
        assert sweep(acme, now=later) == 2  # the old ticket's new episode, and the young one's first
    assert len(rule_events(acme, old)) == 2
    with tenant_context(acme.tenant):
        assert RuleTimeFiring.objects.filter(rule=escalate, ticket_id=old.pk).count() == 2


def test_in_status_rule_counts_from_the_last_status_change(acme, worker):
    rule(acme, name="Open too long", trigger="time_in_status", trigger_options={"status": "open", "minutes": 60},
         actions=[act("add_tags", ["stale"])])
    ticket = acme.ticket(created_at=timezone.now() - timedelta(hours=5))
    with tenant_context(acme.tenant):
        ticket_services.ticket_update(actor=acme.admin, ticket=Ticket.objects.get(pk=ticket.pk), status="open")
    with worker():
        assert sweep(acme) == 0  # open for seconds, although created hours ago
        assert sweep(acme, now=timezone.now() + timedelta(minutes=61)) == 1
    assert [e.data["changes"]["tags"] for e in rule_events(acme, ticket)] == [[[], ["stale"]]]


def test_unanswered_rule_honours_its_conditions(acme, worker):
    rule(acme, name="VIP waiting", trigger="time_unanswered", trigger_options={"minutes": 15},
         groups=[[cond("customer_domain", "is", "vip.example")]], actions=[act("set_priority", "high")])
    two_hours_ago = timezone.now() - timedelta(hours=2)
    vip = acme.ticket(created_at=two_hours_ago,
                      contact=ticket_services.ContactData(name="V", email="boss@vip.example"))
    other = acme.ticket(created_at=two_hours_ago)
    answered = acme.ticket(created_at=two_hours_ago,
                           contact=ticket_services.ContactData(name="W", email="cfo@vip.example"))
    with tenant_context(acme.tenant):
        ticket_services.message_add(actor=acme.admin, ticket=Ticket.objects.get(pk=answered.pk),
                                    kind=MessageKind.REPLY, body="Done.")
    with worker():
        assert sweep(acme) == 1
    assert (fresh(acme, vip).priority, fresh(acme, other).priority, fresh(acme, answered).priority) == (3, 2, 2)


def test_the_beat_task_sweeps_every_tenant(acme, globex, worker):
    for world in (acme, globex):
        rule(world, trigger="time_unassigned", trigger_options={"minutes": 5}, actions=[act("resolve")])
    tickets = [world.ticket(created_at=timezone.now() - timedelta(minutes=6)) for world in (acme, globex)]
    with worker():
        tasks.rules_time_sweep()
    assert [fresh(w, t).status for w, t in zip((acme, globex), tickets, strict=True)] == ["resolved", "resolved"]


def test_the_embedded_sweep_command_runs_time_rules_too(acme, worker):
    rule(acme, trigger="time_unassigned", trigger_options={"minutes": 5}, actions=[act("set_priority", "urgent")])
    ticket = acme.ticket(created_at=timezone.now() - timedelta(minutes=6))
    with worker():
        call_command("routing_sweep", "--once")
    assert fresh(acme, ticket).priority == 4
