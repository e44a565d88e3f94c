"""Settings pages for business hours, SLA policies, email templates and canned responses, and the SLA panel
and canned-response search on the ticket page."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone

from departments import business_hours, replies
from departments import services as department_services
from departments.models import BusinessHours, EmailTemplate, SlaPolicy
from helpdesk.tenancy import tenant_context


def test_business_hours_grid_saves_split_and_overnight_shifts_and_holidays(sign_in, acme):
    client = sign_in(acme)
    page = client.get(f"/settings/business-hours/new/?department={acme.department.pk}")
    assert page.status_code == 200 and b"Weekly shifts" in page.content
    response = client.post(f"/settings/business-hours/new/?department={acme.department.pk}", {
        "time_zone": "Europe/Berlin", "out_of_hours_reply": "on",
        "mon_1_start": "09:00", "mon_1_end": "12:00", "mon_2_start": "13:00", "mon_2_end": "17:00",
        "fri_1_start": "22:00", "fri_1_end": "06:00",
        "holidays": "2025-12-25 Christmas (yearly)\n2025-05-02 Move day",
    })
    assert response.status_code == 302, response.content[:2000]
    with tenant_context(acme.tenant):
        hours = BusinessHours.objects.get(department=acme.department)
        assert hours.weekly == {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], "fri": [["22:00", "06:00"]]}
        assert hours.holidays == [{"date": "2025-05-02", "name": "Move day", "recurring": False},
                                  {"date": "2025-12-25", "name": "Christmas", "recurring": True}]
        assert hours.out_of_hours_reply is True
    edit = client.get(f"/settings/business-hours/{hours.pk}/")
    assert b'value="13:00"' in edit.content and b"Christmas (yearly)" in edit.content
    listing = client.get("/settings/business-hours/")
    assert b"Mon 09:00" in listing.content and b"Always open" in listing.content


def test_business_hours_form_errors_are_shown_not_500(sign_in, acme):
    client = sign_in(acme)
    response = client.post("/settings/business-hours/new/", {
        "time_zone": "UTC", "mon_1_start": "09:00", "mon_1_end": "12:00", "mon_2_start": "11:00",
        "mon_2_end": "13:00", "holidays": "Christmas",
    })
    assert response.status_code == 400
    assert b"mon: shifts overlap." in response.content or b"start with a date" in response.content
    with tenant_context(acme.tenant):
        assert not BusinessHours.objects.exists()


def test_agents_cannot_open_the_settings_pages(sign_in, acme):
    client = sign_in(acme, acme.agents[0])
    for url in ("/settings/business-hours/", "/settings/sla/", "/settings/email-templates/",
                "/settings/canned-responses/"):
        assert client.get(url).status_code in (302, 403, 404)


def test_sla_policy_form_saves_targets_per_priority(sign_in, acme):
    client = sign_in(acme)
    response = client.post("/settings/sla/new/", {
        "name": "Gold", "due_soon_minutes": "15", "customer_domains": "BigCo.com, partner.org",
        "urgent_first_response": "30", "urgent_resolution": "240", "medium_first_response": "120",
    })
    assert response.status_code == 302, response.content[:2000]
    with tenant_context(acme.tenant):
        policy = SlaPolicy.objects.get(name="Gold")
    assert policy.targets == {"urgent": {"first_response": 30, "resolution": 240}, "medium": {"first_response": 120}}
    assert policy.customer_domains == ["bigco.com", "partner.org"]
    bad = client.post("/settings/sla/new/", {"name": "Gold", "due_soon_minutes": "15",
                                              "customer_domains": "not a domain"})
    assert bad.status_code == 400 and b"not an email domain" in bad.content
    # The department page sets its default policy.
    form = client.get(f"/settings/departments/{acme.department.pk}/")
    assert b"SLA policy" in form.content and b"Gold" in form.content


def test_email_template_preview_fills_a_sample_ticket_and_unknown_placeholders_are_refused(sign_in, acme):
    with tenant_context(acme.tenant):
        acme.department = department_services.department_update(
            actor=acme.admin, department=acme.department, signature="-- The Support team")
    client = sign_in(acme)
    data = {"kind": "acknowledgement", "department": acme.department.pk, "subject": "[{{ticket_code}}] Got it",
            "body": "Hi {{customer_name}}, {{department}} answers {{expected_response}}.\n{{signature}}",
            "enabled": "on"}
    preview = client.post("/settings/email-templates/new/", {**data, "preview": "1"})
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "[7KQ4-M2XP] Got it" in html
    assert "Hi Jane Doe, Support answers within 4 business hours." in html and "-- The Support team" in html
    with tenant_context(acme.tenant):
        assert not EmailTemplate.objects.exists()  # a preview saves nothing
    refused = client.post("/settings/email-templates/new/", {**data, "body": "Hi {{customer}}"})
    assert refused.status_code == 400 and "Unknown placeholder {{customer}}" in refused.content.decode()
    saved = client.post("/settings/email-templates/new/", data)
    assert saved.status_code == 302
    listing = client.get("/settings/email-templates/")
    assert b"Acknowledgement of a new ticket" in listing.content


def test_the_templates_page_documents_the_rating_link_and_suggests_texts_with_it(sign_in, acme):
    client = sign_in(acme)
    assert "{{rating_link}}" in client.get("/settings/email-templates/new/").content.decode()
    listing = client.get("/settings/email-templates/").content.decode()
    assert 'href="/settings/email-templates/new/?kind=satisfaction"' in listing
    form = client.get("/settings/email-templates/new/", {"kind": "satisfaction"}).content.decode()
    assert "{{rating_link}}" in form.split('name="body"', 1)[1].split("</textarea>", 1)[0]


def test_canned_responses_page_lists_and_searches(sign_in, acme):
    client = sign_in(acme)
    assert client.post("/settings/canned-responses/new/", {"shortcut": "refund", "title": "Refund policy",
                                                           "body": "Hello {{customer_name}}"}).status_code == 302
    assert client.post("/settings/canned-responses/new/", {"shortcut": "reset", "title": "Password reset",
                                                           "body": "Reset it."}).status_code == 302
    found = client.get("/settings/canned-responses/", {"q": "refu"}).content.decode()
    assert "/refund" in found and "/reset" not in found
    taken = client.post("/settings/canned-responses/new/", {"shortcut": "refund", "title": "Again", "body": "x"})
    assert taken.status_code == 400 and "This shortcut is taken." in taken.content.decode()


def test_ticket_page_shows_sla_due_and_remaining_time(sign_in, acme):
    with tenant_context(acme.tenant):
        policy = business_hours.sla_policy_create(actor=acme.admin, name="Standard",
                                                  targets={"medium": {"first_response": 60, "resolution": 480}})
        acme.department = department_services.department_update(actor=acme.admin, department=acme.department,
                                                                 sla_policy=policy)
    ticket = acme.ticket(created_at=timezone.now() - timedelta(minutes=90))
    html = sign_in(acme).get(f"/tickets/{ticket.code}/").content.decode()
    assert "SLA · Standard" in html
    assert 'data-sla-target="first_response"' in html and "overdue by 30 min" in html
    assert 'data-sla-target="resolution"' in html
    assert re.search(r"6 h (29|30) min left", html)  # a second or so passed since the ticket was made
    assert "data-canned-url" in html and "js/canned.js" in html


def test_canned_search_on_a_ticket_fills_placeholders_and_hides_other_tenants(sign_in, acme, globex):
    with tenant_context(acme.tenant):
        billing = department_services.department_create(actor=acme.admin, name="Billing")
        replies.canned_response_create(actor=acme.admin, shortcut="hello", title="Greeting",
                                       body="Hello {{customer_name}}, this is {{agent_name}} about {{ticket_code}}.")
        replies.canned_response_create(actor=acme.admin, shortcut="invoice", title="Invoices", body="x",
                                       department=billing)
    ticket = acme.ticket()
    client = sign_in(acme, acme.agents[0])
    found = client.get(f"/tickets/{ticket.code}/canned-responses/", {"q": "hel"}).json()["results"]
    assert [r["shortcut"] for r in found] == ["hello"]
    assert found[0]["body"] == f"Hello {ticket.contact.display_name}, this is Acme Agent 1 about {ticket.code}."
    everything = client.get(f"/tickets/{ticket.code}/canned-responses/").json()["results"]
    assert [r["shortcut"] for r in everything] == ["hello"]  # Billing's response is not for Support's ticket
    outsider = sign_in(globex).get(f"/tickets/{ticket.code}/canned-responses/")
    assert outsider.status_code == 404


def test_inbox_sorts_by_sla_due(sign_in, acme):
    with tenant_context(acme.tenant):
        policy = business_hours.sla_policy_create(actor=acme.admin, name="S",
                                                  targets={"medium": {"first_response": 60}})
        acme.department = department_services.department_update(actor=acme.admin, department=acme.department,
                                                                 sla_policy=policy)
    later = acme.ticket(subject="Later one")
    sooner = acme.ticket(subject="Sooner one", created_at=timezone.now() - timedelta(minutes=30))
    without = acme.ticket(subject="No SLA one", department=None)
    html = sign_in(acme).get("/", {"sort": "sla_due"}).content.decode()
    assert html.index(sooner.subject) < html.index(later.subject)
    assert without.subject not in html
    assert "SLA due" in html
