"""The report API: parameters, visibility, CSV, ordering, schema and rate limit."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from helpdesk.tenancy import tenant_context
from reports.selectors import COLUMNS, ROW_KEYS
from tests.api.helpers import error_of
from tests.reports.activity import generate

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/departments/"


@pytest.fixture
def world(acme):
    generate(acme, seed=3, tickets=30, days=10)
    return acme


def _range():
    today = timezone.now().date()
    return {"date_from": (today - timedelta(days=12)).isoformat(), "date_to": today.isoformat()}


@pytest.mark.parametrize(("params", "field"), [
    ({"date_from": "2026-13-01"}, "date_from"),
    ({"date_to": "yesterday"}, "date_to"),
    ({"date_from": "2026-05-02", "date_to": "2026-05-01"}, "date_to"),
    ({"date_from": "2020-01-01", "date_to": "2026-01-01"}, "date_to"),
    ({"interval": "hour"}, "interval"),
    ({"group_by": "priority"}, "group_by"),
    ({"tz": "Mars/Olympus"}, "tz"),
    ({"tz": "+02:00"}, "tz"),
    ({"channel": "pigeon"}, "channel"),
    ({"department": "abc"}, "department"),
    ({"agent": "-1"}, "agent"),
    ({"ordering": "-password"}, "ordering"),
])
def test_bad_parameters_get_400_naming_the_field(admin_client, params, field):
    error = error_of(admin_client.get(URL, params), 400)
    assert field in error["fields"]


def test_bad_parameters_get_400_in_json_even_when_csv_was_asked_for(admin_client):
    response = admin_client.get(URL, {"interval": "hour", "format": "csv"})
    assert "interval" in error_of(response, 400)["fields"]


def test_rows_carry_the_contracted_keys_and_nulls_for_empty_averages(admin_client, world):
    body = admin_client.get(URL, {**_range(), "interval": "range"}).json()
    assert body["columns"] == list(COLUMNS)
    assert body["rows"]
    for row in body["rows"]:
        assert list(row) == list(ROW_KEYS)
        assert row["group_type"] == "department"
        if row["tickets_resolved"] == 0:  # no resolution with a target: nothing to take a share of
            assert row["sla_resolution_met_pct"] is None
    empty = admin_client.get(URL, {"date_from": "2001-01-01", "date_to": "2001-01-31"}).json()
    assert empty["rows"] == []
    days = admin_client.get(URL, {**_range(), "group_by": "channel"}).json()["rows"]
    without_replies = [r for r in days if r["answers"] == 0]
    assert without_replies
    assert all(r["avg_first_response_s"] is None and r["avg_response_s"] is None
               and r["sla_first_response_met_pct"] is None for r in without_replies)
    assert any(r["avg_first_response_s"] is not None for r in days)


def test_another_tenants_department_or_agent_is_not_found(admin_client, world, globex):
    error_of(admin_client.get(URL, {"department": globex.department.pk}), 404)
    error_of(admin_client.get(URL, {"agent": globex.agents[0].pk}), 404)
    error_of(admin_client.get(URL, {"department": 987654321}), 404)


def test_another_tenants_key_sees_none_of_this_tenants_figures(client_with, world, globex):
    body = client_with(globex.api_key).get(URL, {**_range(), "interval": "range"}).json()
    assert body["rows"] == []


def test_an_agent_sees_only_their_departments(client_with, world):
    agent_client = client_with(world.agent_api_key)  # agent 1: member of Support only
    rows = agent_client.get(URL, {**_range(), "interval": "range"}).json()["rows"]
    assert rows and {r["group_id"] for r in rows} == {world.department.pk}
    with tenant_context(world.tenant):
        billing = world.agents[1].department_memberships.get().department_id
    error_of(agent_client.get(URL, {"department": billing}), 404)
    by_agent = agent_client.get(URL, {**_range(), "interval": "range", "group_by": "agent"}).json()["rows"]
    admin_support = client_with(world.api_key).get(
        URL, {**_range(), "interval": "range", "group_by": "agent", "department": world.department.pk}).json()
    assert by_agent == admin_support["rows"]


def test_unauthenticated_requests_are_refused(api_client):
    assert api_client.get(URL).status_code in (401, 403)


def _csv_rows(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def _as_csv(value) -> str:
    return "" if value is None else str(value)


@pytest.mark.parametrize("how", ["format", "accept"])
def test_csv_equals_json_row_for_row(admin_client, world, how):
    params = {**_range(), "interval": "day", "group_by": "agent", "ordering": "-answers"}
    rows = admin_client.get(URL, params).json()["rows"]
    if how == "format":
        response = admin_client.get(URL, {**params, "format": "csv"})
    else:
        response = admin_client.get(URL, params, HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    lines = _csv_rows(response)
    assert len(lines) == len(rows) > 3
    for line, row in zip(lines, rows, strict=True):
        assert list(line) == list(ROW_KEYS)
        assert line == {k: _as_csv(v) for k, v in row.items()}


@pytest.mark.parametrize("column", ["tickets_created", "-answers", "group_label", "-avg_response_s"])
def test_rows_are_sorted_by_any_column(admin_client, world, column):
    rows = admin_client.get(URL, {**_range(), "interval": "range", "group_by": "agent",
                                  "ordering": column}).json()["rows"]
    name = column.lstrip("-")
    values = [r[name] for r in rows if r[name] is not None]
    assert values == sorted(values, reverse=column.startswith("-"))
    nulls = [r[name] is None for r in rows]
    assert nulls == sorted(nulls)  # nulls last


def test_filters_take_several_values(admin_client, world):
    both = admin_client.get(URL, {**_range(), "interval": "range", "group_by": "channel",
                                  "channel": "chat,call"}).json()["rows"]
    repeated = admin_client.get(f"{URL}?channel=chat&channel=call&interval=range&group_by=channel"
                                f"&date_from={_range()['date_from']}&date_to={_range()['date_to']}").json()["rows"]
    assert both == repeated
    assert {r["group_id"] for r in both} <= {"chat", "call"}


def test_too_many_requests_get_429_with_retry_after(admin_client, settings):
    settings.REPORTS_API_RATE = "3/min"
    codes = [admin_client.get(URL, {"interval": "range"}).status_code for _ in range(4)]
    assert codes[:3] == [200, 200, 200]
    response = admin_client.get(URL, {"interval": "range"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert error_of(response, 429)["code"] == "throttled"


def test_the_schema_documents_the_report(admin_client):
    schema = admin_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/reports/departments/"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"date_from", "date_to", "interval", "group_by", "department", "agent", "channel", "tag", "tz",
            "ordering", "format"} <= names
    row = schema["components"]["schemas"]["ReportRow"]["properties"]
    assert set(COLUMNS) <= set(row)
