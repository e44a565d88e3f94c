"""SLA clocks on real tickets: policy choice, business hours, pauses, breaches once, re-timing, the rule action."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from departments import business_hours
from helpdesk.errors import NotFound
from helpdesk.tenancy import tenant_context
from tickets import services, sla
from tickets.models import EventKind, MessageKind, Status, Ticket, TicketEvent
from tickets.services import ContactData

BERLIN = ZoneInfo("Europe/Berlin")


def events(ticket, kind):
    return list(TicketEvent.objects.filter(ticket=ticket, kind=kind).order_by("id"))


def fresh(ticket):
    return Ticket.objects.select_related("sla_policy").get(pk=ticket.pk)


def test_department_default_policy_sets_first_response_and_resolution_due(acme, policy):
    created = timezone.now().replace(microsecond=0)
    ticket = acme.ticket(created_at=created)
    with tenant_context(acme.tenant):
        ticket = fresh(ticket)
        assert ticket.sla_policy_id == policy.pk
        assert ticket.first_response_due_at == created + timedelta(minutes=60)
        assert ticket.resolution_due_at == created + timedelta(minutes=480)
        assert ticket.next_response_due_at is None
        assert ticket.sla_due_at == ticket.first_response_due_at
        # The sweep looks first when "due soon" (10 minutes before) is to be announced.
        assert ticket.sla_check_at == created + timedelta(minutes=50)


def test_customer_group_by_email_domain_wins_over_the_department_and_default(acme, policy):
    with tenant_context(acme.tenant):
        vip = business_hours.sla_policy_create(actor=acme.admin, name="VIP", customer_domains=["@BigCo.com"],
                                               targets={"medium": {"first_response": 5}})
        fallback = business_hours.sla_policy_create(actor=acme.admin, name="Fallback", is_default=True,
                                                    targets={"medium": {"first_response": 600}})
        assert vip.customer_domains == ["bigco.com"]
    from_bigco = acme.ticket(contact=ContactData(email="cto@bigco.com"))
    elsewhere = acme.ticket(contact=ContactData(email="x@small.org"))
    no_department = acme.ticket(department=None)
    with tenant_context(acme.tenant):
        assert fresh(from_bigco).sla_policy_id == vip.pk
        assert fresh(elsewhere).sla_policy_id == policy.pk
        assert fresh(no_department).sla_policy_id == fallback.pk


def test_due_times_count_only_business_hours(acme, policy):
    with tenant_context(acme.tenant):
        business_hours.business_hours_create(
            actor=acme.admin, time_zone="Europe/Berlin",
            weekly={d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
        )
    friday = datetime(2025, 3, 7, 16, 30, tzinfo=BERLIN)
    ticket = acme.ticket(created_at=friday)
    with tenant_context(acme.tenant):
        ticket = fresh(ticket)
        assert ticket.first_response_due_at == datetime(2025, 3, 10, 9, 30, tzinfo=BERLIN)
        # 8 business hours: 30 minutes on Friday, then Monday 09:00 to Monday 16:30.
        assert ticket.resolution_due_at == datetime(2025, 3, 10, 16, 30, tzinfo=BERLIN)


def test_waiting_on_the_customer_pauses_the_clocks_and_a_reply_from_them_resumes_them(acme, policy):
    start = timezone.now().replace(microsecond=0) - timedelta(minutes=30)
    ticket = acme.ticket(created_at=start)
    agent = acme.actor_of(acme.agents[0])
    with tenant_context(acme.tenant):
        replied_at = start + timedelta(minutes=20)
        services.message_add(actor=agent, ticket=ticket, kind=MessageKind.REPLY, body="Try turning it off.",
                             at=replied_at)
        ticket = fresh(ticket)
        assert ticket.status == Status.ANSWERED
        assert ticket.first_response_breached_at is None  # met: 20 of 60 minutes
        assert ticket.sla_paused_since == replied_at
        assert ticket.sla_due_at is None and ticket.sla_check_at is None  # nothing runs while paused
        resolution_due = ticket.resolution_due_at
        assert resolution_due == start + timedelta(minutes=480)

        # The customer answers two hours later: resolution keeps its 460 minutes left, next response starts.
        answered_at = replied_at + timedelta(hours=2)
        services.message_add(actor=None, ticket=ticket, kind=MessageKind.CUSTOMER, body="Still burning.",
                             at=answered_at)
        ticket = fresh(ticket)
        assert ticket.status == Status.OPEN
        assert ticket.sla_paused_since is None
        assert ticket.sla_paused_seconds == 2 * 3600
        assert ticket.resolution_due_at == resolution_due + timedelta(hours=2)
        assert ticket.next_response_due_at == answered_at + timedelta(minutes=30)
        assert ticket.sla_due_at == ticket.next_response_due_at


def test_postponing_pauses_and_reopening_by_status_resumes(acme, policy):
    ticket = acme.ticket()
    with tenant_context(acme.tenant):
        before = fresh(ticket).first_response_due_at
        services.ticket_update(actor=acme.admin, ticket=ticket, status=Status.POSTPONED,
                               postponed_until=timezone.now() + timedelta(days=1))
        paused = fresh(ticket)
        assert paused.sla_paused_since is not None and paused.sla_due_at is None
        services.ticket_update(actor=acme.admin, ticket=ticket, status=Status.OPEN)
        resumed = fresh(ticket)
        assert resumed.sla_paused_since is None
        # The clock kept what it had left: the due time moved by the (short) pause, never earlier.
        assert before <= resumed.first_response_due_at <= before + timedelta(seconds=5)


def test_sweep_announces_due_soon_then_breach_once_per_target(acme, policy):
    start = timezone.now().replace(microsecond=0)
    ticket = acme.ticket(created_at=start)
    with tenant_context(acme.tenant):
        assert sla.sla_sweep(now=start + timedelta(minutes=10)) == 0
        assert sla.sla_sweep(now=start + timedelta(minutes=51)) == 1
        assert sla.sla_sweep(now=start + timedelta(minutes=52)) == 0
        assert sla.sla_sweep(now=start + timedelta(minutes=61)) == 1
        assert sla.sla_sweep(now=start + timedelta(minutes=62)) == 0
        due_soon = events(ticket, EventKind.SLA_DUE_SOON)
        breached = events(ticket, EventKind.SLA_BREACHED)
        assert [e.data["target"] for e in due_soon] == ["first_response"]
        assert [e.data["target"] for e in breached] == ["first_response"]
        ticket = fresh(ticket)
        assert ticket.first_response_breached_at == start + timedelta(minutes=60)
        # Resolution is next to watch: its due-soon moment.
        assert ticket.sla_check_at == start + timedelta(minutes=470)
        # A late first reply does not log the breach a second time.
        services.message_add(actor=acme.actor_of(acme.agents[0]), ticket=ticket, kind=MessageKind.REPLY,
                             body="Sorry for the wait.", at=start + timedelta(minutes=90))
        assert len(events(ticket, EventKind.SLA_BREACHED)) == 1


def test_a_late_reply_the_sweep_never_saw_is_recorded_as_a_breach(acme, policy):
    start = timezone.now().replace(microsecond=0) - timedelta(hours=2)
    ticket = acme.ticket(created_at=start)
    with tenant_context(acme.tenant):
        services.message_add(actor=acme.actor_of(acme.agents[0]), ticket=ticket, kind=MessageKind.REPLY,
                             body="Late.", at=start + timedelta(minutes=75))
        ticket = fresh(ticket)
        assert ticket.first_response_breached_at == start + timedelta(minutes=60)
        assert [e.data["target"] for e in events(ticket, EventKind.SLA_BREACHED)] == ["first_response"]


def test_resolving_meets_resolution_and_a_customer_reopening_starts_a_new_episode(acme, policy):
    ticket = acme.ticket()
    with tenant_context(acme.tenant):
        services.ticket_update(actor=acme.admin, ticket=ticket, status=Status.RESOLVED)
        ticket = fresh(ticket)
        assert ticket.resolution_breached_at is None and ticket.sla_due_at is None
        assert sla.sla_state(ticket)[1]["state"] == "met"
        reopened_at = timezone.now().replace(microsecond=0)
        services.message_add(actor=None, ticket=ticket, kind=MessageKind.CUSTOMER, body="Back again.",
                             at=reopened_at)
        ticket = fresh(ticket)
        assert ticket.status == Status.OPEN
        assert ticket.resolution_due_at == reopened_at + timedelta(minutes=480)


def test_raising_the_priority_keeps_the_time_already_used(acme, policy):
    start = timezone.now().replace(microsecond=0) - timedelta(minutes=5)
    ticket = acme.ticket(created_at=start)
    with tenant_context(acme.tenant):
        services.ticket_update(actor=acme.admin, ticket=ticket, priority=4)
        ticket = fresh(ticket)
        assert ticket.first_response_due_at == start + timedelta(minutes=15)
        assert ticket.resolution_due_at == start + timedelta(minutes=120)


def test_sla_apply_puts_the_ticket_under_another_policy_and_logs_it(acme, globex, policy):
    start = timezone.now().replace(microsecond=0) - timedelta(minutes=5)
    ticket = acme.ticket(created_at=start)
    with tenant_context(globex.tenant):
        foreign = business_hours.sla_policy_create(actor=globex.admin, name="Theirs",
                                                   targets={"medium": {"first_response": 1}})
    with tenant_context(acme.tenant):
        gold = business_hours.sla_policy_create(actor=acme.admin, name="Gold",
                                                targets={"medium": {"first_response": 20, "resolution": 60}})
        with pytest.raises(NotFound):
            sla.sla_apply(ticket=ticket, policy_id=foreign.pk, actor=None)
        sla.sla_apply(ticket=ticket, policy_id=gold.pk, actor=acme.admin)
        ticket = fresh(ticket)
        assert ticket.sla_policy_id == gold.pk
        assert ticket.first_response_due_at == start + timedelta(minutes=20)
        assert ticket.resolution_due_at == start + timedelta(minutes=60)
        applied = events(ticket, EventKind.SLA_APPLIED)
        assert [e.data["policy"] for e in applied] == [["Standard", "Gold"]]
        # Applying the same policy again changes nothing and logs nothing.
        sla.sla_apply(ticket=ticket, policy_id=gold.pk, actor=acme.admin)
        assert len(events(ticket, EventKind.SLA_APPLIED)) == 1


def test_business_hours_contains_uses_the_department_then_the_tenant(acme):
    with tenant_context(acme.tenant):
        assert business_hours.business_hours_contains(acme.department.pk, datetime(2025, 3, 9, 3, tzinfo=UTC))
        business_hours.business_hours_create(actor=acme.admin, time_zone="UTC",
                                             weekly={"mon": [["09:00", "17:00"]]})
        business_hours.business_hours_create(actor=acme.admin, department=acme.department, time_zone="UTC",
                                             weekly={"sun": [["00:00", "06:00"]]})
        sunday_night = datetime(2025, 3, 9, 3, tzinfo=UTC)
        monday_noon = datetime(2025, 3, 10, 12, tzinfo=UTC)
        assert business_hours.business_hours_contains(acme.department.pk, sunday_night)
        assert not business_hours.business_hours_contains(acme.department.pk, monday_noon)
        assert business_hours.business_hours_contains(None, monday_noon)
        assert not business_hours.business_hours_contains(None, sunday_night)


def test_sla_state_shows_remaining_time_and_pause(acme, policy):
    start = timezone.now().replace(microsecond=0)
    ticket = acme.ticket(created_at=start)
    with tenant_context(acme.tenant):
        rows = {r["target"]: r for r in sla.sla_state(fresh(ticket), now=start + timedelta(minutes=15))}
        assert rows["first_response"]["state"] == "running"
        assert rows["first_response"]["remaining_seconds"] == 45 * 60
        late = {r["target"]: r for r in sla.sla_state(fresh(ticket), now=start + timedelta(minutes=70))}
        assert late["first_response"]["state"] == "breached"
        assert late["first_response"]["remaining_seconds"] == -10 * 60


def test_sla_and_mail_events_read_as_sentences_in_the_log(acme, policy):
    from tickets.templatetags.ticket_ui import event_line

    start = timezone.now().replace(microsecond=0) - timedelta(hours=3)
    ticket = acme.ticket(created_at=start)
    with tenant_context(acme.tenant):
        sla.sla_sweep()
        line = event_line(events(ticket, EventKind.SLA_BREACHED)[0])
        assert line["actor"] == "System"
        assert line["text"].startswith("first response breached (was due ")
        gold = business_hours.sla_policy_create(actor=acme.admin, name="Gold", targets={})
        sla.sla_apply(ticket=ticket, policy_id=gold.pk, actor=acme.admin)
        applied = event_line(events(ticket, EventKind.SLA_APPLIED)[0])
        assert applied == {"actor": "Acme Owner", "text": "set the SLA to Gold (was Standard)"}


def test_the_beat_sweep_runs_for_every_tenant(acme, globex, policy):
    from django.conf import settings
    from django.core.management import call_command

    assert {"task": "tickets.tasks.sla_sweep", "schedule": settings.SLA_SWEEP_SECONDS} in (
        settings.CELERY_BEAT_SCHEDULE.values())
    with tenant_context(globex.tenant):
        theirs = business_hours.sla_policy_create(actor=globex.admin, name="Theirs", is_default=True,
                                                  targets={"medium": {"first_response": 5}})
    old = timezone.now() - timedelta(hours=2)
    ours, their_ticket = acme.ticket(created_at=old), globex.ticket(created_at=old, department=None)
    call_command("sla_sweep", "--once")
    call_command("sla_sweep", "--once")
    with tenant_context(acme.tenant):
        assert [e.data["target"] for e in events(ours, EventKind.SLA_BREACHED)] == ["first_response"]
    with tenant_context(globex.tenant):
        assert fresh(their_ticket).sla_policy_id == theirs.pk
        assert [e.data["target"] for e in events(their_ticket, EventKind.SLA_BREACHED)] == ["first_response"]


def test_a_transfer_moves_a_department_policy_but_keeps_a_customer_groups(acme, policy):
    from departments import services as department_services

    with tenant_context(acme.tenant):
        fast = business_hours.sla_policy_create(actor=acme.admin, name="Fast",
                                                targets={"medium": {"first_response": 10}})
        vip = business_hours.sla_policy_create(actor=acme.admin, name="VIP", customer_domains=["vip.com"],
                                               targets={"medium": {"first_response": 5}})
        billing = department_services.department_create(actor=acme.admin, name="Billing", sla_policy=fast)
    start = timezone.now().replace(microsecond=0) - timedelta(minutes=2)
    ordinary = acme.ticket(created_at=start)
    important = acme.ticket(created_at=start, contact=ContactData(email="boss@vip.com"))
    with tenant_context(acme.tenant):
        services.ticket_update(actor=acme.admin, ticket=ordinary, department=billing)
        services.ticket_update(actor=acme.admin, ticket=important, department=billing)
        moved = fresh(ordinary)
        assert moved.sla_policy_id == fast.pk
        # 2 of the old 60 minutes were used; the new terms give 10, so 8 are left.
        assert moved.first_response_due_at == start + timedelta(minutes=10)
        assert [e.data["policy"] for e in events(moved, EventKind.SLA_APPLIED)] == [["Standard", "Fast"]]
        kept = fresh(important)
        assert kept.sla_policy_id == vip.pk and not events(kept, EventKind.SLA_APPLIED)
