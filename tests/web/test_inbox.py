"""The inbox: views, filters, sorting and keyset pagination, for admins and agents."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import dateformat, timezone

from departments import services as department_services
from helpdesk.tenancy import tenant_context
from tests.web.helpers import link, listed_codes
from tickets import services as ticket_services
from tickets import views as ticket_views
from tickets.models import Channel, Priority, Status


def _at(minutes_ago: int):
    return timezone.now() - timedelta(minutes=minutes_ago)


def test_inbox_sends_anonymous_visitors_to_the_login_page(client, acme):
    response = client.get("/?view=mine")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_all_view_lists_tickets_newest_first(acme, admin_client):
    older = acme.ticket(created_at=_at(30))
    newer = acme.ticket(created_at=_at(5))
    response = admin_client.get("/")
    assert response.status_code == 200
    assert listed_codes(response) == [newer.code, older.code]
    assert newer.subject in response.content.decode()


def test_agent_sees_their_departments_tickets_but_not_other_departments(acme, agent_client):
    with tenant_context(acme.tenant):
        billing = department_services.department_create(actor=acme.admin, name="Billing")
    support_ticket = acme.ticket()
    billing_ticket = acme.ticket(department=billing)
    codes = listed_codes(agent_client.get("/"))
    assert support_ticket.code in codes
    assert billing_ticket.code not in codes


def test_sidebar_lists_the_agents_departments_only(acme, agent_client):
    with tenant_context(acme.tenant):
        department_services.department_create(actor=acme.admin, name="Billing")
    page = agent_client.get("/").content.decode()
    assert f"?view=department&amp;department={acme.department.pk}" in page
    assert "Billing" not in page.split("</nav>", 2)[1]  # the second nav is the inbox sidebar


def test_mine_view_lists_only_tickets_assigned_to_me(acme, agent_client):
    me = acme.agents[0]
    mine = acme.ticket(assignee=me)
    acme.ticket(assignee=acme.agents[1])
    acme.ticket()
    assert listed_codes(agent_client.get("/?view=mine")) == [mine.code]


def test_to_solve_shows_only_unassigned_active_tickets_of_to_solve_departments(acme, admin_client):
    with tenant_context(acme.tenant):
        no_queue = department_services.department_create(actor=acme.admin, name="VIP", to_solve_enabled=False)
    waiting = acme.ticket(created_at=_at(10))
    without_department = acme.ticket(department=None, created_at=_at(9))
    acme.ticket(assignee=acme.agents[0])
    acme.ticket(department=no_queue)
    resolved = acme.ticket()
    with tenant_context(acme.tenant):
        ticket_services.ticket_update(actor=acme.admin, ticket=resolved, status=Status.RESOLVED)

    response = admin_client.get("/?view=to_solve")
    assert listed_codes(response) == [without_department.code, waiting.code]
    # Opening a ticket from this queue is a POST that takes it, never a plain link.
    page = response.content.decode()
    assert f'action="/tickets/{waiting.code}/take/"' in page
    assert f'href="/tickets/{waiting.code}/"' not in page


def test_department_view_lists_that_departments_tickets(acme, admin_client):
    with tenant_context(acme.tenant):
        billing = department_services.department_create(actor=acme.admin, name="Billing")
    billing_ticket = acme.ticket(department=billing)
    acme.ticket()
    response = admin_client.get(f"/?view=department&department={billing.pk}")
    assert listed_codes(response) == [billing_ticket.code]
    assert "<h1 id=\"page-title\">Billing</h1>" in response.content.decode()


def test_department_view_of_another_tenants_department_is_not_found(acme, globex, admin_client):
    response = admin_client.get(f"/?view=department&department={globex.department.pk}")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=open", "open"),
        ("channel=chat", "chat"),
        ("priority=urgent", "urgent"),
        ("assignee=me", "mine"),
        ("assignee=none", "unassigned"),
        ("tag=VIP", "tagged"),
        ("q=toaster", "keyword"),
        ("department=none", "no_department"),
    ],
)
def test_filters_narrow_the_list(acme, admin_client, query, expected):
    tickets = {
        "open": acme.ticket(assignee=acme.agents[0]),
        "chat": acme.ticket(channel=Channel.CHAT, assignee=acme.agents[0]),
        "urgent": acme.ticket(priority=Priority.URGENT, assignee=acme.agents[0]),
        "mine": acme.ticket(assignee=acme.admin_agent),
        "unassigned": acme.ticket(),
        "tagged": acme.ticket(tags=["vip"], assignee=acme.agents[0]),
        "keyword": acme.ticket(subject="The toaster sings", assignee=acme.agents[0]),
        "no_department": acme.ticket(department=None, assignee=acme.agents[0]),
    }
    with tenant_context(acme.tenant):
        ticket_services.message_add(actor=acme.actor_of(acme.agents[0]), ticket=tickets["open"], kind="note",
                                    body="looking")
        ticket_services.ticket_update(actor=acme.admin, ticket=tickets["open"], status=Status.OPEN)
    response = admin_client.get(f"/?{query}")
    assert response.status_code == 200
    assert listed_codes(response) == [tickets[expected].code]


def test_filters_combine(acme, admin_client):
    match = acme.ticket(channel=Channel.CHAT, priority=Priority.HIGH)
    acme.ticket(channel=Channel.CHAT, priority=Priority.LOW)
    acme.ticket(channel=Channel.EMAIL, priority=Priority.HIGH)
    assert listed_codes(admin_client.get("/?channel=chat&priority=high")) == [match.code]


def test_empty_filters_say_nothing_matches(acme, admin_client):
    acme.ticket()
    response = admin_client.get("/?q=nothing-like-this")
    assert listed_codes(response) == []
    assert "No tickets match these filters" in response.content.decode()


def test_bad_filter_values_show_errors_instead_of_failing(acme, admin_client):
    acme.ticket()
    response = admin_client.get("/?status=bogus&department=abc&assignee=nobody&sort=sideways&view=weird")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Status: Select a valid choice. bogus is not one of the available choices." in page
    assert "Department: Select a valid choice." in page


def test_a_broken_cursor_falls_back_to_the_first_page(acme, admin_client):
    ticket = acme.ticket()
    response = admin_client.get("/?cursor=not-a-cursor")
    assert response.status_code == 200
    assert listed_codes(response) == [ticket.code]


def test_keyset_pages_have_next_and_previous_links(acme, admin_client, monkeypatch):
    monkeypatch.setattr(ticket_views, "INBOX_PAGE_SIZE", 2)
    codes = [acme.ticket(created_at=_at(minutes)).code for minutes in (1, 2, 3, 4, 5)]  # newest first

    first = admin_client.get("/?status=new")
    assert listed_codes(first) == codes[:2]
    assert link(first, "prev") is None
    second = admin_client.get(link(first, "next"))
    assert listed_codes(second) == codes[2:4]
    # Filters survive paging.
    assert "status=new" in link(second, "next")
    third = admin_client.get(link(second, "next"))
    assert listed_codes(third) == codes[4:]
    assert link(third, "next") is None
    back = admin_client.get(link(third, "prev"))
    assert listed_codes(back) == codes[2:4]
    assert listed_codes(admin_client.get(link(back, "prev"))) == codes[:2]


def test_sorting_oldest_first_and_by_last_activity(acme, admin_client):
    old = acme.ticket(created_at=_at(60))
    middle = acme.ticket(created_at=_at(30))
    new = acme.ticket(created_at=_at(1))
    assert listed_codes(admin_client.get("/?sort=oldest")) == [old.code, middle.code, new.code]
    with tenant_context(acme.tenant):
        ticket_services.message_add(actor=acme.admin, ticket=old, kind="reply", body="On it.")
    assert listed_codes(admin_client.get("/?sort=activity")) == [old.code, new.code, middle.code]


def _inbox_queries(client) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/")
    assert response.status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def test_inbox_query_count_does_not_grow_with_the_number_of_tickets(acme, admin_client):
    for i in range(3):
        acme.ticket(tags=["vip", f"t{i}"], assignee=acme.agents[0])
    few = _inbox_queries(admin_client)
    for i in range(27):
        acme.ticket(tags=["vip", f"u{i}"], assignee=acme.agents[i % 2])
    many = _inbox_queries(admin_client)
    assert len(listed_codes(admin_client.get("/"))) == 30
    assert len(many) == len(few)


def test_inbox_never_counts_the_whole_list(acme, admin_client):
    acme.ticket()
    queries = _inbox_queries(admin_client)
    assert not [sql for sql in queries if "COUNT(" in sql.upper() and "tickets_ticket" in sql]


def test_a_row_shows_the_tickets_labels_people_tags_and_times(acme, admin_client):
    ticket = acme.ticket(
        subject="Refund for order 77", tags=["vip", "refund"], assignee=acme.agents[0], priority=Priority.URGENT,
        channel=Channel.EMAIL, contact=ticket_services.ContactData(email="only-email@example.com"),
        created_at=_at(180),
    )
    with tenant_context(acme.tenant):
        due = timezone.now() + timedelta(hours=2)
        type(ticket).objects.filter(pk=ticket.pk).update(sla_due_at=due)
    html = admin_client.get("/").content.decode()
    row = html[html.index(f'data-ticket="{ticket.code}"'):]
    row = row[:row.index("</tr>")]

    assert f'href="/tickets/{ticket.code}/"' in row and "Refund for order 77" in row
    assert "only-email@example.com · Email" in row  # the contact has no name: the email stands in
    assert '<span class="tag">refund</span><span class="tag">vip</span>' in row
    assert '<span class="badge badge--new">New</span>' in row
    assert '<span class="priority priority--urgent">Urgent</span>' in row
    assert f">{acme.department.name}<" in row and f">{acme.agents[0].display_name}<" in row
    local_due = timezone.localtime(due)
    assert f'datetime="{local_due.isoformat()}"' in row and f"SLA due {local_due:%-d %b, %H:%M}" in row
    assert ">3\xa0hours ago<" in row


def test_row_times_are_in_the_tenants_zone_as_djangos_date_format_writes_them(acme, admin_client):
    with tenant_context(acme.tenant):
        type(acme.tenant).objects.filter(pk=acme.tenant.pk).update(time_zone="Asia/Kolkata")
    created = timezone.now().replace(month=1, day=9, hour=22, minute=5)
    ticket = acme.ticket(created_at=created)
    html = admin_client.get("/?sort=oldest").content.decode()
    row = html[html.index(f'data-ticket="{ticket.code}"'):]
    local = timezone.localtime(created, zoneinfo.ZoneInfo("Asia/Kolkata"))
    assert f'datetime="{dateformat.format(local, "c")}"' in row
    assert f'title="{dateformat.format(local, "j M Y, H:i")}"' in row


def test_a_to_solve_row_opens_and_takes_the_ticket(acme, admin_client):
    ticket = acme.ticket(department=None)
    html = admin_client.get("/?view=to_solve").content.decode()
    assert f'action="/tickets/{ticket.code}/take/"' in html
