"""HTTP: the widget's public endpoints (key, site, rate limits, field errors), the agent's chat endpoints (404
for anyone else's chat), the chat widget settings pages and the demo page."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from departments import services as department_services
from departments.models import AgentStatus
from helpdesk.tenancy import tenant_context
from routing.models import ChatWidget
from tests.chat.conftest import SHOP, fresh_chat, route_and_accept, start_chat
from tests.web.conftest import signed_in as signed_in_client
from tests.web.helpers import flashes
from tickets.models import Channel, Status, Ticket, TicketEvent
from tickets.templatetags.ticket_ui import event_line


def widget_post(client: Client, path: str, key: str, data=None, *, origin: str = SHOP, raw: str | None = None):
    body = raw if raw is not None else json.dumps(data or {})
    return client.post(f"/widget/api/{path}/?key={key}", data=body, content_type="application/json",
                       HTTP_ORIGIN=origin)


def agent_client(world, agent) -> Client:
    return signed_in_client(world, agent.user)


def post_json(client: Client, url: str, data=None):
    return client.post(url, data=json.dumps(data or {}), content_type="application/json")


# --- the widget's endpoints ---------------------------------------------------------------------------------

def test_the_widget_says_whether_anyone_can_chat_and_only_its_sites_may_read_the_answer(acme, widget, client):
    answer = widget_post(client, "status", widget.key)
    assert answer.status_code == 200 and answer.json() == {"available": True, "name": "Website"}
    assert answer["Access-Control-Allow-Origin"] == SHOP
    foreign = widget_post(client, "status", widget.key, origin="https://evil.example")
    assert foreign.status_code == 404 and "Access-Control-Allow-Origin" not in foreign
    assert widget_post(client, "status", "hdw_unknown").status_code == 404
    preflight = client.options(f"/widget/api/chats/?key={widget.key}", HTTP_ORIGIN=SHOP)
    assert preflight.status_code == 204 and preflight["Access-Control-Allow-Origin"] == SHOP
    assert client.get(f"/widget/api/status/?key={widget.key}", HTTP_ORIGIN=SHOP).status_code == 405


def test_an_inactive_widget_is_not_available(acme, widget, client):
    with tenant_context(acme.tenant):
        ChatWidget.objects.filter(pk=widget.pk).update(active=False)
    assert widget_post(client, "status", widget.key).status_code == 404


def test_starting_a_chat_returns_the_chat_and_the_visitors_token(acme, widget, client):
    answer = widget_post(client, "chats", widget.key, {"name": "Ana", "email": "ana@example.com",
                                                        "message": "Hi there"})
    assert answer.status_code == 201, answer.content
    data = answer.json()
    assert set(data) == {"chat", "token", "ticket"} and len(data["token"]) >= 40
    with tenant_context(acme.tenant):
        ticket = Ticket.objects.get(code=data["ticket"])
        assert (ticket.channel, ticket.contact.email) == (Channel.CHAT, "ana@example.com")


@pytest.mark.parametrize(("payload", "field"), [
    ({"message": ""}, "message"),
    ({"message": "Hi", "email": "nope"}, "email"),
    ({"message": ["not", "text"]}, "message"),
    ({"message": "x" * 5001}, "message"),
])
def test_bad_chat_input_is_a_400_with_field_messages(acme, widget, client, payload, field):
    answer = widget_post(client, "chats", widget.key, payload)
    assert answer.status_code == 400
    assert field in answer.json()["error"]["fields"]


def test_a_body_that_is_not_json_is_a_400(acme, widget, client):
    answer = widget_post(client, "chats", widget.key, raw="{nope")
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_json"


def test_nobody_online_turns_the_chat_into_a_left_message(acme, widget, client):
    with tenant_context(acme.tenant):
        department_services.agent_update(actor=acme.admin, agent=acme.agents[0], status=AgentStatus.OFFLINE)
    assert widget_post(client, "status", widget.key).json()["available"] is False
    refused = widget_post(client, "chats", widget.key, {"message": "Hello?"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "nobody_available"
    missing = widget_post(client, "messages", widget.key, {"message": "Call me"})
    assert missing.status_code == 400 and "email" in missing.json()["error"]["fields"]
    left = widget_post(client, "messages", widget.key, {"message": "Call me", "email": "bo@example.com"})
    assert left.status_code == 201
    with tenant_context(acme.tenant):
        ticket = Ticket.objects.get(code=left.json()["ticket"])
        assert (ticket.channel, ticket.department_id) == (Channel.CONTACT_FORM, acme.department.pk)


def test_chat_starts_are_limited_per_address(acme, widget, client):
    answers = [widget_post(client, "chats", widget.key, {"message": f"Hi {n}"}).status_code for n in range(6)]
    assert answers == [201] * 5 + [429]
    limited = widget_post(client, "chats", widget.key, {"message": "again"})
    assert limited.json()["error"]["code"] == "rate_limited"
    other_address = client.post(f"/widget/api/chats/?key={widget.key}", data=json.dumps({"message": "Hi"}),
                                content_type="application/json", HTTP_ORIGIN=SHOP, REMOTE_ADDR="10.0.0.9")
    assert other_address.status_code == 201


def test_left_messages_are_limited_per_address(acme, widget, client):
    codes = [widget_post(client, "messages", widget.key, {"message": "m", "email": "a@b.example"}).status_code
             for _ in range(4)]
    assert codes == [201, 201, 201, 429]


# --- the agent's chat endpoints ------------------------------------------------------------------------------

@pytest.fixture
def accepted(acme, widget):
    started = start_chat(acme, widget, "Need help", name="Visitor Vera")
    route_and_accept(started, agent=acme.agents[0])
    return started


def test_the_agent_loads_running_chats_with_their_transcripts(acme, accepted):
    client = agent_client(acme, acme.agents[0])
    answer = client.get("/chats/")
    assert answer.status_code == 200
    (chat,) = answer.json()["chats"]
    assert (chat["ticket_id"], chat["customer"]) == (accepted.ticket_id, "Visitor Vera")
    assert [(m["kind"], m["body"]) for m in chat["messages"]] == [("visitor", "Need help")]
    assert client.get(f"/chats/{accepted.ticket_id}/").json()["ticket_id"] == accepted.ticket_id


def test_the_agent_replies_ends_and_the_log_reads_well(acme, accepted):
    client = agent_client(acme, acme.agents[0])
    empty = post_json(client, f"/chats/{accepted.ticket_id}/messages/", {"body": " "})
    assert empty.status_code == 400 and "body" in empty.json()["error"]["fields"]
    sent = post_json(client, f"/chats/{accepted.ticket_id}/messages/", {"body": "How can I help?"})
    assert sent.status_code == 201 and sent.json()["message"]["kind"] == "agent"
    assert post_json(client, f"/chats/{accepted.ticket_id}/end/").status_code == 200
    assert post_json(client, f"/chats/{accepted.ticket_id}/end/").status_code == 409
    assert client.get("/chats/").json()["chats"] == []
    with tenant_context(acme.tenant):
        assert Ticket.objects.get(pk=accepted.ticket_id).status == Status.RESOLVED
        lines = [f"{line['actor']} {line['text']}" for line in
                 map(event_line, TicketEvent.objects.filter(ticket_id=accepted.ticket_id).order_by("id"))]
    assert "Visitor Vera started a chat from the Website widget" in lines
    assert any(line.startswith("Acme Agent 1 ended the chat after") for line in lines)


def test_other_agents_and_other_tenants_get_404_for_a_chat(acme, globex, accepted):
    for client in (agent_client(acme, acme.agents[1]), agent_client(globex, globex.agents[0])):
        assert client.get(f"/chats/{accepted.ticket_id}/").status_code == 404
        assert post_json(client, f"/chats/{accepted.ticket_id}/messages/", {"body": "hi"}).status_code == 404
        assert post_json(client, f"/chats/{accepted.ticket_id}/end/").status_code == 404
        assert post_json(client, f"/chats/{accepted.ticket_id}/transfer/", {"agent_id": 1}).status_code == 404
        assert client.get("/chats/").json()["chats"] == []
    assert Client().get("/chats/").status_code == 401


def test_transfer_input_is_checked(acme, globex, accepted):
    client = agent_client(acme, acme.agents[0])
    url = f"/chats/{accepted.ticket_id}/transfer/"
    assert "target" in post_json(client, url, {}).json()["error"]["fields"]
    assert "agent_id" in post_json(client, url, {"agent_id": "x"}).json()["error"]["fields"]
    foreign = post_json(client, url, {"department_id": globex.department.pk})
    assert foreign.status_code == 400 and "department_id" in foreign.json()["error"]["fields"]
    targets = client.get("/chats/targets/").json()
    assert {a["name"] for a in targets["agents"]} == {"Acme Owner", "Acme Agent 2"}
    moved = post_json(client, url, {"agent_id": acme.agents[1].pk})
    assert moved.status_code == 200
    assert agent_client(acme, acme.agents[1]).get("/chats/").json()["chats"][0]["ticket_id"] == accepted.ticket_id


def test_the_reply_endpoint_needs_the_csrf_token(acme, accepted):
    client = Client(enforce_csrf_checks=True)
    client.force_login(acme.agents[0].user)
    answer = client.post(f"/chats/{accepted.ticket_id}/messages/", data=json.dumps({"body": "hi"}),
                         content_type="application/json")
    assert answer.status_code == 403
    with tenant_context(acme.tenant):
        assert fresh_chat(acme, accepted).ticket.messages.count() == 1


# --- settings and the demo page ---------------------------------------------------------------------------------

def test_an_admin_creates_a_widget_and_gets_its_snippet(acme):
    client = signed_in_client(acme, acme.admin.membership.user)
    page = client.get("/settings/chat-widgets/")
    assert page.status_code == 200 and b"Chat widget" in page.content
    created = client.post("/settings/chat-widgets/", {
        "name": "Shop", "department": acme.department.pk, "allowed_origins": "https://shop.example\nhttp://localhost:8000/",
        "active": "on",
    })
    assert created.status_code == 302
    with tenant_context(acme.tenant):
        widget = ChatWidget.objects.get(name="Shop")
    assert widget.allowed_origins == ["https://shop.example", "http://localhost:8000"]
    edit = client.get(created["Location"])
    assert f'data-widget-key="{widget.key}"'.encode() in edit.content.replace(b"&quot;", b'"')
    assert b"/widget/demo/?key=" + widget.key.encode() in edit.content
    assert flashes(created)


def test_bad_widget_settings_are_form_errors(acme):
    client = signed_in_client(acme, acme.admin.membership.user)
    nameless = client.post("/settings/chat-widgets/", {"name": "", "allowed_origins": "https://x.example"})
    assert nameless.status_code == 400 and b"This field is required" in nameless.content
    pathy = client.post("/settings/chat-widgets/", {"name": "Shop", "allowed_origins": "https://x.example/page"})
    assert pathy.status_code == 400 and b"is not an origin" in pathy.content
    with tenant_context(acme.tenant):
        assert not ChatWidget.objects.exists()


def test_widget_settings_are_for_admins_of_the_tenant_only(acme, globex, widget):
    assert agent_client(acme, acme.agents[0]).get("/settings/chat-widgets/").status_code == 403
    outsider = signed_in_client(globex, globex.admin.membership.user)
    assert outsider.get(f"/settings/chat-widgets/{widget.pk}/").status_code == 404
    assert f'data-widget="{widget.pk}"'.encode() not in outsider.get("/settings/chat-widgets/").content


def test_the_demo_page_carries_the_widget_snippet(acme, widget, client):
    page = client.get(f"/widget/demo/?key={widget.key}")
    assert page.status_code == 200
    assert b"widget/widget.js" in page.content and widget.key.encode() in page.content
    assert client.get("/widget/demo/?key=hdw_nope").status_code == 404
