"""Keeping the report rollups: summed incrementally from the system log, idempotent and replayable.

A run recomputes whole buckets from the log (delete, then insert the sums of their facts), never adds to a
stored sum, so running it twice, or over a range already rolled up, changes nothing. What it recomputes:

- the hours from the watermark up to ``now - LAG`` (events are written with their own moment inside short
  transactions, so an hour is complete once LAG has passed since its end);
- hours before the watermark into which an event arrived late (an import with an old time, or a transaction
  that committed out of id order): found by re-reading the log above an id that is safe (see RollupState);
- hours marked dirty by a rating given or changed;
- hours of the resolutions and replies of tickets whose SLA episode may have changed since (see facts.py);
- the days in the tenant's time zone that these hours complete or touch.

Everything after the watermark, and every dirty hour, is read from the log by reports, so figures are current.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import Max
from django.utils import timezone

from helpdesk.tenancy import require_active_tenant
from reports.facts import facts_sql, intersect_ranges, jit_off, merge_ranges, ranges_predicate
from reports.models import DAY_GRAINS, METRICS, DirtyHour, Grain, ReportRollup, RollupState
from tickets.models import TicketEvent

LAG = timedelta(minutes=5)
HOUR = timedelta(hours=1)
# A run catching up on a long history stops after this much, so one beat never holds a transaction for long;
# the next run continues, and reports read the rest from the log meanwhile.
MAX_HOURS_PER_RUN = 31 * 24

_SUMS = ", ".join(f"SUM({m})" for m in METRICS)
# (dimension, its column, the column's value in a grain without it)
_DIMENSIONS = (("department", "department_id", "0"), ("agent", "agent_id", "0"), ("channel", "channel", "''"))
_INSERT_COLUMNS = "tenant_id, grain, bucket, department_id, agent_id, channel, " + ", ".join(METRICS)


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def local_midnight(moment: datetime, tz: zoneinfo.ZoneInfo) -> datetime:
    """The start, as an aware UTC moment, of the day in ``tz`` that ``moment`` falls in."""
    local = moment.astimezone(tz)
    return datetime(local.year, local.month, local.day, tzinfo=tz).astimezone(UTC)


def next_midnight(midnight: datetime, tz: zoneinfo.ZoneInfo) -> datetime:
    local = midnight.astimezone(tz)
    following = (datetime(local.year, local.month, local.day) + timedelta(days=1)).replace(tzinfo=tz)
    return following.astimezone(UTC)


def tenant_zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _delete(tenant_id: int, grains: tuple[int, ...], ranges: list[tuple[datetime, datetime]]) -> None:
    when, params = ranges_predicate("bucket", ranges)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM reports_reportrollup WHERE tenant_id = %s AND grain = ANY(%s) AND ({when})",
            [tenant_id, list(grains), *params],
        )


def recompute_hours(*, tenant_id: int, ranges: list[tuple[datetime, datetime]]) -> None:
    """Replace the hourly rollup of whole UTC hours ``ranges`` with the sums of their facts."""
    ranges = merge_ranges(ranges)
    if not ranges:
        return
    _delete(tenant_id, (Grain.HOUR,), ranges)
    facts, params = facts_sql(tenant_id=tenant_id, ranges=ranges)
    with connection.cursor() as cursor:
        jit_off(cursor)
        cursor.execute(
            f"""INSERT INTO reports_reportrollup ({_INSERT_COLUMNS})
            SELECT %s, %s, date_trunc('hour', f.at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', f.department_id,
                   f.agent_id, f.channel, {_SUMS}
            FROM ({facts}) f GROUP BY 3, 4, 5, 6""",
            [tenant_id, Grain.HOUR, *params],
        )


def recompute_days(*, tenant_id: int, ranges: list[tuple[datetime, datetime]], time_zone: str) -> None:
    """Replace every daily rollup of the whole days (in ``time_zone``) ``ranges`` with their facts' sums.

    Days are summed from the log rather than from hours so that zones with :30 or :45 offsets work too; the
    coarser daily grains from the finer ones (``DAY_GRAINS``).
    """
    ranges = merge_ranges(ranges)
    if not ranges:
        return
    _delete(tenant_id, tuple(DAY_GRAINS), ranges)
    facts, params = facts_sql(tenant_id=tenant_id, ranges=ranges)
    when, when_params = ranges_predicate("bucket", ranges)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO reports_reportrollup ({_INSERT_COLUMNS})
            SELECT %s, %s, date_trunc('day', f.at AT TIME ZONE %s) AT TIME ZONE %s, f.department_id, f.agent_id,
                   f.channel, {_SUMS}
            FROM ({facts}) f GROUP BY 3, 4, 5, 6""",
            [tenant_id, Grain.DAY, time_zone, time_zone, *params],
        )
        for grain, (kept, source) in DAY_GRAINS.items():
            if source is None:
                continue
            columns = [c if name in kept else blank for name, c, blank in _DIMENSIONS]
            group_by = ", ".join(c for name, c, _ in _DIMENSIONS if name in kept)
            cursor.execute(
                f"""INSERT INTO reports_reportrollup ({_INSERT_COLUMNS})
                SELECT tenant_id, %s, bucket, {", ".join(columns)}, {_SUMS}
                FROM reports_reportrollup WHERE tenant_id = %s AND grain = %s AND ({when})
                GROUP BY tenant_id, bucket, {group_by}""",
                [grain, tenant_id, source, *when_params],
            )


