"""Settings pages: departments with their members, agents, and each agent's own presence status."""

from __future__ import annotations

import pytest

from departments import services as department_services
from departments.models import AgentProfile, Department, DepartmentMember
from helpdesk.models import Membership, Role
from helpdesk.tenancy import tenant_context
from tests.factories import PASSWORD
from tickets import services as ticket_services
from tickets.models import Status

SETTINGS_PAGES = ["/settings/", "/settings/departments/", "/settings/departments/new/", "/settings/agents/",
                  "/settings/agents/new/", "/settings/api-keys/"]


def _member_ids(world, department) -> set[int]:
    with tenant_context(world.tenant):
        return set(DepartmentMember.objects.filter(department=department).values_list("agent_id", flat=True))


@pytest.mark.parametrize("url", SETTINGS_PAGES)
def test_settings_pages_are_forbidden_to_agents(acme, agent_client, url):
    response = agent_client.get(url)
    assert response.status_code == 403
    assert "You may not open this page" in response.content.decode()


def test_settings_actions_are_forbidden_to_agents(acme, agent_client):
    department = acme.department
    agent = acme.agents[1]
    posts = [
        ("/settings/departments/new/", {"name": "Sneaky"}),
        (f"/settings/departments/{department.pk}/", {"name": "Renamed"}),
        (f"/settings/departments/{department.pk}/members/add-all/", {}),
        (f"/settings/departments/{department.pk}/members/remove-all/", {}),
        (f"/settings/departments/{department.pk}/members/{agent.pk}/add/", {}),
        (f"/settings/agents/{agent.pk}/", {"display_name": "Hacked"}),
    ]
    for url, data in posts:
        assert agent_client.post(url, data).status_code == 403, url
    with tenant_context(acme.tenant):
        assert Department.objects.get(pk=department.pk).name == "Support"
        assert not Department.objects.filter(name="Sneaky").exists()
        assert AgentProfile.objects.get(pk=agent.pk).display_name == "Acme Agent 2"
    assert _member_ids(acme, department) == {acme.agents[0].pk}


def test_header_shows_settings_only_to_admins(acme, admin_client, agent_client):
    assert 'href="/settings/departments/"' in admin_client.get("/").content.decode()
    agent_page = agent_client.get("/").content.decode()
    assert "/settings/departments/" not in agent_page
    assert "/settings/api-keys/" not in agent_page


def test_department_list_shows_ticket_and_member_counts(acme, admin_client):
    acme.ticket()
    acme.ticket()
    resolved = acme.ticket()
    with tenant_context(acme.tenant):
        ticket_services.ticket_update(actor=acme.admin, ticket=resolved, status=Status.RESOLVED)
    response = admin_client.get("/settings/departments/")
    assert response.status_code == 200
    page = response.content.decode()
    row = page[page.index(f'data-department="{acme.department.pk}"'):].split("</tr>")[0]
    assert '<td class="num" data-label="Agents">1</td>' in row
    assert '<td class="num" data-label="New">2</td>' in row
    assert '<td class="num" data-label="Open">0</td>' in row
    assert '<td class="num" data-label="Resolved">1</td>' in row


def test_admin_creates_a_department(acme, admin_client):
    response = admin_client.post("/settings/departments/new/", {
        "name": "Billing", "description": "Invoices", "to_solve_enabled": "", "leader": acme.agents[1].pk,
        "support_email": "billing@acme.test", "signature": "-- Billing team",
    })
    with tenant_context(acme.tenant):
        department = Department.objects.get(name="Billing")
    assert response.status_code == 302
    assert response["Location"] == f"/settings/departments/{department.pk}/"
    assert department.to_solve_enabled is False
    assert department.leader_id == acme.agents[1].pk
    assert department.support_email == "billing@acme.test"


