"""Whatever is typed or forged into a page, the answer is a page with errors or a 404, never a server error."""

from __future__ import annotations

import pytest

HUGE = "99999999999999999999999"


@pytest.mark.parametrize(
    "url",
    [
        f"/settings/agents/{HUGE}/",
        f"/settings/departments/{HUGE}/",
        f"/attachments/{HUGE}/",
        "/tickets/" + "X" * 300 + "/",
        f"/?view=department&department={HUGE}",
    ],
)
def test_out_of_range_ids_are_not_found(acme, admin_client, url):
    assert admin_client.get(url).status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        f"assignee={HUGE}", f"department={HUGE}", "q=%00", "tag=%00", "cursor=%00", "status=new&status=open",
        "priority=" + "x" * 5000,
    ],
)
def test_forged_inbox_parameters_are_reported(acme, admin_client, query):
    acme.ticket()
    assert admin_client.get(f"/?{query}").status_code == 200


def test_forged_ticket_forms_are_reported(acme, admin_client):
    ticket = acme.ticket()
    update = admin_client.post(f"/tickets/{ticket.code}/update/", {
        "status": "postponed", "postponed_until": "next tuesday", "priority": "abc", "department": HUGE,
        "assignee": "x", "tags": "a\x00b",
    })
    assert update.status_code == 400
    reply = admin_client.post(f"/tickets/{ticket.code}/reply/", {"reply-body": "nul \x00 byte"})
    assert reply.status_code == 400
    new = admin_client.post("/tickets/new/", {"subject": "x" * 300, "body": "b", "contact_email": "not-an-email",
                                              "channel": "pigeon", "priority": "7"})
    assert new.status_code == 400


def test_forged_settings_forms_are_reported(acme, admin_client):
    department = admin_client.post(f"/settings/departments/{acme.department.pk}/", {
        "name": "", "leader": HUGE, "support_email": "x",
    })
    assert department.status_code == 400
    agent = admin_client.post(f"/settings/agents/{acme.agents[0].pk}/", {
        "display_name": "x" * 500, "role": "emperor", "status": "sleeping", "chat_priority": "high",
    })
    assert agent.status_code == 400
    key = admin_client.post("/settings/api-keys/", {"name": "", "role": "agent", "agent": HUGE})
    assert key.status_code == 400


def test_forged_company_and_status_switches_are_refused(acme, agent_client):
    assert agent_client.post("/tenants/", {"tenant": HUGE}).status_code == 404
    assert agent_client.post("/settings/status/", {"status": "\x00"}).status_code == 302
