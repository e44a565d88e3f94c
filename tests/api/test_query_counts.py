"""Every list costs the same number of queries for 3 rows as for 30: no query per row."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from departments import services as department_services
from helpdesk.tenancy import tenant_context
from tests.factories import TenantWorld
from tickets import services as ticket_services
from tickets.models import Category


def count_queries(client: APIClient, url: str, expected_rows: int) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, {"page_size": 100})
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == expected_rows
    return len(context.captured_queries)


def assert_fixed_query_count(client: APIClient, url: str, add_rows: Callable[[int], None], base_rows: int = 0):
    # The first request of a key records its use; warm up so both counts see the same work.
    client.get(url)
    add_rows(3)
    few = count_queries(client, url, base_rows + 3)
    add_rows(27)
    many = count_queries(client, url, base_rows + 30)
    assert few == many, f"{few} queries for 3 rows, {many} for 30"


@pytest.mark.parametrize("key", ["api_key", "agent_api_key"])
def test_ticket_list_with_tags_department_assignee_category_and_contact(client_with, acme, key):
    with tenant_context(acme.tenant):
        category = Category.objects.create(tenant=acme.tenant, name="Hardware")

    def add(n: int) -> None:
        for i in range(n):
            acme.ticket(tags=[f"tag-{i}", "common"], assignee=acme.agents[0], category=category)

    assert_fixed_query_count(client_with(getattr(acme, key)), "/api/v1/tickets/", add)


def test_department_list_with_leaders_and_members(admin_client, acme):
    counter = iter(range(1000))

    def add(n: int) -> None:
        with tenant_context(acme.tenant):
            for _ in range(n):
                department_services.department_create(
                    actor=acme.admin, name=f"Team {next(counter)}", members=acme.agents, leader=acme.agents[1],
                )

    assert_fixed_query_count(admin_client, "/api/v1/departments/", add, base_rows=1)


def test_agent_list_with_departments(admin_client, acme):
    counter = iter(range(1000))

    def add(n: int) -> None:
        with tenant_context(acme.tenant):
            for _ in range(n):
                agent = department_services.agent_create(
                    actor=acme.admin, email=f"extra{next(counter)}@acme.test", display_name="Extra",
                )
                department_services.department_member_add(actor=acme.admin, department=acme.department, agent=agent)

    assert_fixed_query_count(admin_client, "/api/v1/agents/", add, base_rows=3)


def test_message_list_with_authors_and_attachments(admin_client, acme: TenantWorld):
    ticket = acme.ticket()

    def add(n: int) -> None:
        with tenant_context(acme.tenant):
            for i in range(n):
                files = [SimpleUploadedFile(f"f{i}.txt", b"x", content_type="text/plain")]
                ticket_services.message_add(actor=acme.admin, ticket=ticket, kind="note", body="n", attachments=files)

    assert_fixed_query_count(admin_client, f"/api/v1/tickets/{ticket.pk}/messages/", add, base_rows=1)


def test_event_list(admin_client, acme):
    ticket = acme.ticket()
    subjects = iter(range(1000))

    def add(n: int) -> None:
        with tenant_context(acme.tenant):
            for _ in range(n):
                ticket_services.ticket_update(actor=acme.admin, ticket=ticket, subject=f"Subject {next(subjects)}")

    assert_fixed_query_count(admin_client, f"/api/v1/tickets/{ticket.pk}/events/", add, base_rows=2)
