"""The reports page, its CSV, the tickets behind a figure, and the links to them."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from helpdesk.tenancy import tenant_context
from reports.selectors import DRILLABLE
from tests.reports.activity import generate
from tests.web.conftest import signed_in
from tickets import services as ticket_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(acme):
    generate(acme, seed=11, tickets=30, days=8)
    return acme


def _admin(world):
    return signed_in(world, world.admin.membership.user)


def _range() -> dict:
    today = timezone.now().date()
    return {"date_from": (today - timedelta(days=10)).isoformat(), "date_to": today.isoformat()}


def test_the_report_page_shows_a_table_a_chart_and_an_export(world):
    response = _admin(world).get("/reports/", {**_range(), "interval": "range"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "data-report-table" in page and "data-chart-canvas" in page
    assert "vendor/chartjs-4.6.1/chart.umd.min.js" in page and "https://" not in page.split("<main")[1]
    assert 'data-chart-type="pie"' in page
    assert "Support" in page


def test_the_table_is_sorted_as_chosen(world):
    page = _admin(world).get("/reports/", {**_range(), "interval": "range", "group_by": "agent",
                                           "ordering": "-answers", "columns": "answers"}).content.decode()
    values = [int(v) for v in re.findall(r'data-column="answers" data-value="(\d+)"', page)]
    assert len(values) > 1 and values == sorted(values, reverse=True)
    assert '<option value="-answers" selected>' in page


def test_bad_parameters_show_form_errors(world):
    response = _admin(world).get("/reports/", {"interval": "fortnight", "tz": "Nowhere/City"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-error-field="interval"' in page and 'data-error-field="tz"' in page


def test_another_tenants_department_is_not_found(world, globex):
    assert _admin(world).get("/reports/", {"department": globex.department.pk}).status_code == 404
    assert _admin(world).get("/reports/export.csv", {"department": globex.department.pk}).status_code == 404


def test_an_agent_sees_only_their_departments(world):
    client = signed_in(world, world.agents[0].user)
    page = client.get("/reports/", {**_range(), "interval": "range"}).content.decode()
    assert "Billing 11" not in page
    with tenant_context(world.tenant):
        billing = world.agents[1].department_memberships.get().department_id
    assert client.get("/reports/", {"department": billing}).status_code == 404


def _table(page: str) -> list[dict[str, str]]:
    cells = re.findall(r'data-column="([a-z_]+)" data-value="([^"]*)"', page)
    return cells


def test_the_export_holds_exactly_the_rows_and_columns_shown(world):
    client = _admin(world)
    params = {**_range(), "group_by": "agent", "columns": ["tickets_created", "answers", "avg_response_s"]}
    page = client.get("/reports/", params).content.decode()
    shown = _table(page)
    assert shown
    response = client.get(re.search(r'href="([^"]+)" data-export-csv', page).group(1).replace("&amp;", "&"))
    assert response.status_code == 200
    lines = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert list(lines[0]) == ["period_start", "group_type", "group_id", "group_label", "tickets_created",
                              "answers", "avg_response_s"]
    exported = [(c, line[c]) for line in lines for c in ("tickets_created", "answers", "avg_response_s")]
    assert exported == shown


@pytest.mark.parametrize("column", ["tickets_created", "answers", "tickets_resolved", "incoming_messages"])
def test_every_drill_down_lists_the_tickets_it_counted(world, column):
    client = _admin(world)
    page = client.get("/reports/", {**_range(), "interval": "week", "columns": [column]}).content.decode()
    links = re.findall(r'<a href="([^"]+)" data-drilldown>(\d+)</a>', page)
    assert links
    for href, value in links:
        drill = client.get(href.replace("&amp;", "&")).content.decode()
        counted = int(re.search(r"(\d+) counted in", drill).group(1))
        shown = int(re.search(r"data-ticket-count>(\d+)<", drill).group(1))
        assert counted == int(value)
        assert shown == drill.count('class="tickets__row"')
        if column == "tickets_created":
            assert shown == int(value)  # one per ticket
        else:
            assert 1 <= shown <= int(value)


def test_a_drill_down_names_only_tickets_with_the_counted_items(world):
    client = _admin(world)
    with tenant_context(world.tenant):
        ticket = world.ticket(subject="Nobody answered this one")
    today = timezone.now().date().isoformat()
    query = {"date_from": today, "date_to": today, "interval": "range", "column": "answers",
             "group": str(world.department.pk)}
    answers = client.get(f"/reports/tickets/?{urlencode(query)}").content.decode()
    created = client.get(f"/reports/tickets/?{urlencode({**query, 'column': 'tickets_created'})}").content.decode()
    assert ticket.code in created and ticket.code not in answers


def test_a_drill_down_of_something_uncountable_is_refused(world):
    response = _admin(world).get("/reports/tickets/", {"column": "avg_response_s"})
    assert response.status_code == 400
    assert "avg_response_s" not in DRILLABLE


def test_the_departments_list_links_to_each_departments_report(world):
    page = _admin(world).get("/settings/departments/").content.decode()
    assert f'href="/reports/?department={world.department.pk}&amp;group_by=agent" data-department-report' in page


def test_the_header_links_to_reports_for_agents_too(world):
    page = signed_in(world, world.agents[0].user).get("/").content.decode()
    assert 'href="/reports/"' in page


def test_a_reply_counts_at_once_from_the_log_tail(world):
    client = _admin(world)
    today = timezone.now().date().isoformat()
    params = {"date_from": today, "date_to": today, "interval": "range", "department": world.department.pk,
              "columns": "answers", "tz": "UTC"}

    def answers() -> int:
        cell = re.search(r'data-column="answers" data-value="(\d*)"', client.get("/reports/", params).content.decode())
        return int(cell.group(1)) if cell else 0

    before = answers()
    with tenant_context(world.tenant):
        ticket = world.ticket()
        ticket_services.message_add(actor=world.admin, ticket=ticket, kind="reply", body="On it.")
    assert answers() == before + 1