def _days_covering(hours: list[datetime], tz: zoneinfo.ZoneInfo) -> list[tuple[datetime, datetime]]:
    days = {local_midnight(h, tz) for h in hours}
    return merge_ranges([(d, next_midnight(d, tz)) for d in days])


def _state_locked(tenant_id: int) -> RollupState:
    RollupState.objects.bulk_create([RollupState(tenant_id=tenant_id)], ignore_conflicts=True)
    # One run per tenant at a time: a second beat (or the rebuild command) waits here rather than both
    # replacing the same buckets.
    return RollupState.objects.select_for_update().get()


def _earliest_fact(tenant_id: int) -> datetime | None:
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT LEAST(
                 (SELECT min(created_at) FROM tickets_ticketevent WHERE tenant_id = %s),
                 (SELECT min(created_at) FROM reports_rating WHERE tenant_id = %s))""",
            [tenant_id, tenant_id],
        )
        return cursor.fetchone()[0]


def rollup_run(*, now: datetime | None = None, max_hours: int = MAX_HOURS_PER_RUN) -> dict[str, int]:
    """Bring the active tenant's rollups up to date (or ``max_hours`` closer). Returns what it recomputed."""
    tenant = require_active_tenant()
    now = now or timezone.now()
    state = _state_locked(tenant.pk)
    tz_name = tenant.time_zone
    tz = tenant_zone(tz_name)
    if state.time_zone != tz_name:
        # Days were cut in another zone: start them again from the first hour the rollup holds.
        ReportRollup.objects.exclude(grain=Grain.HOUR).delete()
        state.time_zone = tz_name
        state.days_until = None
    target = floor_hour(now - LAG)
    if state.rolled_until is None:
        earliest = _earliest_fact(tenant.pk)
        state.rolled_until = floor_hour(earliest) if earliest else target
        state.days_until = None
        # Everything in the log now is rolled up from scratch below; only later events need scanning.
        state.scan_from_id = TicketEvent.objects.aggregate(m=Max("id"))["m"] or 0
    if state.days_until is None:
        earliest = _earliest_fact(tenant.pk)
        state.days_until = local_midnight(min(earliest, state.rolled_until) if earliest else state.rolled_until, tz)
        # The first day may start before the first hour: recompute its hours too, so the day is complete.
        state.rolled_until = min(state.rolled_until, floor_hour(state.days_until))

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT max(id), array_agg(DISTINCT date_trunc('hour', created_at AT TIME ZONE 'UTC'))
                 FILTER (WHERE created_at < %s)
               FROM tickets_ticketevent WHERE tenant_id = %s AND id > %s""",
            [state.rolled_until, tenant.pk, state.scan_from_id],
        )
        max_id, late = cursor.fetchone()
        # The SLA figures read the ticket's SLA columns, which describe its current episode: a ticket resolved
        # or reopened again, or put under other terms, changes the figures of its earlier resolutions and
        # replies without a new event in their hours.
        cursor.execute(
            """SELECT array_agg(DISTINCT date_trunc('hour', r.created_at AT TIME ZONE 'UTC'))
               FROM tickets_ticketevent r
               WHERE r.tenant_id = %s AND r.kind IN ('status_changed', 'agent_reply') AND r.created_at < %s
                 AND r.ticket_id IN (SELECT n.ticket_id FROM tickets_ticketevent n WHERE n.tenant_id = %s
                   AND n.id > %s AND n.kind IN ('status_changed', 'customer_message', 'sla_applied'))""",
            [tenant.pk, state.rolled_until, tenant.pk, state.scan_from_id],
        )
        (sla_touched,) = cursor.fetchone()
    late_hours = [h.replace(tzinfo=UTC) for h in (late or []) + (sla_touched or [])]
    dirty = list(DirtyHour.objects.values_list("id", "hour"))
    dirty_hours = [floor_hour(h) for _, h in dirty if h < state.rolled_until]

    old_until = state.rolled_until
    new_until = max(old_until, min(target, old_until + timedelta(hours=max_hours)))
    stale = sorted(set(late_hours) | set(dirty_hours))
    recompute_hours(tenant_id=tenant.pk, ranges=[(old_until, new_until)] + [(h, h + HOUR) for h in stale])

    # Days catch up at the same pace as hours (after a change of zone they start again from the first fact).
    new_days_until = max(state.days_until, min(local_midnight(new_until, tz),
                                                local_midnight(state.days_until + timedelta(hours=max_hours), tz)))
    stale_days = intersect_ranges(_days_covering(stale, tz), state.rolled_until - timedelta(days=366 * 100),
                                  state.days_until)
    recompute_days(tenant_id=tenant.pk, time_zone=tz_name,
                   ranges=[(state.days_until, new_days_until), *stale_days])

    DirtyHour.objects.filter(pk__in=[pk for pk, _ in dirty]).delete()
    done = {"hours": int((new_until - old_until) / HOUR), "late_hours": len(stale),
            "days": max(0, (new_days_until - state.days_until).days)}
    state.rolled_until = new_until
    state.days_until = new_days_until
    # An event invisible to this run (its transaction still open) has an id above the largest id seen by a
    # run from before it began; runs older than 2 x LAG predate any such transaction.
    recent = [entry for entry in state.recent_max_ids if datetime.fromisoformat(entry[0]) > now - 3 * LAG]
    older = [entry for entry in state.recent_max_ids if datetime.fromisoformat(entry[0]) <= now - 2 * LAG]
    if older:
        state.scan_from_id = max(state.scan_from_id, max(entry[1] for entry in older))
    state.recent_max_ids = [*recent, [now.isoformat(), max_id if max_id is not None else state.scan_from_id]]
    state.updated_at = now
    state.save()
    return done


def rollup_reset() -> None:
    """Forget the active tenant's rollups; the following runs roll the whole log up again."""
    # Under the state's lock, so a beat running meanwhile does not write what is being removed.
    _state_locked(require_active_tenant().pk)
    ReportRollup.objects.all().delete()
    DirtyHour.objects.all().delete()
    RollupState.objects.all().delete()


