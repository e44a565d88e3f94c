"""Department reports: parse a report's parameters, plan where each stretch of time is read from, run one query.

A report covers whole days in its time zone. Each stretch of that range is read from the cheapest exact
source: the daily rollup (days in the tenant's own zone), the hourly rollup (any zone whose offset is a whole
number of hours), or the facts of the log itself (the tail after the watermark, dirty hours, other zones,
and anything involving tags). The sources are added up in one SQL statement, which also sorts, so the API,
the CSV export (streamed from a server-side cursor) and the page read the very same rows.
"""

from __future__ import annotations

import json
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from django.db import connection
from django.utils import timezone

from departments.models import AgentProfile, Department
from helpdesk.errors import ApplicationError, NotFound
from helpdesk.principals import Actor
from reports.facts import facts_sql, intersect_ranges, jit_off, merge_ranges, ranges_predicate, subtract_ranges
from reports.models import DAY_GRAINS, METRICS, DirtyHour, Grain, RollupState
from reports.rollups import HOUR, floor_hour, local_midnight, next_midnight, tenant_zone
from tickets.models import Channel, Tag

INTERVALS = ("day", "week", "month", "year", "range")
GROUPINGS = ("department", "agent", "channel", "tag")
MAX_DAYS = 3 * 366

COUNT_COLUMNS = (
    "tickets_created", "tickets_resolved", "answers", "incoming_messages", "chats", "incoming_chats",
    "finished_chats", "missed_chats", "chat_messages", "calls", "incoming_calls", "finished_calls",
    "missed_calls", "ratings_positive", "ratings_negative", "not_rated",
)
# The public contract: keys in JSON and headers in CSV, in this order.
COLUMNS = (
    "tickets_created", "tickets_resolved", "answers", "avg_first_response_s", "avg_response_s",
    "incoming_messages", "chats", "incoming_chats", "finished_chats", "missed_chats", "chat_messages",
    "avg_chat_pickup_s", "avg_chat_duration_s", "calls", "incoming_calls", "finished_calls", "missed_calls",
    "call_minutes", "ratings_positive", "ratings_positive_pct", "ratings_negative", "ratings_negative_pct",
    "not_rated", "not_rated_pct", "sla_first_response_met_pct", "sla_resolution_met_pct",
)
ROW_KEYS = ("period_start", "group_type", "group_id", "group_label", *COLUMNS)
SECONDS_COLUMNS = ("avg_first_response_s", "avg_response_s", "avg_chat_pickup_s", "avg_chat_duration_s")
ORDERINGS = ("period_start", "group_label", *COLUMNS)

# Milliseconds and seconds (bigint columns) are summed as float8: several times faster than the numeric
# PostgreSQL sums bigints into, and exact while a sum stays below 2**53 (285,000 years of milliseconds).
_SUMMED_AS_FLOAT = ("first_response_ms", "response_ms", "pickup_ms", "chat_duration_ms", "call_seconds")
_SUMS = ", ".join(f"sum(f.{m}::float8)::bigint AS {m}" if m in _SUMMED_AS_FLOAT else f"sum(f.{m}) AS {m}"
                  for m in METRICS)


def _rounded(numerator: str, denominator: str, places: int) -> str:
    """numerator / denominator / 10**places, rounded half away from zero to ``places`` decimals (as the docs
    and ``round(numeric)`` do), as float8; both are bigint expressions and the denominator is positive. Integer
    division keeps this exact without numeric arithmetic, and float8 division of the rounded integer by a power
    of ten gives the float8 nearest to the rounded decimal, which prints as that decimal."""
    n, d = f"({numerator})", f"({denominator})"
    return f"(CASE WHEN {n} >= 0 THEN (2 * {n} + {d}) / (2 * {d}) ELSE -((2 * -{n} + {d}) / (2 * {d})) END)::float8 " \
           f"/ {10 ** places}"


def _average_s(ms: str, count: str) -> str:
    return f"CASE WHEN {count} > 0 THEN {_rounded(ms, f'{count} * 100', 1)} END"


def _percent(part: str, whole: str) -> str:
    return f"CASE WHEN {whole} > 0 THEN {_rounded(f'1000 * {part}', whole, 1)} END"


