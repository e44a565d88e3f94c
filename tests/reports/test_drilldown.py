"""A report figure drills down into the inbox, scoped to exactly the tickets the figure counted."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from departments import services as department_services
from helpdesk.tenancy import tenant_context
from reports import drilldown, selectors
from tests.reports.helpers import admin_browser, last_days
from tests.web.conftest import signed_in
from tests.web.helpers import link, listed_codes
from tickets import services as ticket_services
from tickets import views as ticket_views
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def _today() -> dict:
    today = timezone.now().date().isoformat()
    return {"date_from": today, "date_to": today, "interval": "range", "tz": "UTC"}


def _drill_links(client, params) -> list[tuple[str, int]]:
    page = client.get("/reports/", params).content.decode()
    return [(href.replace("&amp;", "&"), int(value))
            for href, value in re.findall(r'<a href="([^"]+)" data-drilldown>(\d+)</a>', page)]


def _every_code(client, url: str) -> list[str]:
    """The codes the inbox lists at ``url``, across all its pages."""
    codes = []
    while url:
        response = client.get(url)
        assert response.status_code == 200
        codes += listed_codes(response)
        url = link(response, "next")
    return codes


def _figure_tickets(world, href: str) -> tuple[set[str], int]:
    """(codes of the tickets behind the figure a link names, how many facts it counted), read the way the
    reports read them."""
    token = parse_qs(urlsplit(href).query)["report"][0]
    params = signing.loads(token, salt="reports.drilldown")["p"]
    with tenant_context(world.tenant):
        figure = drilldown.figure_parse(actor=world.admin, params=params)
        ids, counted = selectors.drilldown_ticket_ids(query=figure.query, column=figure.column,
                                                      period_start=figure.period_start, group_key=figure.group_key)
        codes = set(Ticket.objects.filter(pk__in=ids).values_list("code", flat=True))
    assert len(codes) == len(ids) < 1000
    return codes, counted


def _banner(response) -> str:
    return re.search(r"<div[^>]*data-inbox-scope.*?</div>", response.content.decode(), re.S).group(0)


def _banner_ticket_count(response) -> int:
    return int(re.search(r'data-inbox-scope data-ticket-count="(\d+)"', response.content.decode()).group(1))


@pytest.mark.parametrize(("group_by", "column"), [
    ("department", "tickets_created"), ("agent", "answers"), ("department", "tickets_resolved"),
    ("channel", "incoming_messages"),
])
def test_every_figure_opens_the_inbox_with_exactly_the_tickets_it_counted(world, group_by, column):
    client = admin_browser(world)
    links = _drill_links(client, {**last_days(), "interval": "day", "group_by": group_by, "columns": column})
    assert links
    for href, value in links:
        assert urlsplit(href).path == "/"
        expected, counted = _figure_tickets(world, href)
        assert counted == value
        response = client.get(href)
        assert response.status_code == 200
        assert set(_every_code(client, href)) == expected
        assert _banner_ticket_count(response) == len(expected)
        if column == "tickets_created":
            assert len(expected) == value  # one per ticket
        else:
            assert 1 <= len(expected) <= value


def test_the_banner_names_the_figure_and_links_back_to_the_report(world):
    client = admin_browser(world)
    with tenant_context(world.tenant):
        ticket = world.ticket(subject="Twice answered")
        for body in ("On it.", "Done."):
            ticket_services.message_add(actor=world.admin, ticket=ticket, kind="reply", body=body)
    params = {**_today(), "group_by": "agent", "agent": world.admin_agent.pk, "columns": "answers"}
    [(href, value)] = _drill_links(client, params)
    response = client.get(href)
    banner = _banner(response)
    assert "Answers · " in banner and world.admin_agent.display_name in banner
    assert f"{value} answers, in " in banner and "several answers can belong to one ticket" in banner
    back = re.search(r'href="([^"]+)" data-scope-back', banner).group(1).replace("&amp;", "&")
    assert urlsplit(back).path == "/reports/"
    assert parse_qs(urlsplit(back).query)["agent"] == [str(world.admin_agent.pk)]
    assert client.get(back).status_code == 200
    assert 'href="/" data-scope-clear' in banner


def test_a_drill_down_names_only_tickets_with_the_counted_items(world):
    client = admin_browser(world)
    with tenant_context(world.tenant):
        ticket = world.ticket(subject="Nobody answered this one")
    params = {**_today(), "department": world.department.pk}
    answers = _drill_links(client, {**params, "columns": "answers"})
    created = _drill_links(client, {**params, "columns": "tickets_created"})
    assert ticket.code in _every_code(client, created[0][0])
    assert all(ticket.code not in _every_code(client, href) for href, _ in answers)


def test_the_scope_stays_through_filters_sorting_and_pages(acme, monkeypatch):
    monkeypatch.setattr(ticket_views, "INBOX_PAGE_SIZE", 2)
    outside = acme.ticket(subject="Made yesterday", created_at=timezone.now() - timedelta(days=2))
    codes = [acme.ticket(subject=f"Made today {n}").code for n in range(5)]
    client = admin_browser(acme)
    [(href, value)] = _drill_links(client, {**_today(), "columns": "tickets_created"})
    assert value == 5
    first = client.get(href)
    token = parse_qs(urlsplit(href).query)["report"][0]
    assert f'<input type="hidden" name="report" value="{token}">' in first.content.decode()
    listed = _every_code(client, href)
    assert sorted(listed) == sorted(codes) and outside.code not in listed
    oldest = _every_code(client, f"{href}&sort=oldest")
    assert oldest == list(reversed(listed))
    assert _every_code(client, f"{href}&q={codes[0]}") == [codes[0]]
    filtered = client.get(f"{href}&q=nothing-like-this").content.decode()
    assert "No tickets match these filters" in filtered and urlencode({"report": token}) in filtered


def test_an_agent_sees_only_the_tickets_they_may_open_and_is_told_about_the_others(acme):
    with tenant_context(acme.tenant):
        billing = department_services.department_create(actor=acme.admin, name="Billing")
    stays = acme.ticket(subject="Stays in support")
    moved = acme.ticket(subject="Moved to billing")
    with tenant_context(acme.tenant):
        ticket_services.ticket_update(actor=acme.admin, ticket=moved, department=billing)
    client = signed_in(acme, acme.agents[0].user)
    [(href, value)] = _drill_links(client, {**_today(), "columns": "tickets_created"})
    assert value == 2  # both were created in Support, the agent's department
    response = client.get(href)
    assert listed_codes(response) == [stays.code]
    assert "You can see 1 of these tickets" in _banner(response)


def test_another_tenant_cannot_open_a_drill_down(world, globex):
    [(href, _), *_] = _drill_links(admin_browser(world), {**last_days(), "columns": "tickets_created"})
    outsider = signed_in(globex, globex.admin.membership.user)
    globex.ticket(subject="Globex's own")
    response = outsider.get(href)
    assert response.status_code == 404
    assert listed_codes(response) == []
    old_link = {**last_days(), "column": "tickets_created", "department": world.department.pk}
    assert outsider.get("/reports/tickets/", old_link).status_code == 404


@pytest.mark.parametrize("value", ["garbage", "tampered", "x" * 5000, "a\x00b", ".eJy:1:2"])
def test_a_bad_or_changed_drill_down_link_is_refused_with_a_message(world, value):
    client = admin_browser(world)
    [(href, _), *_] = _drill_links(client, {**last_days(), "columns": "tickets_created"})
    token = parse_qs(urlsplit(href).query)["report"][0]
    if value == "tampered":
        payload, signature = token.rsplit(":", 1)
        value = f"{payload}:{signature[::-1]}"
    response = client.get("/", {"report": value})
    assert response.status_code == 400
    page = response.content.decode()
    assert "This report link is not valid" in page and 'role="alert"' in page
    assert listed_codes(response) == []
    assert "data-inbox-scope" not in page


def test_old_drill_down_links_redirect_to_the_inbox(world):
    client = admin_browser(world)
    query = {**last_days(), "interval": "range", "column": "answers", "group": str(world.department.pk)}
    response = client.get("/reports/tickets/", query)
    assert response.status_code == 302
    assert response["Location"].startswith("/?report=")
    expected, _ = _figure_tickets(world, response["Location"])
    assert set(_every_code(client, response["Location"])) == expected


@pytest.mark.parametrize("query", [{"column": "avg_response_s"}, {"column": "answers", "period": "yesterday"},
                                   {"column": "answers", "group": "support"}, {"column": "answers",
                                                                               "interval": "fortnight"},
                                   {"column": "answers", "group": "99999999999999999999999"}])
def test_an_old_drill_down_link_to_something_uncountable_is_refused(world, query):
    response = admin_browser(world).get("/reports/tickets/", query)
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()


def _queries(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def test_a_drill_down_query_count_does_not_grow_with_its_tickets(acme):
    client = admin_browser(acme)
    for n in range(3):
        acme.ticket(subject=f"First {n}", tags=["vip"], assignee=acme.agents[0])
    [(href, _)] = _drill_links(client, {**_today(), "columns": "tickets_created"})
    few = _queries(client, href)
    for n in range(27):
        acme.ticket(subject=f"More {n}", tags=["vip", f"t{n}"], assignee=acme.agents[n % 2])
    [(href, value)] = _drill_links(client, {**_today(), "columns": "tickets_created"})
    assert value == 30
    many = _queries(client, href)
    assert len(listed_codes(client.get(href))) == 30
    assert len(many) == len(few)
    # The tickets are a subquery of the list's own statement: no list of ids is read into Python first.
    assert [sql for sql in many if '"tickets_ticket"."id" IN (SELECT d.ticket_id FROM' in sql]