def rollup_rebuild(*, start: datetime | None = None, end: datetime | None = None) -> bool:
    """Recompute the active tenant's rollups of the whole hours and days between ``start`` and ``end`` that
    are rolled up already. Returns False when nothing is rolled up yet."""
    tenant = require_active_tenant()
    state = _state_locked(tenant.pk)
    if state.rolled_until is None or state.days_until is None:
        return False
    tz = tenant_zone(state.time_zone)
    start = floor_hour(start) if start else state.rolled_until - timedelta(days=366 * 10)
    end = min(end or state.rolled_until, state.rolled_until)
    recompute_hours(tenant_id=tenant.pk, ranges=[(start, end)])
    day_start = local_midnight(start, tz)
    day_end = min(next_midnight(local_midnight(end, tz), tz), state.days_until)
    recompute_days(tenant_id=tenant.pk, time_zone=state.time_zone, ranges=[(day_start, day_end)])
    return True


def hours_mark_dirty(*, hours: list[datetime]) -> None:
    """Figures of these hours changed without a new event (a rating): reports read them from the log, and the
    next run recomputes them."""
    tenant = require_active_tenant()
    DirtyHour.objects.bulk_create(
        [DirtyHour(tenant=tenant, hour=floor_hour(h)) for h in set(hours)], ignore_conflicts=True,
    )
