"""Rules with SLA levels, reply templates and business hours (the departments and tickets services that own
them): apply an SLA level, send an auto-reply, fire when an SLA is due soon or breached, look at business
hours, and switch off when a named template or SLA level is deleted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from departments import business_hours, replies
from departments.models import EmailTemplate, SlaPolicy
from helpdesk.tenancy import tenant_context
from routing.models import Rule
from routing.rules import timers
from tests.rules.helpers import act, cond, fresh, kinds, rule, rule_events
from tickets.models import EventKind, OutgoingEmail, Ticket

pytestmark = pytest.mark.django_db

TARGETS = {"medium": {"first_response": 60, "resolution": 480}, "high": {"first_response": 15, "resolution": 120}}


@pytest.fixture
def gold(acme) -> SlaPolicy:
    with tenant_context(acme.tenant):
        return business_hours.sla_policy_create(actor=acme.admin, name="Gold", targets=TARGETS,
                                                due_soon_minutes=10)


@pytest.fixture
def welcome(acme) -> EmailTemplate:
    with tenant_context(acme.tenant):
        return replies.email_template_create(actor=acme.admin, kind="acknowledgement", subject="We got it",
                                             body="Thanks for writing.", enabled=False)


def test_a_rule_applies_an_sla_level_and_sends_an_auto_reply(acme, gold, welcome, worker):
    rule(acme, name="VIP care", groups=[[cond("customer_domain", "is", "example.com")]],
         actions=[act("apply_sla", gold.pk), act("send_auto_reply", welcome.pk)])
    with worker():
        ticket = acme.ticket()
    after = fresh(acme, ticket)
    assert after.sla_policy_id == gold.pk and after.first_response_due_at is not None
    with tenant_context(acme.tenant):
        assert OutgoingEmail.objects.filter(ticket=ticket, subject="We got it").count() == 1
    assert {EventKind.SLA_APPLIED, EventKind.AUTO_REPLY_SENT, EventKind.RULE_APPLIED} <= set(kinds(acme, ticket))
    (fired,) = rule_events(acme, ticket)
    assert fired.data["also"] == ["applied an SLA level", "sent an auto-reply"]


def test_sla_due_soon_and_breached_fire_once_per_due_moment(acme, gold, worker):
    rule(acme, name="Due soon", trigger="sla_due_soon", trigger_options={"minutes": 30},
         actions=[act("set_priority", "high")])
    rule(acme, name="Breached", trigger="sla_breached", trigger_options={}, actions=[act("add_tags", ["late"])])
    rule(acme, name="Gold for all", actions=[act("apply_sla", gold.pk)])
    with worker():
        ticket = acme.ticket()
    due = fresh(acme, ticket).first_response_due_at
    with worker():
        assert timers.time_rules_sweep(tenant=acme.tenant) == 0  # due in an hour: not soon yet
        assert timers.time_rules_sweep(tenant=acme.tenant, now=due - timedelta(minutes=20)) == 1
        assert timers.time_rules_sweep(tenant=acme.tenant, now=due - timedelta(minutes=10)) == 0
    assert fresh(acme, ticket).priority == 3
    with tenant_context(acme.tenant):
        # What the SLA sweep records at the breach.
        Ticket.objects.filter(pk=ticket.pk).update(first_response_breached_at=due)
    with worker():
        assert timers.time_rules_sweep(tenant=acme.tenant, now=due + timedelta(minutes=1)) >= 1
        timers.time_rules_sweep(tenant=acme.tenant, now=due + timedelta(minutes=2))
    assert [e.data["rule"] for e in rule_events(acme, ticket)].count("Breached") == 1


def test_business_hours_condition(acme, worker):
    today = timezone.now().date()
    with tenant_context(acme.tenant):
        # Open around the clock, except that today (and tomorrow, should the test cross midnight) are holidays.
        business_hours.business_hours_create(
            actor=acme.admin, department=acme.department, time_zone="UTC",
            weekly={day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
            holidays=[{"date": str(today + timedelta(days=d)), "name": "Closed", "recurring": False}
                      for d in (0, 1)])
    rule(acme, name="Out of hours", groups=[[cond("in_business_hours", "is", False)]],
         actions=[act("add_tags", ["after-hours"])])
    with worker():
        ticket = acme.ticket()
    assert [e.data["rule"] for e in rule_events(acme, ticket)] == ["Out of hours"]


def test_deleting_a_named_template_or_sla_level_switches_the_rule_off(acme, gold, welcome):
    auto_reply = rule(acme, name="Welcome", actions=[act("send_auto_reply", welcome.pk)])
    sla = rule(acme, name="Gold", actions=[act("apply_sla", gold.pk)])
    with tenant_context(acme.tenant):
        replies.email_template_delete(actor=acme.admin, template=welcome)
        SlaPolicy.objects.filter(pk=gold.pk).delete()
        switched = {r.name: r for r in Rule.objects.filter(pk__in=[auto_reply.pk, sla.pk])}
    assert not switched["Welcome"].active and "template “We got it”" in switched["Welcome"].warning
    assert not switched["Gold"].active and "SLA level “Gold”" in switched["Gold"].warning


def test_sla_triggers_fire_only_when_the_sla_is_running(acme, worker):
    rule(acme, name="Due soon", trigger="sla_due_soon", trigger_options={"minutes": 600},
         actions=[act("set_priority", "high")])
    acme.ticket()  # no SLA level: nothing is ever due
    with worker():
        assert timers.time_rules_sweep(tenant=acme.tenant, now=timezone.now() + timedelta(days=1)) == 0