_RATED = "(ratings_positive + ratings_negative + not_rated)"
# Each computed column from the summed metrics of its row (``_SUMS``).
_COMPUTED = {
    "avg_first_response_s": _average_s("first_response_ms", "first_response_count"),
    "avg_response_s": _average_s("response_ms", "response_count"),
    "avg_chat_pickup_s": _average_s("pickup_ms", "pickup_count"),
    "avg_chat_duration_s": _average_s("chat_duration_ms", "chat_duration_count"),
    "call_minutes": _rounded("100 * call_seconds", "60", 2),
    "ratings_positive_pct": _percent("ratings_positive", _RATED),
    "ratings_negative_pct": _percent("ratings_negative", _RATED),
    "not_rated_pct": _percent("not_rated", _RATED),
    "sla_first_response_met_pct": _percent("sla_first_response_met", "sla_first_response_count"),
    "sla_resolution_met_pct": _percent("sla_resolution_met", "sla_resolution_count"),
}
NO_GROUP_LABELS = {"department": "No department", "agent": "Unassigned", "tag": "No tags"}


@dataclass(frozen=True)
class ReportQuery:
    tenant_id: int
    date_from: date
    date_to: date
    interval: str
    group_by: str
    time_zone: str
    departments: tuple[int, ...] = ()
    agents: tuple[int, ...] = ()
    channels: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    ordering: str = "period_start"
    columns: tuple[str, ...] = COLUMNS
    # Set for agents: the departments whose figures they may see.
    visible_departments: tuple[int, ...] | None = field(default=None)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def start(self) -> datetime:
        return _midnight(self.date_from, self.zone)

    @property
    def end(self) -> datetime:
        return _midnight(self.date_to + timedelta(days=1), self.zone)

    def as_params(self) -> dict[str, str]:
        """The query string that asks for this report again (links to the CSV, the API, drill-downs)."""
        params = {
            "date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat(),
            "interval": self.interval, "group_by": self.group_by, "tz": self.time_zone,
        }
        for name, values in (("department", self.departments), ("agent", self.agents),
                             ("channel", self.channels), ("tag", self.tags)):
            if values:
                params[name] = ",".join("none" if v == 0 else str(v) for v in values)
        if self.ordering != "period_start":
            params["ordering"] = self.ordering
        return params


def _midnight(day: date, tz: zoneinfo.ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)


def _values(params: Mapping[str, Any], name: str) -> list[str]:
    getlist = getattr(params, "getlist", None)
    raw = getlist(name) if getlist else ([params[name]] if name in params else [])
    values = []
    for item in raw:
        if isinstance(item, (list, tuple)):
            values += [str(v) for v in item]
        else:
            values += [v for v in str(item).split(",")]
    return [v.strip() for v in values if v.strip()]


def _ids(params: Mapping[str, Any], name: str, errors: dict[str, list[str]]) -> tuple[int, ...]:
    ids = []
    for value in _values(params, name):
        if value == "none":
            ids.append(0)
        elif value.isdigit() and 0 < int(value) < 2**63:
            ids.append(int(value))
        else:
            errors.setdefault(name, []).append(f"{value!r} is not an id or `none`.")
    return tuple(sorted(set(ids)))


def _date(params: Mapping[str, Any], name: str, default: date, errors: dict[str, list[str]]) -> date:
    value = (_values(params, name) or [None])[0]
    if value is None:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.setdefault(name, []).append("Give a date as YYYY-MM-DD.")
        return default


def _single(params: Mapping[str, Any], name: str, default: str) -> str:
    values = _values(params, name)
    return values[0] if values else default


class ReportsUnavailable(ApplicationError):
    """Reports are computed by PostgreSQL; the embedded SQLite default of `make run` has no reports."""

    status_code = 503
    code = "unavailable"


