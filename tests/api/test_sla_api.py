"""Business hours, SLA policies, email templates and canned responses over the API, and the SLA state of
tickets: admins write, agents read, bad input answers 400 with field messages, another tenant's ids 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from departments import business_hours, replies
from departments import services as department_services
from helpdesk.tenancy import tenant_context
from tests.api.helpers import error_of, field_errors, ids, results

WEEKLY = {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], "fri": [["22:00", "02:00"]]}


def test_admin_sets_business_hours_and_an_agent_reads_them(admin_client, agent_client, acme):
    response = admin_client.post("/api/v1/business-hours/", {
        "department": acme.department.pk, "time_zone": "Europe/Berlin", "weekly": WEEKLY,
        "holidays": [{"date": "2025-12-25", "name": "Christmas", "recurring": True}], "out_of_hours_reply": True,
    }, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["department"] == {"id": acme.department.pk, "name": "Support"}
    assert body["weekly"] == WEEKLY and body["holidays"][0]["recurring"] is True
    assert ids(agent_client.get("/api/v1/business-hours/")) == [body["id"]]
    error_of(agent_client.patch(f"/api/v1/business-hours/{body['id']}/", {"weekly": {}}, format="json"), 403)
    changed = admin_client.patch(f"/api/v1/business-hours/{body['id']}/", {"weekly": {"sun": [["00:00", "24:00"]]}},
                                 format="json")
    assert changed.status_code == 200 and changed.json()["weekly"] == {"sun": [["00:00", "24:00"]]}
    assert admin_client.delete(f"/api/v1/business-hours/{body['id']}/").status_code == 204


def test_business_hours_input_errors_are_400_with_field_messages(admin_client, acme, globex):
    fields = field_errors(admin_client.post("/api/v1/business-hours/", {
        "time_zone": "Mars/Base", "weekly": {"mon": [["17:00", "25:00"]]}, "holidays": [{"date": "not a date"}],
    }, format="json"))
    assert set(fields) == {"time_zone", "weekly", "holidays"}
    assert "bogus" in field_errors(admin_client.post("/api/v1/business-hours/", {"weekly": WEEKLY, "bogus": 1},
                                                     format="json"))
    foreign = field_errors(admin_client.post("/api/v1/business-hours/", {"weekly": WEEKLY,
                                                                          "department": globex.department.pk},
                                             format="json"))
    assert "department" in foreign
    assert admin_client.post("/api/v1/business-hours/", {"weekly": WEEKLY}, format="json").status_code == 201
    twice = field_errors(admin_client.post("/api/v1/business-hours/", {"weekly": WEEKLY}, format="json"))
    assert "department" in twice


def test_sla_policies_crud_and_validation(admin_client, agent_client, acme):
    response = admin_client.post("/api/v1/sla-policies/", {
        "name": "Gold", "targets": {"urgent": {"first_response": 30, "resolution": 240}},
        "customer_domains": ["BigCo.com"], "is_default": True,
    }, format="json")
    assert response.status_code == 201, response.content
    gold = response.json()
    assert gold["customer_domains"] == ["bigco.com"] and gold["due_soon_minutes"] == 30
    silver = admin_client.post("/api/v1/sla-policies/", {"name": "Silver", "targets": {}, "is_default": True},
                               format="json").json()
    # One default per company: the new one replaced the old.
    assert admin_client.get(f"/api/v1/sla-policies/{gold['id']}/").json()["is_default"] is False
    assert silver["is_default"] is True
    fields = field_errors(admin_client.post("/api/v1/sla-policies/", {
        "name": "Gold", "targets": {"critical": {"first_response": 5}, "low": {"first_response": 0}},
        "customer_domains": ["bigco.com", "not a domain"],
    }, format="json"))
    assert set(fields) == {"targets", "customer_domains"}
    assert "name" in field_errors(admin_client.post("/api/v1/sla-policies/", {"name": "Gold", "targets": {}},
                                                    format="json"))
    error_of(agent_client.post("/api/v1/sla-policies/", {"name": "Mine", "targets": {}}, format="json"), 403)
    assert len(results(agent_client.get("/api/v1/sla-policies/"))) == 2
    renamed = admin_client.patch(f"/api/v1/sla-policies/{gold['id']}/", {"name": "Platinum"}, format="json")
    assert renamed.json()["name"] == "Platinum"
    department = admin_client.patch(f"/api/v1/departments/{acme.department.pk}/", {"sla_policy": gold["id"]},
                                    format="json")
    assert department.json()["sla_policy"] == gold["id"]


def test_another_tenants_objects_are_not_found(admin_client, acme, globex):
    with tenant_context(globex.tenant):
        hours = business_hours.business_hours_create(actor=globex.admin, weekly=WEEKLY)
        policy = business_hours.sla_policy_create(actor=globex.admin, name="Theirs", targets={})
        template = replies.email_template_create(actor=globex.admin, kind="reply", subject="x", body="y")
        canned = replies.canned_response_create(actor=globex.admin, shortcut="theirs", title="T", body="B")
    for url in (f"/api/v1/business-hours/{hours.pk}/", f"/api/v1/sla-policies/{policy.pk}/",
                f"/api/v1/email-templates/{template.pk}/", f"/api/v1/canned-responses/{canned.pk}/"):
        error_of(admin_client.get(url), 404)
        error_of(admin_client.patch(url, {}, format="json"), 404)
        error_of(admin_client.delete(url), 404)
    error_of(admin_client.patch(f"/api/v1/departments/{acme.department.pk}/", {"sla_policy": policy.pk},
                                format="json"), 400)


def test_email_templates_refuse_unknown_placeholders(admin_client, acme):
    fields = field_errors(admin_client.post("/api/v1/email-templates/", {
        "kind": "acknowledgement", "subject": "About {{ticket_code}}", "body": "Hi {{customer_nme}}",
    }, format="json"))
    assert list(fields) == ["body"] and "{{customer_nme}}" in fields["body"][0]
    created = admin_client.post("/api/v1/email-templates/", {
        "kind": "acknowledgement", "department": acme.department.pk, "subject": "About {{ticket_code}}",
        "body": "Hi {{ customer_name }}",
    }, format="json")
    assert created.status_code == 201, created.content
    template_id = created.json()["id"]
    assert "subject" in field_errors(admin_client.patch(f"/api/v1/email-templates/{template_id}/",
                                                        {"subject": "{{oops}}"}, format="json"))
    assert "kind" in field_errors(admin_client.post("/api/v1/email-templates/", {
        "kind": "acknowledgement", "department": acme.department.pk, "subject": "Again", "body": "Again"},
        format="json"))


def test_canned_responses_are_searched_by_shortcut_and_title(admin_client, agent_client, acme):
    with tenant_context(acme.tenant):
        other = department_services.department_create(actor=acme.admin, name="Billing")
    for shortcut, title, department in (("refund", "Refund policy", None), ("reset", "Password reset", None),
                                        ("invoice", "Where is my invoice", other.pk)):
        response = admin_client.post("/api/v1/canned-responses/", {
            "shortcut": shortcut, "title": title, "body": "Hello {{customer_name}}", "department": department,
        }, format="json")
        assert response.status_code == 201, response.content
    found = results(agent_client.get("/api/v1/canned-responses/", {"q": "/RES"}))
    assert [r["shortcut"] for r in found] == ["reset"]
    by_title = results(agent_client.get("/api/v1/canned-responses/", {"q": "invoice"}))
    assert [r["shortcut"] for r in by_title] == ["invoice"]
    support_only = results(agent_client.get("/api/v1/canned-responses/", {"department": acme.department.pk}))
    assert {r["shortcut"] for r in support_only} == {"refund", "reset"}
    assert "shortcut" in field_errors(admin_client.post("/api/v1/canned-responses/", {
        "shortcut": "refund", "title": "Twice", "body": "x"}, format="json"))
    assert "shortcut" in field_errors(admin_client.post("/api/v1/canned-responses/", {
        "shortcut": "has spaces", "title": "x", "body": "x"}, format="json"))
    assert "body" in field_errors(admin_client.post("/api/v1/canned-responses/", {
        "shortcut": "bad", "title": "x", "body": "{{nope}}"}, format="json"))


@pytest.fixture
def standard(acme):
    with tenant_context(acme.tenant):
        policy = business_hours.sla_policy_create(
            actor=acme.admin, name="Standard",
            targets={"medium": {"first_response": 60, "resolution": 480}, "urgent": {"first_response": 10}})
        acme.department = department_services.department_update(actor=acme.admin, department=acme.department,
                                                                 sla_policy=policy)
    return policy


def test_tickets_show_sla_due_times_and_breach(admin_client, acme, standard):
    created = timezone.now().replace(microsecond=0) - timedelta(minutes=90)
    late = acme.ticket(created_at=created)
    body = admin_client.get(f"/api/v1/tickets/{late.pk}/").json()
    assert body["sla"]["policy_id"] == standard.pk
    assert body["sla"]["first_response"]["due_at"].startswith((created + timedelta(minutes=60)).isoformat()[:19])
    assert body["sla"]["breached"] is False  # not announced until the sweep runs
    from tickets.sla import sla_sweep

    with tenant_context(acme.tenant):
        sla_sweep()
    body = admin_client.get(f"/api/v1/tickets/{late.pk}/").json()
    assert body["sla"]["breached"] is True and body["sla"]["first_response"]["breached_at"] is not None
    no_policy = acme.ticket(department=None)
    assert admin_client.get(f"/api/v1/tickets/{no_policy.pk}/").json()["sla"] is None


def test_ticket_list_filters_and_orders_by_sla(admin_client, acme, standard):
    now = timezone.now().replace(microsecond=0)
    later = acme.ticket(created_at=now)
    sooner = acme.ticket(created_at=now - timedelta(minutes=30))
    urgent = acme.ticket(created_at=now, priority=4)
    none = acme.ticket(department=None)
    assert ids(admin_client.get("/api/v1/tickets/", {"ordering": "sla_due"})) == [urgent.pk, sooner.pk, later.pk]
    due_soon = ids(admin_client.get("/api/v1/tickets/", {"sla_due_before": (now + timedelta(minutes=45)).isoformat()}))
    assert set(due_soon) == {urgent.pk, sooner.pk}
    assert none.pk in ids(admin_client.get("/api/v1/tickets/", {"sla_policy": "none"}))
    assert ids(admin_client.get("/api/v1/tickets/", {"sla_breached": "true"})) == []
    assert "sla_due_before" in field_errors(admin_client.get("/api/v1/tickets/", {"sla_due_before": "soon"}))


@pytest.mark.parametrize("key", ["api_key", "agent_api_key"])
def test_ticket_list_query_count_is_fixed_with_sla_fields(client_with, acme, standard, key):
    client = client_with(getattr(acme, key))
    client.get("/api/v1/tickets/")

    def count(expected: int) -> int:
        with CaptureQueriesContext(connection) as context:
            response = client.get("/api/v1/tickets/", {"page_size": 100, "ordering": "sla_due"})
        rows = results(response)
        assert len(rows) == expected and all(r["sla"]["policy_id"] == standard.pk for r in rows)
        return len(context.captured_queries)

    for _ in range(3):
        acme.ticket(assignee=acme.agents[0])
    few = count(3)
    for _ in range(27):
        acme.ticket(assignee=acme.agents[0])
    assert count(30) == few


@pytest.mark.parametrize("url", ["/api/v1/business-hours/", "/api/v1/sla-policies/", "/api/v1/email-templates/",
                                 "/api/v1/canned-responses/"])
def test_settings_lists_cost_fixed_queries(admin_client, acme, url):
    counter = iter(range(1000))

    def add(n: int) -> None:
        with tenant_context(acme.tenant):
            for _ in range(n):
                i = next(counter)
                department = department_services.department_create(actor=acme.admin, name=f"Team {i}")
                business_hours.business_hours_create(actor=acme.admin, department=department, weekly=WEEKLY)
                business_hours.sla_policy_create(actor=acme.admin, name=f"P{i}", targets={})
                replies.email_template_create(actor=acme.admin, department=department, kind="reply",
                                              subject="s", body="b")
                replies.canned_response_create(actor=acme.admin, department=department, shortcut=f"c{i}",
                                               title="t", body="b")

    admin_client.get(url)
    add(2)
    with CaptureQueriesContext(connection) as few:
        assert len(results(admin_client.get(url, {"page_size": 100}))) == 2
    add(10)
    with CaptureQueriesContext(connection) as many:
        assert len(results(admin_client.get(url, {"page_size": 100}))) == 12
    assert len(few.captured_queries) == len(many.captured_queries)
