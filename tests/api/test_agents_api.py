"""Agents over the API: admins add and edit them; an agent may set only their own status."""

from __future__ import annotations

from departments import services
from departments.models import AgentProfile
from helpdesk.models import Membership
from helpdesk.tenancy import tenant_context
from tests.api.helpers import error_of, field_errors, ids, results

URL = "/api/v1/agents/"


def detail(agent_id: int) -> str:
    return f"{URL}{agent_id}/"


def test_agents_are_listed_with_role_and_departments(admin_client, acme):
    rows = {row["id"]: row for row in results(admin_client.get(URL))}

    assert set(rows) == {acme.admin_agent.pk, acme.agents[0].pk, acme.agents[1].pk}
    agent = rows[acme.agents[0].pk]
    assert agent["email"] == "agent1@acme.test"
    assert agent["role"] == "agent"
    assert agent["status"] == "online"
    assert agent["departments"] == [{"id": acme.department.pk, "name": "Support"}]
    assert rows[acme.admin_agent.pk]["role"] == "owner"


def test_agents_filter_by_status_role_and_department(admin_client, acme):
    with tenant_context(acme.tenant):
        services.agent_update(actor=acme.admin, agent=acme.agents[1], status="away")
    a1, a2 = acme.agents

    assert ids(admin_client.get(URL, {"status": "away"})) == [a2.pk]
    assert set(ids(admin_client.get(URL, {"role": "agent"}))) == {a1.pk, a2.pk}
    assert ids(admin_client.get(URL, {"role": "owner"})) == [acme.admin_agent.pk]
    assert ids(admin_client.get(URL, {"department": acme.department.pk})) == [a1.pk]
    assert set(ids(admin_client.get(URL, {"department": "none"}))) == {acme.admin_agent.pk, a2.pk}


def test_invalid_agent_filters_are_400s(admin_client, acme):
    assert list(field_errors(admin_client.get(URL, {"status": "asleep"}))) == ["status"]
    assert list(field_errors(admin_client.get(URL, {"role": "boss"}))) == ["role"]
    assert list(field_errors(admin_client.get(URL, {"department": "x"}))) == ["department"]


def test_an_admin_adds_an_agent(admin_client, acme):
    response = admin_client.post(URL, {
        "email": "New.Person@Example.com", "display_name": "New Person", "role": "admin",
        "chat_priority": 10, "max_chats": 5, "takes_calls": True,
    }, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["email"] == "new.person@example.com"
    assert body["role"] == "admin"
    assert (body["chat_priority"], body["max_chats"], body["takes_calls"]) == (10, 5, True)
    assert body["status"] == "offline" and body["departments"] == []


def test_adding_an_existing_member_or_bad_values_is_refused(admin_client, acme):
    again = admin_client.post(URL, {"email": "agent1@acme.test", "display_name": "Twice"}, format="json")
    bad = admin_client.post(URL, {"email": "not-an-email", "display_name": "X", "chat_priority": 0,
                                  "max_calls": 11, "role": "king"}, format="json")
    unknown = admin_client.post(URL, {"email": "a@example.com", "display_name": "A", "password": "x"},
                                format="json")

    assert list(field_errors(again)) == ["email"]
    assert set(field_errors(bad)) == {"email", "chat_priority", "max_calls", "role"}
    assert list(field_errors(unknown)) == ["password"]


def test_an_agent_key_cannot_add_agents(agent_client, acme):
    response = agent_client.post(URL, {"email": "x@example.com", "display_name": "X"}, format="json")

    assert error_of(response, 403)["code"] == "permission_denied"
    assert not Membership.objects.filter(user__email="x@example.com").exists()


def test_an_admin_edits_an_agents_profile_and_role(admin_client, acme):
    agent = acme.agents[1]

    response = admin_client.patch(detail(agent.pk), {
        "display_name": "Agent Two", "chat_priority": 1, "max_chats": 0, "takes_tickets": False, "role": "admin",
    }, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["display_name"], body["chat_priority"], body["max_chats"], body["takes_tickets"], body["role"]) == (
        "Agent Two", 1, 0, False, "admin",
    )


def test_profile_limits_are_enforced(admin_client, acme):
    response = admin_client.patch(detail(acme.agents[1].pk), {"chat_priority": 101, "max_chats": -1}, format="json")

    assert set(field_errors(response)) == {"chat_priority", "max_chats"}


def test_an_agent_may_change_their_own_status_only(agent_client, acme):
    me, colleague = acme.agents

    own_status = agent_client.patch(detail(me.pk), {"status": "break"}, format="json")
    own_priority = agent_client.patch(detail(me.pk), {"chat_priority": 1}, format="json")
    own_role = agent_client.patch(detail(me.pk), {"role": "admin"}, format="json")
    colleagues_status = agent_client.patch(detail(colleague.pk), {"status": "offline"}, format="json")

    assert own_status.status_code == 200 and own_status.json()["status"] == "break"
    for refused in (own_priority, own_role, colleagues_status):
        assert error_of(refused, 403)["code"] == "permission_denied"
    with tenant_context(acme.tenant):
        assert AgentProfile.objects.get(pk=colleague.pk).status == "online"
        assert AgentProfile.objects.get(pk=me.pk).chat_priority == 50
    assert Membership.objects.get(pk=me.membership_id).role == "agent"


def test_a_missing_agent_is_a_404(admin_client, acme):
    assert error_of(admin_client.get(detail(999_999_999)), 404)["code"] == "not_found"
