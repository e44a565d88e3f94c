"""Triggers, conditions and actions together: rules run after commit, in order, change tickets through the
tickets services (so the system log tells it), run before routing on new tickets, retry and park a failing
rule, switch off rules naming deleted things, and never loop."""

from __future__ import annotations

import pytest
from django.utils import timezone

from departments import services as department_services
from departments.models import Department
from helpdesk.tenancy import tenant_context
from routing.models import ParkedRuleRun, RoutingDecision, RoutingItem, Rule, RuleChange
from routing.rules import engine
from tests.factories import TenantWorld
from tests.routing.routing_world import configure, team
from tests.rules.helpers import act, cond, fresh, kinds, rule, rule_events, tags_of
from tickets import services as ticket_services
from tickets.models import EventKind, MessageKind, Ticket, TicketEvent
from tickets.templatetags.ticket_ui import event_line

pytestmark = pytest.mark.django_db


def update(world: TenantWorld, ticket: Ticket, **changes) -> Ticket:
    with tenant_context(world.tenant):
        return ticket_services.ticket_update(actor=world.admin, ticket=Ticket.objects.get(pk=ticket.pk), **changes)


def test_created_rule_transfers_the_ticket_before_routing_offers_it(acme, worker):
    marketing, (marketer,) = team(acme, {"display_name": "Mia Marketing"}, name="Marketing")
    configure(acme, auto_assign_tickets=True)
    rule(acme, name="Social to Marketing", groups=[[cond("channel", "in", ["twitter", "facebook"])]],
         actions=[act("transfer", marketing.pk), act("unassign")])

    with worker():
        ticket = acme.ticket(channel="twitter", department=acme.department)
        with tenant_context(acme.tenant):
            # Nothing is queued for routing while the transaction is open: the rules decide first.
            assert not RoutingItem.objects.filter(ticket_id=ticket.pk).exists()

    moved = fresh(acme, ticket)
    assert moved.department == marketing
    with tenant_context(acme.tenant):
        decision = RoutingDecision.objects.get(ticket=ticket)
        assert decision.department_id_at_decision == marketing.pk
        assert decision.winner_ids == [marketer.pk]
    log = kinds(acme, ticket)
    assert log.index(EventKind.TRANSFERRED) < log.index(EventKind.RULE_APPLIED) < log.index(EventKind.ROUTED)
    (fired,) = rule_events(acme, ticket)
    assert event_line(fired) == {"actor": "Rule “Social to Marketing”",
                                 "text": "fired: department Support → Marketing"}


def test_without_created_rules_a_new_ticket_is_queued_at_once(acme, worker):
    configure(acme, auto_assign_tickets=True)
    rule(acme, trigger="ticket_updated", actions=[act("resolve")])
    ticket = acme.ticket(channel="twitter")
    with tenant_context(acme.tenant):
        assert RoutingItem.objects.filter(ticket_id=ticket.pk).exists()


def test_a_new_ticket_is_routed_even_when_its_rules_fail_for_good(acme, worker, monkeypatch):
    configure(acme, auto_assign_tickets=True)
    broken = rule(acme, name="Broken", actions=[act("add_note", "Hello")])

    def fail(**kwargs):
        raise RuntimeError("mail server on fire")

    monkeypatch.setattr(ticket_services, "message_add", fail)
    with worker():
        ticket = acme.ticket(channel="twitter")
    with tenant_context(acme.tenant):
        assert RoutingItem.objects.filter(ticket_id=ticket.pk).exists()
        parked = ParkedRuleRun.objects.get(rule=broken)
    assert parked.attempts == engine.MAX_ATTEMPTS
    assert "mail server on fire" in parked.error


def test_one_rules_actions_are_all_or_nothing_and_a_failing_rule_is_parked_while_others_go_on(
        acme, worker, monkeypatch):
    failing = rule(acme, name="Escalate", actions=[act("set_priority", "urgent"), act("add_tags", ["escalated"]),
                                                   act("add_note", "Escalated by rule")])
    rule(acme, name="Tag all", actions=[act("add_tags", ["seen"])])
    calls = []

    def flaky_note(**kwargs):
        calls.append(kwargs["body"])
        raise RuntimeError("note store unavailable")

    monkeypatch.setattr(ticket_services, "message_add", flaky_note)
    with worker():
        ticket = acme.ticket()

    after = fresh(acme, ticket)
    assert after.priority == 2  # the priority change of the failing rule was rolled back with it
    assert tags_of(acme, ticket) == ["seen"]
    assert len(calls) == engine.MAX_ATTEMPTS
    with tenant_context(acme.tenant):
        assert ParkedRuleRun.objects.filter(rule=failing, ticket_id=ticket.pk).count() == 1
    assert [e.data["rule"] for e in rule_events(acme, ticket)] == ["Tag all"]


def test_rules_run_in_order_and_stop_processing_ends_the_run(acme, worker):
    rule(acme, name="First", actions=[act("add_tags", ["first"])])
    rule(acme, name="Stopper", actions=[act("add_tags", ["second"])], stop_processing=True)
    rule(acme, name="Never", actions=[act("add_tags", ["third"])])
    with worker():
        ticket = acme.ticket()
    assert tags_of(acme, ticket) == ["first", "second"]
    assert [e.data["rule"] for e in rule_events(acme, ticket)] == ["First", "Stopper"]