def report_query_parse(*, actor: Actor, params: Mapping[str, Any]) -> ReportQuery:
    """Validate a report's parameters; a bad one raises ApplicationError naming it (HTTP 400), a department or
    agent the actor may not see raises NotFound (404), like one that does not exist."""
    if connection.vendor != "postgresql":
        raise ReportsUnavailable("Reports are computed by PostgreSQL: run the help desk with DATABASE_URL set "
                                 "to see them (the embedded SQLite demo has none).")
    errors: dict[str, list[str]] = {}
    tenant = actor.tenant
    tz_name = _single(params, "tz", tenant.time_zone)
    try:
        tz = zoneinfo.ZoneInfo(tz_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        errors["tz"] = [f"Unknown time zone {tz_name!r}: give an IANA name such as Europe/Prague."]
        tz = tenant_zone(tenant.time_zone)
    today = timezone.now().astimezone(tz).date()
    date_to = _date(params, "date_to", today, errors)
    date_from = _date(params, "date_from", date_to - timedelta(days=29), errors)
    if "date_from" not in errors and "date_to" not in errors:
        if date_from > date_to:
            errors["date_to"] = ["Must not be before date_from."]
        elif (date_to - date_from).days >= MAX_DAYS:
            errors["date_to"] = [f"A report covers at most {MAX_DAYS} days."]
        elif date_from.year < 2000 or date_to.year > 2999:
            errors["date_from"] = ["Choose dates between 2000 and 2999."]
    interval = _single(params, "interval", "day")
    if interval not in INTERVALS:
        errors["interval"] = [f"Choose one of {', '.join(INTERVALS)}."]
    group_by = _single(params, "group_by", "department")
    if group_by not in GROUPINGS:
        errors["group_by"] = [f"Choose one of {', '.join(GROUPINGS)}."]
    departments = _ids(params, "department", errors)
    agents = _ids(params, "agent", errors)
    channels = tuple(sorted(set(_values(params, "channel"))))
    unknown = [c for c in channels if c not in Channel.values]
    if unknown:
        errors["channel"] = [f"Unknown channel {unknown[0]!r}: choose from {', '.join(Channel.values)}."]
    tags = tuple(sorted({t.lower() for t in _values(params, "tag")}))
    ordering = _single(params, "ordering", "period_start")
    if ordering.lstrip("-") not in ORDERINGS:
        errors["ordering"] = [f"Order by one of {', '.join(ORDERINGS)}, with - for descending."]
    columns = tuple(c for c in COLUMNS if c in set(_values(params, "columns"))) or COLUMNS
    unknown_columns = [c for c in _values(params, "columns") if c not in COLUMNS]
    if unknown_columns:
        errors["columns"] = [f"Unknown column {unknown_columns[0]!r}."]
    if errors:
        raise ApplicationError("The report's parameters are not valid.", fields=errors)

    visible: tuple[int, ...] | None = None
    if not actor.is_admin:
        agent = actor.agent
        visible = tuple(sorted(agent.department_memberships.values_list("department_id", flat=True))) if agent else ()
    wanted = [d for d in departments if d]
    found = set(Department.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    if set(wanted) - found or (visible is not None and set(departments) - set(visible)):
        raise NotFound("No such department.")
    wanted_agents = [a for a in agents if a]
    if AgentProfile.objects.filter(pk__in=wanted_agents).count() != len(wanted_agents):
        raise NotFound("No such agent.")
    return ReportQuery(
        tenant_id=tenant.pk, date_from=date_from, date_to=date_to, interval=interval, group_by=group_by,
        time_zone=tz_name, departments=departments, agents=agents, channels=channels, tags=tags,
        ordering=ordering, columns=columns, visible_departments=visible,
    )


# --- planning ---------------------------------------------------------------------------------------------

@dataclass
class Plan:
    day_grain: int = Grain.DAY
    day_ranges: list[tuple[datetime, datetime]] = field(default_factory=list)
    hour_ranges: list[tuple[datetime, datetime]] = field(default_factory=list)
    raw_ranges: list[tuple[datetime, datetime]] = field(default_factory=list)


def _whole_hour_offsets(tz: zoneinfo.ZoneInfo, start: datetime, end: datetime) -> bool:
    moment = start
    while moment <= end:
        offset = moment.astimezone(tz).utcoffset()
        if offset is None or offset.total_seconds() % 3600:
            return False
        moment += timedelta(hours=12)
    return True


def _day_grain(query: ReportQuery) -> int:
    """The coarsest daily rollup that still holds every dimension the report groups or filters by."""
    needed = {query.group_by} & {"department", "agent", "channel"}
    if query.departments or query.visible_departments is not None:
        needed.add("department")
    if query.agents:
        needed.add("agent")
    if query.channels:
        needed.add("channel")
    return min((grain for grain, (kept, _) in DAY_GRAINS.items() if needed <= kept),
               key=lambda grain: len(DAY_GRAINS[grain][0]))


def report_plan(query: ReportQuery) -> Plan:
    """Where each stretch of the report's range is read from; together the stretches cover it exactly once."""
    start, end = query.start, query.end
    plan = Plan(day_grain=_day_grain(query))
    state = RollupState.objects.filter(rolled_until__isnull=False).first()
    if state is None or query.tags or query.group_by == "tag":
        plan.raw_ranges = [(start, end)]
        return plan
    rolled = min(end, state.rolled_until)
    dirty = [(h, h + HOUR) for h in DirtyHour.objects.filter(hour__gte=start - HOUR, hour__lt=end)
             .values_list("hour", flat=True)]
    covered_by_days: list[tuple[datetime, datetime]] = []
    if query.time_zone == state.time_zone and state.days_until:
        days_end = max(start, min(end, state.days_until))
        zone = query.zone
        dirty_days = merge_ranges([(local_midnight(h, zone), next_midnight(local_midnight(h, zone), zone))
                                   for h, _ in dirty])
        covered_by_days = [(start, days_end)] if start < days_end else []
        plan.day_ranges = subtract_ranges(covered_by_days, dirty_days)
        plan.raw_ranges += intersect_ranges(dirty_days, start, days_end)
    after_days = covered_by_days[0][1] if covered_by_days else start
    if after_days < rolled:
        if _whole_hour_offsets(query.zone, after_days, rolled) and after_days == floor_hour(after_days):
            plan.hour_ranges = subtract_ranges([(after_days, rolled)], dirty)
            plan.raw_ranges += intersect_ranges(dirty, after_days, rolled)
        else:
            plan.raw_ranges.append((after_days, rolled))
    plan.raw_ranges.append((max(start, rolled), end))
    plan.raw_ranges = merge_ranges(plan.raw_ranges)
    return plan


# --- the query --------------------------------------------------------------------------------------------

def _rollup_part(tenant_id: int, grain: int, ranges: list[tuple[datetime, datetime]]) -> tuple[str, list]:
    when, params = ranges_predicate("bucket", ranges)
    return (f"SELECT bucket AS at, department_id, agent_id, channel, NULL::bigint AS ticket_id, "
            f"{', '.join(METRICS)} FROM reports_reportrollup "
            f"WHERE tenant_id = %s AND grain = %s AND ({when})", [tenant_id, grain, *params])


def _raw_part(tenant_id: int, ranges: list[tuple[datetime, datetime]]) -> tuple[str, list]:
    facts, params = facts_sql(tenant_id=tenant_id, ranges=ranges)
    return (f"SELECT at, department_id, agent_id, channel, ticket_id, {', '.join(METRICS)} FROM ({facts}) raw",
            params)


def _filters(query: ReportQuery) -> tuple[str, list]:
    conditions, params = ["true"], []
    if query.departments:
        conditions.append("f.department_id = ANY(%s)")
        params.append(list(query.departments))
    if query.visible_departments is not None:
        conditions.append("f.department_id = ANY(%s)")
        params.append(list(query.visible_departments))
    if query.agents:
        conditions.append("f.agent_id = ANY(%s)")
        params.append(list(query.agents))
    if query.channels:
        conditions.append("f.channel = ANY(%s)")
        params.append(list(query.channels))
    if query.tags:
        conditions.append("""EXISTS (SELECT 1 FROM tickets_tickettag tt JOIN tickets_tag t ON t.id = tt.tag_id
            WHERE tt.tenant_id = %s AND tt.ticket_id = f.ticket_id AND t.name = ANY(%s))""")
        params += [query.tenant_id, list(query.tags)]
    return " AND ".join(conditions), params


def _days_apart(query: ReportQuery, plan: Plan) -> bool:
    """Whether the daily rollup's rows can be added up apart from the rest of the plan: in a report by day, a
    daily part (whole days of the report's zone) holds every fact of its rows' days, as the parts cover
    disjoint times. Grouped by their bucket, in the order the index reads them, they need no large sort."""
    return query.interval == "day" and bool(plan.day_ranges)


def _facts_union(query: ReportQuery, plan: Plan, *, with_days: bool = True) -> tuple[str, list]:
    parts, params = [], []
    if plan.day_ranges and with_days:
        sql, p = _rollup_part(query.tenant_id, plan.day_grain, plan.day_ranges)
        parts.append(sql)
        params += p
    if plan.hour_ranges:
        sql, p = _rollup_part(query.tenant_id, Grain.HOUR, plan.hour_ranges)
        parts.append(sql)
        params += p
    sql, p = _raw_part(query.tenant_id, plan.raw_ranges)
    parts.append(sql)
    params += p
    return "\nUNION ALL\n".join(parts), params


def _group(query: ReportQuery) -> tuple[str, str, list, str, str, list]:
    """(group key expression, extra join, its params, label join, label expression, its params)."""
    if query.group_by == "department":
        return ("f.department_id", "", [],
                "LEFT JOIN departments_department d ON d.tenant_id = %s AND d.id = g.group_key",
                "COALESCE(d.name, CASE WHEN g.group_key = 0 THEN %s ELSE 'Department #' || g.group_key END)",
                [query.tenant_id, NO_GROUP_LABELS["department"]])
    if query.group_by == "agent":
        return ("f.agent_id", "", [],
                "LEFT JOIN departments_agentprofile a ON a.tenant_id = %s AND a.id = g.group_key",
                "COALESCE(a.display_name, CASE WHEN g.group_key = 0 THEN %s ELSE 'Agent #' || g.group_key END)",
                [query.tenant_id, NO_GROUP_LABELS["agent"]])
    if query.group_by == "channel":
        cases = " ".join("WHEN %s THEN %s" for _ in Channel.choices)
        return ("f.channel", "", [], "", f"CASE g.group_key {cases} ELSE g.group_key END",
                [v for choice in Channel.choices for v in choice])
    # A ticket counts under each tag it has now (of the chosen tags, when tags are filtered); untagged, under none.
    join = "LEFT JOIN tickets_tickettag tt ON tt.tenant_id = %s AND tt.ticket_id = f.ticket_id"
    join_params: list = [query.tenant_id]
    if query.tags:
        join += " AND tt.tag_id IN (SELECT id FROM tickets_tag WHERE tenant_id = %s AND name = ANY(%s))"
        join_params += [query.tenant_id, list(query.tags)]
    return ("COALESCE(tt.tag_id, 0)", join, join_params,
            "LEFT JOIN tickets_tag t ON t.tenant_id = %s AND t.id = g.group_key",
            "COALESCE(t.name, CASE WHEN g.group_key = 0 THEN %s ELSE 'Tag #' || g.group_key END)",
            [query.tenant_id, NO_GROUP_LABELS["tag"]])


def _order(query: ReportQuery, prefix: str = "") -> str:
    descending = query.ordering.startswith("-")
    column = query.ordering.lstrip("-")
    return (f"{prefix}{column} {'DESC' if descending else 'ASC'} NULLS LAST, {prefix}period_start, "
            f"{prefix}group_label, {prefix}group_key")


def _period(query: ReportQuery, moment: str) -> tuple[str, list]:
    """The start of the report's bucket (local, naive) that the moment ``moment`` falls in."""
    if query.interval == "range":
        return "%s::timestamp", [datetime.combine(query.date_from, datetime.min.time())]
    return f"date_trunc('{query.interval}', {moment} AT TIME ZONE %s)", [query.time_zone]


def report_sql(query: ReportQuery, plan: Plan | None = None, *, ordered: bool = True) -> tuple[str, list]:
    """The report's statement; its columns are ROW_KEYS in order (``group_type`` a constant)."""
    plan = plan or report_plan(query)
    days_apart = _days_apart(query, plan)
    union, union_params = _facts_union(query, plan, with_days=not days_apart)
    key, join, join_params, label_join, label, label_params = _group(query)
    where, where_params = _filters(query)
    period, period_params = _period(query, "f.at")
    grouped = f"SELECT {period} AS period_start, {key} AS group_key, {_SUMS} FROM facts f {join} " \
              f"WHERE {where} GROUP BY 1, 2"
    grouped_params = [*period_params, *join_params, *where_params]
    if days_apart:
        period, period_params = _period(query, "f.bucket")
        when, when_params = ranges_predicate("f.bucket", plan.day_ranges)
        if DAY_GRAINS[plan.day_grain][0] == {query.group_by}:  # one row per day and group already
            days, group_by = ", ".join(f"f.{m}::bigint" for m in METRICS), ""
        else:
            days, group_by = _SUMS, f"GROUP BY f.bucket, {key}"
        grouped += f"""
  UNION ALL
  SELECT {period}, {key}, {days} FROM reports_reportrollup f
  WHERE f.tenant_id = %s AND f.grain = %s AND ({when}) AND {where} {group_by}"""
        grouped_params += [*period_params, query.tenant_id, plan.day_grain, *when_params, *where_params]
    values = ", ".join(f"{_COMPUTED[c]} AS {c}" if c in _COMPUTED else c for c in COLUMNS)
    order = _order(query)
    sql = f"""
WITH facts AS ({union}),
grouped AS (
  {grouped}
)
SELECT period_start, %s AS group_type, group_key, group_label, {values} FROM (
  SELECT g.*, {label} AS group_label FROM grouped g {label_join}
) r {f"ORDER BY {order}" if ordered else ""}"""
    label_select_params = label_params[1:] if label_join else label_params
    label_join_params = label_params[:1] if label_join else []
    params = [*union_params, *grouped_params, query.group_by, *label_select_params, *label_join_params]
    return sql, params


def _row(query: ReportQuery, values: tuple, periods: dict) -> dict[str, Any]:
    period = values[0]
    if period not in periods:
        periods[period] = period.replace(tzinfo=query.zone).isoformat()
    key = values[2]
    group_id = key if query.group_by == "channel" else (None if key == 0 else key)
    return dict(zip(ROW_KEYS, (periods[period], values[1], group_id, *values[3:]), strict=True))


def _periods(query: ReportQuery) -> tuple[list[datetime], list[str]]:
    """Every bucket start the report can have (local, naive) and how rows show it (ISO 8601 with offset)."""
    day = query.date_from
    if query.interval == "week":
        day -= timedelta(days=day.weekday())
    elif query.interval == "month":
        day = day.replace(day=1)
    elif query.interval == "year":
        day = day.replace(month=1, day=1)
    starts = []
    while day <= query.date_to:
        starts.append(datetime(day.year, day.month, day.day))
        if query.interval == "range":
            break
        if query.interval == "day":
            day += timedelta(days=1)
        elif query.interval == "week":
            day += timedelta(days=7)
        elif query.interval == "month":
            day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        else:
            day = day.replace(year=day.year + 1)
    return starts, [start.replace(tzinfo=query.zone).isoformat() for start in starts]


def _presented_sql(query: ReportQuery, columns: tuple[str, ...]) -> tuple[list[tuple[str, str]], str, list]:
    """(output names and expressions, FROM clause, params) of the rows as integrators get them: ROW_KEYS.
    PostgreSQL writes the JSON and CSV itself, so a long report never passes through Python objects."""
    rows_sql, rows_params = report_sql(query, ordered=False)  # sorted once, by the caller
    starts, labels = _periods(query)
    group_id = "r.group_key" if query.group_by == "channel" else "NULLIF(r.group_key, 0)"
    select = [("period_start", "p.iso"), ("group_type", "r.group_type"), ("group_id", group_id),
              ("group_label", "r.group_label"), *((c, f"r.{c}") for c in columns)]
    from_clause = (f"FROM ({rows_sql}) r JOIN unnest(%s::timestamp[], %s::text[]) AS p(local, iso) "
                   f"ON p.local = r.period_start")
    return select, from_clause, [*rows_params, starts, labels]


def report_json(*, query: ReportQuery) -> str:
    """The report's rows as a JSON array (every column), in order.

    Each row is written by format() from its values as text: numbers by their types' own output functions and
    strings by to_json. That is the text json_build_object writes, spacing included, in about 60% of its time,
    as it looks up no value's type on every row. The rows are sorted before they are written, while they are
    narrow (sorted with their text, a year by day would spill to temporary files), and the aggregate reads
    them in that order: nothing else (no join) happens at its level, and no parallel workers share its input.
    """
    select, from_clause, params = _presented_sql(query, COLUMNS)
    # Keys are ROW_KEYS: plain names, with nothing to escape for JSON or for format().
    pieces, values = [], []
    for name, _ in select:
        if name == "group_type":  # the same for every row
            pieces.append(f'"{name}" : {json.dumps(query.group_by)}')
        elif name == "period_start":  # ISO 8601 from _periods: nothing to escape
            pieces.append(f'"{name}" : "%s"')
            values.append(f"j.{name}")
        else:
            pieces.append(f'"{name}" : %s')
            string = name == "group_label" or (name == "group_id" and query.group_by == "channel")
            values.append(f"COALESCE(to_json(j.{name})::text, 'null')" if string
                          else f"COALESCE(j.{name}::text, 'null')")
    template = "{" + ", ".join(pieces) + "}"
    columns = ", ".join(f"{expr} AS {name}" for name, expr in select)
    sql = f"SELECT '[' || COALESCE(string_agg(format(%s, {', '.join(values)}), ', '), '') || ']' " \
          f"FROM (SELECT {columns} {from_clause} ORDER BY {_order(query, 'r.')}) j"
    with connection.cursor() as cursor:
        jit_off(cursor)
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cursor.execute(sql, [template, *params])
        return cursor.fetchone()[0]


def report_csv_sql(*, query: ReportQuery) -> str:
    """A COPY statement writing the report's rows (the query's columns) as CSV with a header row; the
    parameters are bound into it, as COPY takes none."""
    select, from_clause, params = _presented_sql(query, query.columns)
    columns = ", ".join(f"{expr} AS {name}" for name, expr in select)
    sql = f"SELECT {columns} {from_clause} ORDER BY {_order(query, 'r.')}"
    raw = connection.connection
    statement = psycopg.ClientCursor(raw).mogrify(sql, params)
    return f"COPY ({statement}) TO STDOUT WITH (FORMAT csv, HEADER true)"


def report_rows(*, query: ReportQuery) -> list[dict[str, Any]]:
    """Every row of the report, in its order."""
    sql, params = report_sql(query)
    with connection.cursor() as cursor:
        jit_off(cursor)
        cursor.execute(sql, params)
        periods: dict = {}
        return [_row(query, values, periods) for values in cursor.fetchall()]


# --- drill-down -------------------------------------------------------------------------------------------

# Which facts a count column counts: the drill-down lists the tickets of exactly those facts.
DRILLABLE = COUNT_COLUMNS


def drilldown_sql(*, query: ReportQuery, column: str, period_start: datetime | None = None,
                  group_key: str | None = None) -> tuple[str, list]:
    """The tickets behind one count of the report (one row's cell, or a column's total with no period and
    group), read from the log's facts by the definition the figure itself uses: a statement with one row per
    ticket, ``ticket_id`` and ``counted`` (how many of the figure's facts are that ticket's)."""
    if column not in DRILLABLE:
        raise ApplicationError("This column cannot be drilled into.", fields={"column": ["Choose a count."]})
    start, end = query.start, query.end
    if period_start is not None and query.interval != "range":
        local = period_start.astimezone(query.zone).replace(tzinfo=None)
        step = {"day": "1 day", "week": "1 week", "month": "1 month", "year": "1 year"}[query.interval]
        bounds_sql = "SELECT (%s::timestamp AT TIME ZONE %s), ((%s::timestamp + %s::interval) AT TIME ZONE %s)"
        with connection.cursor() as cursor:
            cursor.execute(bounds_sql, [local, query.time_zone, local, step, query.time_zone])
            bucket_start, bucket_end = cursor.fetchone()
        start, end = max(start, bucket_start), min(end, bucket_end)
    raw, raw_params = _raw_part(query.tenant_id, [(start, end)])
    key, join, join_params, *_ = _group(query)
    where, where_params = _filters(query)
    group_condition, group_params = "true", []
    if group_key is not None:
        group_condition, group_params = f"{key}::text = %s", [group_key]
    sql = f"""
SELECT f.ticket_id, sum(f.{column}) AS counted FROM ({raw}) f {join}
WHERE {where} AND {group_condition} AND f.{column} > 0
GROUP BY f.ticket_id"""
    return sql, [*raw_params, *join_params, *where_params, *group_params]


def drilldown_ticket_ids(*, query: ReportQuery, column: str, period_start: datetime | None = None,
                         group_key: str | None = None, limit: int = 1000) -> tuple[list[int], int]:
    """(up to ``limit`` ids of the tickets behind a figure, newest first; how many facts were counted)."""
    sql, params = drilldown_sql(query=query, column=column, period_start=period_start, group_key=group_key)
    with connection.cursor() as cursor:
        jit_off(cursor)
        cursor.execute(f"{sql} ORDER BY f.ticket_id DESC", params)
        rows = cursor.fetchall()
    return [r[0] for r in rows[:limit]], sum(r[1] for r in rows)


def drilldown_totals(*, sql: str, params: list) -> tuple[int, int]:
    """(how many facts a drill-down's figure counted, in how many tickets) for ``drilldown_sql``'s statement."""
    with connection.cursor() as cursor:
        jit_off(cursor)
        cursor.execute(f"SELECT COALESCE(sum(d.counted), 0), count(*) FROM ({sql}) d", params)
        counted, tickets = cursor.fetchone()
    return int(counted), tickets


def tag_names() -> list[str]:
    return list(Tag.objects.order_by("name").values_list("name", flat=True))
