"""An admin reads a department's report in the browser: charts, CSV, and the tickets behind a figure in the inbox."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import Page, expect

from helpdesk.tenancy import tenant_context
from tickets import services as ticket_services

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_reads_a_departments_report_as_charts_csv_and_tickets(acme, page: Page, sign_in, live_url):
    tickets = [acme.ticket(subject=f"Report me {n}") for n in range(3)]
    with tenant_context(acme.tenant):
        ticket_services.message_add(actor=acme.admin, ticket=tickets[0], kind="reply", body="Looking into it.")
    sign_in(page, "owner@acme.test")

    page.goto(live_url("/settings/departments/"))
    page.locator(f'tr[data-department="{acme.department.pk}"]').get_by_role("link", name="Report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Department reports")
    table = page.locator("[data-report-table]")
    expect(table).to_be_visible()

    chart = page.locator("[data-report-chart]")
    for kind in ("line", "bar", "pie", "area"):
        chart.get_by_role("button", name=kind.capitalize()).click()
        expect(chart).to_have_attribute("data-chart-drawn", kind)
        expect(chart.get_by_role("button", name=kind.capitalize())).to_have_attribute("aria-pressed", "true")

    created_cells = table.locator('td[data-column="tickets_created"]')
    shown = [int(v) for v in created_cells.evaluate_all("cells => cells.map(c => c.dataset.value)") if v]
    assert sum(shown) == 3

    with page.expect_download() as download_info:
        page.locator("[data-export-csv]").click()
    path = download_info.value.path()
    with open(path, newline="") as f:
        lines = list(csv.DictReader(io.StringIO(f.read())))
    assert [int(line["tickets_created"]) for line in lines if line["tickets_created"]] == shown
    assert {line["group_type"] for line in lines} == {"agent"}

    # Tooltips read like the table: whole numbers without ".0", durations in words.
    tooltip = """(raw) => Chart.getChart(document.querySelector("[data-chart-canvas]"))
        .options.plugins.tooltip.callbacks.label({raw, label: "Support", dataset: {label: "Support"}})"""
    assert page.evaluate(tooltip, 8078.0) == "Support: 8078"
    chart.locator("[data-chart-column]").select_option("avg_first_response_s")
    assert page.evaluate(tooltip, 8078.0) == "Support: 2 h 14 min"

    # A figure opens the inbox showing exactly the tickets it counted (fewer than a page of 50).
    link = created_cells.get_by_role("link").first
    count = int(link.inner_text())
    link.click()
    expect(page).to_have_url(re.compile(r"/\?report="))
    banner = page.locator("[data-inbox-scope]")
    expect(banner).to_contain_text(f"{count} ticket{'s' if count > 1 else ''} created, in {count} ticket")
    expect(banner).to_have_attribute("data-ticket-count", str(count))
    expect(page.locator("tr.tickets__row")).to_have_count(count)
    for ticket in tickets[:count]:
        expect(page.locator(f'tr[data-ticket="{ticket.code}"]')).to_be_visible()
    expect(page.locator(".sidebar")).to_be_visible()

    # The inbox's own filters keep the scope: searching within it finds one ticket of the figure.
    page.get_by_role("search", name="Filter tickets").get_by_label("Search").fill(tickets[0].code)
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("tr.tickets__row")).to_have_count(1)
    expect(banner).to_contain_text(f"in {count} ticket")

    # Back on the report, the answers figure opens its one answered ticket.
    banner.get_by_role("link", name="Back to the report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Department reports")
    answers = page.locator('[data-report-table] td[data-column="answers"]').get_by_role("link")
    expect(answers).to_have_count(1)
    expect(answers).to_have_text("1")
    answers.click()
    expect(page.locator("[data-inbox-scope]")).to_contain_text("1 answer, in 1 ticket")
    expect(page.locator("tr.tickets__row")).to_have_count(1)
    expect(page.locator(f'tr[data-ticket="{tickets[0].code}"]')).to_be_visible()
    page.locator("[data-scope-clear]").click()
    expect(page.locator("[data-inbox-scope]")).to_have_count(0)
