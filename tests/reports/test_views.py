"""The reports page, its CSV, and the links to them (the tickets behind a figure: test_drilldown.py)."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from helpdesk.tenancy import tenant_context
from reports.selectors import COLUMNS
from reports.templatetags.reports_ui import number
from tests.reports.helpers import admin_browser, last_days
from tests.web.conftest import signed_in
from tickets import services as ticket_services

pytestmark = pytest.mark.django_db


def test_the_report_page_shows_a_table_a_chart_and_an_export(world):
    response = admin_browser(world).get("/reports/", {**last_days(), "interval": "range"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "data-report-table" in page and "data-chart-canvas" in page
    assert "vendor/chartjs-4.6.1/chart.umd.min.js" in page and "https://" not in page.split("<main")[1]
    assert 'data-chart-type="pie"' in page
    assert "Support" in page


def test_the_table_is_sorted_as_chosen(world):
    page = admin_browser(world).get("/reports/", {**last_days(), "interval": "range", "group_by": "agent",
                                           "ordering": "-answers", "columns": "answers"}).content.decode()
    values = [int(v) for v in re.findall(r'data-column="answers" data-value="(\d+)"', page)]
    assert len(values) > 1 and values == sorted(values, reverse=True)
    assert '<option value="-answers" selected>' in page


def test_bad_parameters_show_form_errors(world):
    response = admin_browser(world).get("/reports/", {"interval": "fortnight", "tz": "Nowhere/City"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-error-field="interval"' in page and 'data-error-field="tz"' in page


def test_another_tenants_department_is_not_found(world, globex):
    assert admin_browser(world).get("/reports/", {"department": globex.department.pk}).status_code == 404
    assert admin_browser(world).get("/reports/export.csv", {"department": globex.department.pk}).status_code == 404


def test_an_agent_sees_only_their_departments(world):
    client = signed_in(world, world.agents[0].user)
    page = client.get("/reports/", {**last_days(), "interval": "range"}).content.decode()
    assert "Billing 11" not in page
    with tenant_context(world.tenant):
        billing = world.agents[1].department_memberships.get().department_id
    assert client.get("/reports/", {"department": billing}).status_code == 404


def _table(page: str) -> list[dict[str, str]]:
    cells = re.findall(r'data-column="([a-z_]+)" data-value="([^"]*)"', page)
    return cells


def test_the_export_holds_exactly_the_rows_and_columns_shown(world):
    client = admin_browser(world)
    params = {**last_days(), "group_by": "agent", "columns": ["tickets_created", "answers", "avg_response_s"]}
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


def test_every_figure_reads_as_in_the_export_whole_numbers_without_a_decimal_point(world):
    client = admin_browser(world)
    params = {**last_days(), "interval": "week", "group_by": "agent", "columns": list(COLUMNS)}
    page = client.get("/reports/", params).content.decode()
    shown = _table(page)
    response = client.get(re.search(r'href="([^"]+)" data-export-csv', page).group(1).replace("&amp;", "&"))
    lines = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(c, line[c]) for line in lines for c in COLUMNS] == shown
    assert any(value.isdigit() for column, value in shown if column.endswith("_pct"))
    table = page.split("data-report-table", 1)[1]
    texts = re.findall(r'<td class="num"[^>]*>\s*(?:<a [^>]*>)?([^<]*?)\s*(?:</a>)?\s*</td>', table)
    assert texts and not [text for text in texts if re.fullmatch(r"\d+\.0", text)]


def test_figures_drop_a_zero_decimal_and_keep_the_rest():
    assert [number(v) for v in (8078.0, Decimal("12"), 97.5, 0.0, Decimal("3.25"), 7, None)] == \
        ["8078", "12", "97.5", "0", "3.25", "7", ""]


def test_the_departments_list_links_to_each_departments_report(world):
    page = admin_browser(world).get("/settings/departments/").content.decode()
    assert f'href="/reports/?department={world.department.pk}&amp;group_by=agent" data-department-report' in page


def test_the_header_links_to_reports_for_agents_too(world):
    page = signed_in(world, world.agents[0].user).get("/").content.decode()
    assert 'href="/reports/"' in page


def test_a_reply_counts_at_once_from_the_log_tail(world):
    client = admin_browser(world)
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
