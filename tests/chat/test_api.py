"""The agent's chats over the API, with an agent key: the same rules as the chat panel."""

from __future__ import annotations

import pytest

from helpdesk.tenancy import tenant_context
from tests.chat.conftest import fresh_chat, route_and_accept, start_chat
from tests.routing.routing_helpers import client_for
from tickets.models import Status


@pytest.fixture
def accepted(acme, widget):
    started = start_chat(acme, widget, "Help with my invoice", name="Ivo")
    route_and_accept(started, agent=acme.agents[0])
    return started


def test_an_agent_key_lists_replies_to_and_ends_its_agents_chat(acme, accepted):
    api = client_for(acme.agent_api_key)  # acts as Agent 1
    listed = api.get("/api/v1/chats/")
    assert listed.status_code == 200
    (chat,) = listed.json()["results"]
    assert (chat["ticket_id"], chat["customer"], chat["messages"][0]["body"]) == (
        accepted.ticket_id, "Ivo", "Help with my invoice")
    sent = api.post(f"/api/v1/chats/{accepted.ticket_id}/messages/", {"body": "On it."}, format="json")
    assert sent.status_code == 201 and sent.json()["kind"] == "agent"
    assert api.post(f"/api/v1/chats/{accepted.ticket_id}/end/").status_code == 204
    assert api.post(f"/api/v1/chats/{accepted.ticket_id}/end/").status_code == 409
    with tenant_context(acme.tenant):
        assert fresh_chat(acme, accepted).ticket.status == Status.RESOLVED


def test_bad_input_is_a_400_with_fields(acme, accepted):
    api = client_for(acme.agent_api_key)
    empty = api.post(f"/api/v1/chats/{accepted.ticket_id}/messages/", {"body": ""}, format="json")
    assert empty.status_code == 400 and "body" in empty.json()["error"]["fields"]
    nowhere = api.post(f"/api/v1/chats/{accepted.ticket_id}/transfer/", {}, format="json")
    assert nowhere.status_code == 400 and "target" in nowhere.json()["error"]["fields"]


def test_another_tenants_key_and_an_admin_key_without_agent_get_404(acme, globex, accepted):
    for key in (globex.agent_api_key, globex.api_key, acme.api_key):
        api = client_for(key)
        assert api.get(f"/api/v1/chats/{accepted.ticket_id}/").status_code == 404
        assert api.post(f"/api/v1/chats/{accepted.ticket_id}/messages/", {"body": "x"},
                        format="json").status_code == 404
        assert api.get("/api/v1/chats/").json()["results"] == []