def test_department_form_shows_field_errors(acme, admin_client):
    response = admin_client.post("/settings/departments/new/", {"name": "Support", "support_email": "nope"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter a valid email address." in page
    duplicate = admin_client.post("/settings/departments/new/", {"name": "Support"})
    assert duplicate.status_code == 400
    assert "A department with this name already exists." in duplicate.content.decode()


def test_leader_from_another_tenant_is_refused(acme, globex, admin_client):
    response = admin_client.post("/settings/departments/new/", {"name": "Billing", "leader": globex.agents[0].pk})
    assert response.status_code == 400
    with tenant_context(acme.tenant):
        assert not Department.objects.filter(name="Billing").exists()


def test_admin_edits_a_department(acme, admin_client):
    response = admin_client.post(f"/settings/departments/{acme.department.pk}/", {
        "name": "Customer Care", "description": "", "leader": "", "support_email": "", "signature": "Bye",
        "to_solve_enabled": "on",
    })
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        department = Department.objects.get(pk=acme.department.pk)
    assert (department.name, department.signature, department.to_solve_enabled) == ("Customer Care", "Bye", True)


def test_agents_are_added_and_removed_one_by_one(acme, admin_client):
    department = acme.department
    page = admin_client.get(f"/settings/departments/{department.pk}/").content.decode()
    assert f'action="/settings/departments/{department.pk}/members/{acme.agents[1].pk}/add/"' in page
    assert f'action="/settings/departments/{department.pk}/members/{acme.agents[0].pk}/remove/"' in page

    admin_client.post(f"/settings/departments/{department.pk}/members/{acme.agents[1].pk}/add/")
    assert _member_ids(acme, department) == {acme.agents[0].pk, acme.agents[1].pk}
    response = admin_client.post(f"/settings/departments/{department.pk}/members/{acme.agents[0].pk}/remove/")
    assert response.status_code == 302
    assert _member_ids(acme, department) == {acme.agents[1].pk}


def test_add_all_agents_then_remove_all(acme, admin_client):
    department = acme.department
    everyone = {acme.admin_agent.pk, *(agent.pk for agent in acme.agents)}
    response = admin_client.post(f"/settings/departments/{department.pk}/members/add-all/", follow=True)
    assert _member_ids(acme, department) == everyone
    assert "2 agents added to Support." in response.content.decode()
    response = admin_client.post(f"/settings/departments/{department.pk}/members/remove-all/", follow=True)
    assert _member_ids(acme, department) == set()
    assert "3 agents removed from Support." in response.content.decode()


def test_another_tenants_department_and_agents_are_not_found(acme, globex, admin_client):
    theirs = globex.department
    their_agent = globex.agents[0]
    assert admin_client.get(f"/settings/departments/{theirs.pk}/").status_code == 404
    assert admin_client.post(f"/settings/departments/{theirs.pk}/", {"name": "Mine now"}).status_code == 404
    assert admin_client.post(f"/settings/departments/{theirs.pk}/members/remove-all/").status_code == 404
    assert admin_client.post(f"/settings/departments/{theirs.pk}/members/add-all/").status_code == 404
    # Their agent into our department, and our agent into theirs.
    assert admin_client.post(
        f"/settings/departments/{acme.department.pk}/members/{their_agent.pk}/add/").status_code == 404
    assert admin_client.post(
        f"/settings/departments/{theirs.pk}/members/{acme.agents[1].pk}/add/").status_code == 404
    assert admin_client.get(f"/settings/agents/{their_agent.pk}/").status_code == 404
    assert admin_client.post(f"/settings/agents/{their_agent.pk}/", {"display_name": "x"}).status_code == 404
    with tenant_context(globex.tenant):
        assert Department.objects.get(pk=theirs.pk).name == "Support"
        assert set(DepartmentMember.objects.filter(department=theirs).values_list("agent_id", flat=True)) == {
            globex.agents[0].pk}
    assert _member_ids(acme, acme.department) == {acme.agents[0].pk}


def test_agent_list_shows_agents_and_their_departments(acme, admin_client):
    page = admin_client.get("/settings/agents/").content.decode()
    row = page[page.index(f'data-agent="{acme.agents[0].pk}"'):].split("</tr>")[0]
    assert "Acme Agent 1" in row
    assert "agent1@acme.test" in row
    assert "Support" in row


def _agent_form(agent: AgentProfile, **overrides) -> dict:
    data = {"display_name": agent.display_name, "role": Role.AGENT, "status": agent.status,
            "chat_priority": agent.chat_priority, "max_chats": agent.max_chats, "call_priority": agent.call_priority,
            "max_calls": agent.max_calls, "takes_tickets": "on", "takes_chats": "on"}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_admin_edits_an_agent_profile_and_role(acme, admin_client):
    agent = acme.agents[1]
    response = admin_client.post(f"/settings/agents/{agent.pk}/", _agent_form(
        agent, display_name="Zoe", role=Role.ADMIN, status="away", chat_priority=5, max_chats=7,
        call_priority=9, max_calls=2, takes_chats=None, takes_calls="on",
    ))
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        saved = AgentProfile.objects.select_related("membership").get(pk=agent.pk)
    assert (saved.display_name, saved.status, saved.chat_priority, saved.max_chats) == ("Zoe", "away", 5, 7)
    assert (saved.call_priority, saved.max_calls) == (9, 2)
    assert (saved.takes_tickets, saved.takes_chats, saved.takes_calls) == (True, False, True)
    assert saved.membership.role == Role.ADMIN


def test_agent_profile_limits_are_field_errors(acme, admin_client):
    agent = acme.agents[1]
    response = admin_client.post(f"/settings/agents/{agent.pk}/", _agent_form(agent, chat_priority=0, max_calls=11))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Ensure this value is greater than or equal to 1." in page
    assert "Ensure this value is less than or equal to 10." in page


def test_only_an_owner_grants_the_owner_role(acme, admin_client, sign_in):
    promoted = acme.agents[0]
    with tenant_context(acme.tenant):
        department_services.agent_update(actor=acme.admin, agent=promoted, role=Role.ADMIN)
    as_plain_admin = sign_in(acme, promoted)
    response = as_plain_admin.post(f"/settings/agents/{acme.agents[1].pk}/",
                                   _agent_form(acme.agents[1], role=Role.OWNER))
    assert response.status_code == 400
    assert "Only an owner can grant or take away the owner role." in response.content.decode()
    assert Membership.objects.get(pk=acme.agents[1].membership_id).role == Role.AGENT


def test_admin_adds_an_agent_who_can_then_sign_in(acme, admin_client, client):
    response = admin_client.post("/settings/agents/new/", {
        "email": "New.Person@Acme.test", "display_name": "New Person", "role": Role.AGENT,
        "password": "a-long-password-1",
    })
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        agent = AgentProfile.objects.select_related("user").get(display_name="New Person")
    assert agent.user.email == "new.person@acme.test"
    assert client.post("/login/", {"username": "new.person@acme.test", "password": "a-long-password-1"}
                       ).status_code == 302
    assert client.get("/").status_code == 200


def test_adding_an_agent_twice_or_with_a_short_password_shows_errors(acme, admin_client):
    duplicate = admin_client.post("/settings/agents/new/", {
        "email": "agent1@acme.test", "display_name": "Again", "role": Role.AGENT, "password": PASSWORD,
    })
    assert duplicate.status_code == 400
    assert "Already a member of this company." in duplicate.content.decode()
    short = admin_client.post("/settings/agents/new/", {
        "email": "x@acme.test", "display_name": "X", "role": Role.AGENT, "password": "short",
    })
    assert short.status_code == 400
    assert "This password is too short." in short.content.decode()


def test_every_agent_sets_their_own_presence(acme, agent_client):
    response = agent_client.post("/settings/status/", {"status": "break", "next": "/?view=mine"})
    assert response.status_code == 302
    assert response["Location"] == "/?view=mine"
    with tenant_context(acme.tenant):
        assert AgentProfile.objects.get(pk=acme.agents[0].pk).status == "break"
    assert '<option value="break" selected>' in agent_client.get("/").content.decode()


def test_presence_rejects_unknown_status_and_foreign_redirects(acme, agent_client):
    response = agent_client.post("/settings/status/", {"status": "asleep", "next": "https://evil.example/"})
    assert response["Location"] == "/"
    with tenant_context(acme.tenant):
        assert AgentProfile.objects.get(pk=acme.agents[0].pk).status == "online"
