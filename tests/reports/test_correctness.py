"""Every column of the report API equals a direct computation over the raw tables, whatever mix of rollups
and log the report was read from: for several intervals, groupings, filters and time zones."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from helpdesk.tenancy import tenant_context
from reports import rollups
from reports.selectors import COLUMNS, _rounded
from tests.reports.activity import COUNTS, generate, reference_facts, reference_report

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/departments/"
# The tenant's own zone (daily rollups), a whole-hour zone (hourly rollups), and :30 and :45 zones (the log).
ZONES = ("Europe/Prague", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu")


@pytest.fixture
def world(acme):
    acme.tenant.time_zone = "Europe/Prague"
    acme.tenant.save(update_fields=["time_zone"])
    generated = generate(acme, seed=20261123)
    with tenant_context(acme.tenant):
        rollups.rollup_run()
    return acme, generated


def _api_rows(client, **params) -> dict[tuple, dict]:
    response = client.get(URL, params)
    assert response.status_code == 200, response.content[:500]
    rows = {}
    for row in response.json()["rows"]:
        assert list(row) == ["period_start", "group_type", "group_id", "group_label", *COLUMNS]
        if any(row[c] for c in COUNTS):
            rows[(row["period_start"], row["group_id"])] = {c: row[c] for c in COLUMNS}
    return rows


def _check(client, facts, tenant_id, **params) -> int:
    tz = params["tz"]
    today = timezone.now().astimezone(__import__("zoneinfo").ZoneInfo(tz)).date()
    date_from, date_to = today - timedelta(days=50), today
    expected = reference_report(
        facts, tenant_id=tenant_id, date_from=date_from, date_to=date_to, tz_name=tz,
        interval=params["interval"], group_by=params["group_by"],
        departments=tuple(params.get("departments", ())), channels=tuple(params.get("channels", ())),
        tags=tuple(params.get("tags", ())),
    )
    query = {"date_from": date_from.isoformat(), "date_to": date_to.isoformat(), "tz": tz,
             "interval": params["interval"], "group_by": params["group_by"]}
    if params.get("departments"):
        query["department"] = ",".join(str(d) for d in params["departments"])
    if params.get("channels"):
        query["channel"] = ",".join(params["channels"])
    if params.get("tags"):
        query["tag"] = ",".join(params["tags"])
    actual = _api_rows(client, **query)
    assert actual.keys() == expected.keys(), (params, sorted(set(actual) ^ set(expected))[:5])
    for key, row in expected.items():
        assert actual[key] == row, (params, key, {c: (actual[key][c], row[c]) for c in COLUMNS
                                                 if actual[key][c] != row[c]})
    return len(expected)


@pytest.mark.parametrize("tz", ZONES)
def test_every_column_matches_the_raw_tables_in_every_zone(world, admin_client, tz):
    acme, _ = world
    facts = reference_facts(acme.tenant.pk)
    checked = 0
    for interval, group_by in itertools.product(("day", "week", "month", "range"),
                                                ("department", "agent", "channel", "tag")):
        checked += _check(admin_client, facts, acme.tenant.pk, tz=tz, interval=interval, group_by=group_by)
    assert checked > 100  # the generated activity reaches many buckets and groups


def test_filters_match_the_raw_tables(world, admin_client):
    acme, generated = world
    facts = reference_facts(acme.tenant.pk)
    for tz in ("Europe/Prague", "UTC"):
        _check(admin_client, facts, acme.tenant.pk, tz=tz, interval="week", group_by="agent",
               departments=generated.departments[:1])
        _check(admin_client, facts, acme.tenant.pk, tz=tz, interval="day", group_by="department",
               channels=("chat", "call"))
        _check(admin_client, facts, acme.tenant.pk, tz=tz, interval="month", group_by="channel", tags=("vip",))
        _check(admin_client, facts, acme.tenant.pk, tz=tz, interval="range", group_by="tag", tags=("vip", "bug"))


def test_the_activity_has_sla_targets_met_and_missed_and_the_api_shows_both(world, admin_client):
    acme, _ = world
    facts = reference_facts(acme.tenant.pk)
    for target in ("first_response", "resolution"):
        counted = sum(f[f"sla_{target}_count"] for f in facts)
        met = sum(f[f"sla_{target}_met"] for f in facts)
        assert 0 < met < counted, (target, met, counted)
    today = timezone.now().date()
    rows = admin_client.get(URL, {"date_from": (today - timedelta(days=50)).isoformat(),
                                  "date_to": today.isoformat(), "interval": "range", "group_by": "channel",
                                  "tz": "UTC"}).json()["rows"]
    for column in ("sla_first_response_met_pct", "sla_resolution_met_pct"):
        assert any(row[column] is not None and 0 < row[column] < 100 for row in rows), column


def test_averages_and_percentages_round_half_away_from_zero_as_numeric_round_does():
    # Figures are rounded with integer arithmetic, not numeric: the same float8 must come out, exact halves and
    # negative sums included (a clock set back can make a duration negative), and sums far above any day's.
    with connection.cursor() as cursor:
        for places in (1, 2):
            numeric = f"round(n::numeric / d / {10 ** places}, {places})::float8"
            cursor.execute(
                f"""SELECT count(*), count(*) FILTER (WHERE {_rounded("n", "d", places)} IS DISTINCT FROM {numeric})
                FROM (SELECT n::bigint, d::bigint FROM generate_series(-2500, 2500) n, generate_series(1, 45) d
                      UNION ALL
                      SELECT n::bigint * 1000003 + k, d FROM generate_series(1073741824, 1073741874) n,
                                                     generate_series(-1, 1) k, (VALUES (7), (300), (86400)) v(d)) v""")
            checked, different = cursor.fetchone()
            assert checked > 200_000 and different == 0, places