def test_conditions_that_do_not_match_leave_the_ticket_and_its_log_alone(acme, worker):
    rule(acme, groups=[[cond("channel", "is", "facebook")], [cond("subject", "contains", "urgent")]],
         actions=[act("set_priority", "urgent")])
    with worker():
        plain = acme.ticket(channel="email", subject="Printer jam")
        urgent = acme.ticket(channel="email", subject="URGENT: printer jam")
    assert fresh(acme, plain).priority == 2 and rule_events(acme, plain) == []
    assert fresh(acme, urgent).priority == 4 and len(rule_events(acme, urgent)) == 1


def test_updated_rules_fire_only_for_the_fields_they_watch(acme, worker):
    rule(acme, name="Dept watcher", trigger="ticket_updated", trigger_options={"fields": ["department"]},
         actions=[act("add_tags", ["moved"])])
    ticket = acme.ticket()
    billing, _ = team(acme, {}, name="Billing")
    with worker():
        update(acme, ticket, priority=3)
    assert tags_of(acme, ticket) == []
    with worker():
        update(acme, ticket, department=billing)
    assert tags_of(acme, ticket) == ["moved"]


def test_customer_message_and_agent_reply_triggers(acme, worker):
    rule(acme, name="Customer wrote", trigger="customer_message", actions=[act("add_tags", ["customer-wrote"])])
    rule(acme, name="We replied", trigger="agent_reply", actions=[act("set_priority", "low")])
    ticket = acme.ticket()
    with worker(), tenant_context(acme.tenant):
        ticket_services.message_add(actor=None, ticket=Ticket.objects.get(pk=ticket.pk), kind=MessageKind.CUSTOMER,
                                    body="Any news?")
    assert tags_of(acme, ticket) == ["customer-wrote"] and fresh(acme, ticket).priority == 2
    with worker(), tenant_context(acme.tenant):
        ticket_services.message_add(actor=acme.actor_of(acme.agents[0]), ticket=Ticket.objects.get(pk=ticket.pk),
                                    kind=MessageKind.REPLY, body="On its way.")
    assert fresh(acme, ticket).priority == 1


def test_a_rule_never_fires_twice_in_one_chain(acme, worker):
    # Two rules that undo each other: without protection they would flip the priority forever.
    rule(acme, name="Calm down", trigger="ticket_updated", groups=[[cond("priority", "is", "urgent")]],
         actions=[act("set_priority", "low")])
    rule(acme, name="Wake up", trigger="ticket_updated", groups=[[cond("priority", "is", "low")]],
         actions=[act("set_priority", "urgent")])
    ticket = acme.ticket()
    with worker():
        update(acme, ticket, priority=4)
    assert [e.data["rule"] for e in rule_events(acme, ticket)] == ["Calm down", "Wake up"]
    assert fresh(acme, ticket).priority == 4


def test_rule_chains_stop_at_the_depth_limit(acme, worker):
    # Rule i adds tag t<i> once t<i-1> is there; the last in order fires first, so each run fires one rule.
    length = engine.MAX_CHAIN_DEPTH + 2
    for i in range(length, 0, -1):
        rule(acme, name=f"Step {i}", trigger="ticket_updated", groups=[[cond("tags", "contains", f"t{i - 1}")]],
             actions=[act("add_tags", [f"t{i}"])])
    ticket = acme.ticket()
    with worker():
        update(acme, ticket, tags=["t0"])
    # The person's change starts depth 0; follow-ups go up to MAX_CHAIN_DEPTH, each firing one step.
    assert tags_of(acme, ticket) == sorted(f"t{i}" for i in range(engine.MAX_CHAIN_DEPTH + 2))
    assert len(rule_events(acme, ticket)) == engine.MAX_CHAIN_DEPTH + 1


def test_rule_naming_a_deleted_department_is_switched_off_at_delete_time(acme, worker):
    with tenant_context(acme.tenant):
        doomed = department_services.department_create(actor=acme.admin, name="Doomed")
    transfer = rule(acme, name="To Doomed", actions=[act("transfer", doomed.pk)])
    with tenant_context(acme.tenant):
        Department.objects.get(pk=doomed.pk).delete()
        switched = Rule.objects.get(pk=transfer.pk)
        change = RuleChange.objects.filter(rule=switched).latest("id")
    assert not switched.active
    assert "department “Doomed”" in switched.warning
    assert (change.actor_label, change.action) == ("System", "switched off")
    with worker():
        ticket = acme.ticket()
    assert fresh(acme, ticket).department == acme.department


def test_rule_naming_a_missing_agent_is_switched_off_at_run_time(acme, worker):
    assign = rule(acme, name="To a ghost", actions=[act("set_priority", "high"), act("assign", acme.agents[1].pk)])
    with tenant_context(acme.tenant):
        # As if the agent vanished without the delete hook (a raw SQL clean-up, say).
        Rule.objects.filter(pk=assign.pk).update(actions=[{"type": "set_priority", "value": "high"},
                                                          {"type": "assign", "value": 987654}],
                                                 updated_at=timezone.now())
    with worker():
        ticket = acme.ticket()
    with tenant_context(acme.tenant):
        switched = Rule.objects.get(pk=assign.pk)
    assert not switched.active and "agent" in switched.warning
    assert fresh(acme, ticket).priority == 2
    assert rule_events(acme, ticket) == []


def test_another_tenants_rules_never_touch_our_tickets(acme, globex, worker):
    rule(globex, name="Globex only", actions=[act("set_priority", "urgent")])
    with worker():
        ticket = acme.ticket()
    assert fresh(acme, ticket).priority == 2
    with tenant_context(acme.tenant):
        assert not TicketEvent.objects.filter(ticket=ticket, kind=EventKind.RULE_APPLIED).exists()
