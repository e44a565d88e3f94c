"""Rollups: where a report reads from, idempotent runs, late events, dirty hours, rebuilds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from helpdesk.tenancy import tenant_context
from reports import rollups
from reports.models import DirtyHour, Grain, ReportRollup, RollupState
from reports.selectors import report_plan, report_query_parse, report_rows
from tests.reports.activity import COUNTS, generate, reference_facts, reference_report
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(acme):
    acme.tenant.time_zone = "Europe/Prague"
    acme.tenant.save(update_fields=["time_zone"])
    generate(acme, seed=7, tickets=40, days=20)
    with tenant_context(acme.tenant):
        rollups.rollup_run()
    return acme


def _rows(world, **params) -> dict:
    with tenant_context(world.tenant):
        query = report_query_parse(actor=world.admin, params=params)
        return {(r["period_start"], r["group_id"]): {c: r[c] for c in r if c not in
                                                     ("period_start", "group_type", "group_id", "group_label")}
                for r in report_rows(query=query) if any(r[c] for c in COUNTS)}


def _expected(world, tz="Europe/Prague", interval="day", group_by="department"):
    today = timezone.now().astimezone(__import__("zoneinfo").ZoneInfo(tz)).date()
    return reference_report(reference_facts(world.tenant.pk), tenant_id=world.tenant.pk,
                            date_from=today - timedelta(days=30), date_to=today, tz_name=tz,
                            interval=interval, group_by=group_by)


def _params(tz="Europe/Prague", interval="day", group_by="department"):
    today = timezone.now().astimezone(__import__("zoneinfo").ZoneInfo(tz)).date()
    return {"date_from": (today - timedelta(days=30)).isoformat(), "date_to": today.isoformat(), "tz": tz,
            "interval": interval, "group_by": group_by}


def _rollup_snapshot() -> list[tuple]:
    return sorted(ReportRollup.objects.values_list(
        "grain", "bucket", "department_id", "agent_id", "channel", "tickets_created", "answers", "response_ms",
        "not_rated", "ratings_positive", "sla_first_response_count", "sla_first_response_met", "sla_resolution_count",
        "sla_resolution_met"))


def test_reports_read_days_in_the_tenant_zone_hours_in_other_whole_hour_zones_and_the_log_otherwise(world):
    with tenant_context(world.tenant):
        own = report_plan(report_query_parse(actor=world.admin, params=_params()))
        other = report_plan(report_query_parse(actor=world.admin, params=_params(tz="America/New_York")))
        half = report_plan(report_query_parse(actor=world.admin, params=_params(tz="Asia/Kolkata")))
        tagged = report_plan(report_query_parse(actor=world.admin, params={**_params(), "group_by": "tag"}))
        state = RollupState.objects.get()
    assert own.day_ranges and own.day_grain == Grain.DAY_DEPARTMENT_ONLY
    with tenant_context(world.tenant):
        def grain(actor=world.admin, **params):
            return report_plan(report_query_parse(actor=actor, params={**_params(), **params})).day_grain

        assert (grain(group_by="channel"), grain(group_by="agent")) == (Grain.DAY_CHANNEL_ONLY, Grain.DAY_AGENT_ONLY)
        assert grain(group_by="agent", channel="chat") == Grain.DAY
        assert grain(group_by="channel", department=world.department.pk) == Grain.DAY_DEPARTMENT
        assert grain(group_by="department", agent=world.agents[0].pk) == Grain.DAY_AGENT
        # An agent sees only their departments' figures: their reports keep the department.
        assert grain(actor=world.actor_of(world.agents[0]), group_by="agent") == Grain.DAY_AGENT
    assert own.raw_ranges[-1][1] > state.rolled_until  # the tail after the watermark comes from the log
    assert other.hour_ranges and not other.day_ranges
    assert not half.day_ranges and not half.hour_ranges
    assert not tagged.day_ranges and not tagged.hour_ranges


def test_a_second_run_and_a_rebuild_change_nothing(world):
    with tenant_context(world.tenant):
        before = _rollup_snapshot()
        assert before
        rollups.rollup_run()
        assert _rollup_snapshot() == before
        assert rollups.rollup_rebuild(start=timezone.now() - timedelta(days=40), end=timezone.now())
        assert _rollup_snapshot() == before


def test_rebuild_command_from_scratch_gives_the_same_rollups(world):
    with tenant_context(world.tenant):
        before = _rollup_snapshot()
    call_command("rebuild_report_rollups", tenant=world.tenant.slug)
    with tenant_context(world.tenant):
        assert _rollup_snapshot() == before
    today = timezone.now().date()
    call_command("rebuild_report_rollups", tenant=world.tenant.slug, date_from=today - timedelta(days=3),
                 date_to=today)
    with tenant_context(world.tenant):
        assert _rollup_snapshot() == before


def test_an_event_arriving_late_into_a_rolled_up_hour_is_counted_after_the_next_run(world):
    with tenant_context(world.tenant):
        ticket = Ticket.objects.order_by("id").first()
        old = timezone.now() - timedelta(days=5, hours=3)
        TicketEvent.objects.create(ticket=ticket, kind="agent_reply", channel=ticket.channel, created_at=old,
                                   department_id_at_event=ticket.department_id, actor_type="agent",
                                   actor_id=world.agents[0].pk, data={})
        done = rollups.rollup_run()
    assert done["late_hours"] == 1
    assert _rows(world) == _expected(world)
    assert _rows(world, **{**_params(tz="America/New_York")}) == _expected(world, tz="America/New_York")


def test_a_changed_tenant_zone_cuts_days_again(world):
    world.tenant.time_zone = "America/New_York"
    world.tenant.save(update_fields=["time_zone"])
    with tenant_context(world.tenant):
        rollups.rollup_run()
        assert RollupState.objects.get().time_zone == "America/New_York"
        plan = report_plan(report_query_parse(actor=world.admin, params=_params(tz="America/New_York")))
    assert plan.day_ranges
    assert _rows(world, **_params(tz="America/New_York")) == _expected(world, tz="America/New_York")


def test_a_dirty_hour_is_read_from_the_log_until_the_next_run(world):
    with tenant_context(world.tenant):
        ticket = Ticket.objects.order_by("id").first()
        old = timezone.now() - timedelta(days=4)
        # What a rating does: an hour's figures change without a new event.
        TicketEvent.objects.create(ticket=ticket, kind="customer_message", channel=ticket.channel,
                                   created_at=old, department_id_at_event=ticket.department_id,
                                   actor_type="customer", data={})
        rollups.hours_mark_dirty(hours=[old])
    # By department, the daily rollup's rows are the report's own rows; by agent and channel they are added up
    # apart from the dirty day and the tail: each way, the days read from the log must fit in between.
    for group_by in ("department", "agent", "channel"):
        assert _rows(world, **_params(group_by=group_by)) == _expected(world, group_by=group_by)
    with tenant_context(world.tenant):
        rollups.rollup_run()
        assert not DirtyHour.objects.exists()
    assert _rows(world) == _expected(world)


def _hourly_sla_resolutions() -> int:
    return ReportRollup.objects.filter(grain=Grain.HOUR).aggregate(n=Sum("sla_resolution_count"))["n"]


def test_reopening_a_ticket_takes_its_earlier_resolution_out_of_the_rolled_up_sla_figures(world):
    with tenant_context(world.tenant):
        ticket = Ticket.objects.filter(status="resolved", resolution_due_at__isnull=False).first()
        resolution = TicketEvent.objects.filter(ticket=ticket, kind="status_changed").order_by("-id").first()
        assert resolution.created_at < timezone.now() - timedelta(hours=2)  # its hour is rolled up
        before = _hourly_sla_resolutions()
        # Reopened now, as the ticket service would: a new episode on the ticket row, an event in the log.
        Ticket.objects.filter(pk=ticket.pk).update(
            status="open", resolution_due_at=timezone.now() + timedelta(hours=8), resolution_breached_at=None)
        TicketEvent.objects.create(ticket=ticket, kind="status_changed", data={"status": ["resolved", "open"]},
                                   channel=ticket.channel, department_id_at_event=ticket.department_id,
                                   actor_type="system")
        rollups.rollup_run(now=timezone.now() + timedelta(minutes=1))
        after = _hourly_sla_resolutions()
    assert after == before - 1
    assert _rows(world) == _expected(world)
