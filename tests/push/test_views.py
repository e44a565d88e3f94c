"""What the agent's page script talks to: offers answered with JSON, the presence switch, the department counts,
and the stream position every agent page starts listening from."""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from departments import services as department_services
from departments.models import AgentProfile
from helpdesk import push
from helpdesk.tenancy import tenant_context
from routing import services as routing_services
from routing.models import Method, Offer, OfferState
from tests.push.helpers import types
from tests.routing.routing_helpers import chat, route
from tests.web.conftest import signed_in
from tests.web.helpers import flashes
from tickets import services as ticket_services
from tickets.models import Ticket

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def agent_page(acme):
    """Agent 1 of acme, in Support, where chats ring."""
    return signed_in(acme, acme.agents[0].user)


def _ringing_offer(world, ticket) -> Offer:
    with tenant_context(world.tenant):
        return Offer.objects.get(item__ticket=ticket, state=OfferState.RINGING)


# --- answering offers -------------------------------------------------------------------------------------

def test_accepting_with_json_answers_the_ticket_and_leaves_no_flash_message(acme, agent_page):
    ticket = chat(acme)
    route(acme, ticket)
    offer = _ringing_offer(acme, ticket)

    response = agent_page.post(f"/offers/{offer.pk}/accept/", {"next": "/"}, **JSON)

    assert response.status_code == 200
    assert response.json() == {"ticket": ticket.code, "ticket_id": ticket.pk, "channel": "chat",
                               "url": f"/tickets/{ticket.code}/", "message": f"Ticket {ticket.code} is yours."}
    assert flashes(response) == []
    with tenant_context(acme.tenant):
        assert Ticket.objects.get(pk=ticket.pk).assignee_id == acme.agents[0].pk


def test_accepting_an_offer_someone_else_took_answers_409_with_the_message(acme, agent_page):
    with tenant_context(acme.tenant):
        routing_services.settings_update(actor=acme.admin, chat_method=Method.RING_ALL)
        department_services.department_member_add(actor=acme.admin, department=acme.department,
                                                   agent=acme.agents[1])
    ticket = chat(acme)
    route(acme, ticket)
    with tenant_context(acme.tenant):
        first, second = Offer.objects.filter(item__ticket=ticket).order_by("agent_id")
        routing_services.offer_accept(actor=acme.actor_of(acme.agents[1]), offer_id=second.pk)

    response = agent_page.post(f"/offers/{first.pk}/accept/", **JSON)

    assert response.status_code == 409
    assert response.json()["message"] == "This offer is no longer ringing."
    assert response.json()["code"] == "offer_gone"
    with tenant_context(acme.tenant):
        assert Ticket.objects.get(pk=ticket.pk).assignee_id == acme.agents[1].pk


def test_declining_with_json_moves_the_offer_on(acme, agent_page):
    ticket = chat(acme)
    route(acme, ticket)
    offer = _ringing_offer(acme, ticket)

    response = agent_page.post(f"/offers/{offer.pk}/decline/", **JSON)

    assert response.status_code == 200
    assert response.json() == {"offer_id": offer.pk, "message": "Declined: it goes to the next agent."}
    assert flashes(response) == []
    with tenant_context(acme.tenant):
        assert Offer.objects.get(pk=offer.pk).state == OfferState.DECLINED
    again = agent_page.post(f"/offers/{offer.pk}/decline/", **JSON)
    assert (again.status_code, again.json()["message"]) == (409, "This offer is no longer ringing.")


def test_another_agents_or_tenants_offer_answers_404_in_json(acme, globex):
    ticket = chat(acme)
    route(acme, ticket)
    offer = _ringing_offer(acme, ticket)

    for client in (signed_in(acme, acme.agents[1].user), signed_in(globex, globex.agents[0].user)):
        for action in ("accept", "decline"):
            response = client.post(f"/offers/{offer.pk}/{action}/", **JSON)
            assert response.status_code == 404
            assert response.json()["message"] == "No such offer."
    assert _ringing_offer(acme, ticket).pk == offer.pk


def test_the_no_script_forms_still_redirect(acme, agent_page):
    ticket = chat(acme)
    route(acme, ticket)
    offer = _ringing_offer(acme, ticket)

    # What a browser sends with a form: HTML first, anything else last.
    response = agent_page.post(f"/offers/{offer.pk}/accept/", {"next": "/"},
                               HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")

    assert (response.status_code, response["Location"]) == (302, f"/tickets/{ticket.code}/")


# --- presence ---------------------------------------------------------------------------------------------

def test_the_presence_switch_answers_json_and_the_other_tabs_are_told(acme, agent_page):
    response = agent_page.post("/settings/status/", {"status": "away"}, **JSON)

    assert response.status_code == 200
    assert response.json() == {"status": "away", "label": "Away", "message": "Your status is now Away."}
    assert flashes(response) == []
    with tenant_context(acme.tenant):
        assert AgentProfile.objects.get(pk=acme.agents[0].pk).status == "away"
    assert types(acme, acme.agents[0].pk) == [push.AGENT_STATUS_CHANGED]


def test_an_unknown_status_answers_400_with_the_field_message(acme, agent_page):
    response = agent_page.post("/settings/status/", {"status": "asleep"}, **JSON)

    assert response.status_code == 400
    assert response.json()["fields"] == {"status": ["Choose one of online, away, break, offline."]}
    with tenant_context(acme.tenant):
        assert AgentProfile.objects.get(pk=acme.agents[0].pk).status == "online"


# --- department counts ------------------------------------------------------------------------------------

def test_counts_cover_active_work_of_the_departments_an_agent_sees(acme, globex, agent_page):
    with tenant_context(acme.tenant):
        billing = department_services.department_create(actor=acme.admin, name="Billing")
    acme.ticket()
    acme.ticket(assignee=acme.agents[0])
    done = acme.ticket()
    with tenant_context(acme.tenant):
        ticket_services.ticket_update(actor=acme.admin, ticket=done, status="resolved")
    acme.ticket(department=billing)
    globex.ticket()

    mine = agent_page.get("/inbox/counts/")
    everything = signed_in(acme, acme.admin.membership.user).get("/inbox/counts/")
    outsider = signed_in(globex, globex.admin.membership.user).get("/inbox/counts/")

    support = str(acme.department.pk)
    assert mine.json() == {"departments": {support: {"open": 2, "unassigned": 1}}}
    assert everything.json() == {"departments": {support: {"open": 2, "unassigned": 1},
                                                 str(billing.pk): {"open": 1, "unassigned": 1}}}
    assert outsider.json() == {"departments": {str(globex.department.pk): {"open": 1, "unassigned": 1}}}


def test_an_agent_in_no_department_gets_no_counts(acme):
    response = signed_in(acme, acme.agents[1].user).get("/inbox/counts/")
    assert response.json() == {"departments": {}}


def _counts_queries(client) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/inbox/counts/").status_code == 200
    return [query["sql"] for query in captured.captured_queries if "SAVEPOINT" not in query["sql"]]


def test_counts_take_a_fixed_number_of_queries(acme):
    admin = signed_in(acme, acme.admin.membership.user)
    acme.ticket()
    few = _counts_queries(admin)
    with tenant_context(acme.tenant):
        for n in range(5):
            department_services.department_create(actor=acme.admin, name=f"Extra {n}")
    for _ in range(10):
        acme.ticket()
    many = _counts_queries(admin)
    assert len(many) == len(few)
    # User, membership and the tenant setting (the session comes from the cache); then the departments and
    # one grouped count.
    assert len(few) == 5
    assert len([sql for sql in few if "tickets_ticket" in sql]) == 1


def test_counts_need_a_signed_in_member(acme, client):
    response = client.get("/inbox/counts/")
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- the page's starting position -------------------------------------------------------------------------

def _config(page: str) -> dict | None:
    match = re.search(r'<script id="agent-push-config" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(match.group(1)) if match else None


def test_agent_pages_start_listening_at_their_streams_position(acme, agent_page):
    agent = acme.agents[0]
    assert _config(agent_page.get("/").content.decode())["position"] == 0
    with tenant_context(acme.tenant):
        department_services.agent_set_status(actor=acme.actor_of(agent), status="away")
        department_services.agent_update(actor=acme.admin, agent=AgentProfile.objects.get(pk=agent.pk),
                                         status="break")

    page = agent_page.get("/").content.decode()

    config = _config(page)
    assert (config["stream"], config["position"], config["socket"]) == (f"agent:{agent.pk}", 2, "/ws/agent/")
    assert config["urls"]["offerAccept"] == "/offers/0/accept/"
    assert config["urls"]["ticket"] == "/tickets/CODE/"
    assert 'src="/static/js/agent.js"' in page or "js/agent.js" in page
    # The ringing panel is there to ring into, hidden and unnamed while nothing rings.
    assert re.search(r'<section class="ringing" data-ringing aria-labelledby="ringing-title" hidden>', page)
    assert "Ringing for you" not in page


def test_a_ringing_offer_is_listed_with_its_channel_for_the_script(acme, agent_page):
    ticket = chat(acme)
    route(acme, ticket)
    offer = _ringing_offer(acme, ticket)

    page = agent_page.get("/").content.decode()

    assert f'data-offer="{offer.pk}" data-code="{ticket.code}" data-channel="chat"' in page
    assert "Ringing for you" in page
    assert 'aria-live="assertive"' in page


def test_pages_of_members_without_an_agent_profile_do_not_listen(acme):
    with tenant_context(acme.tenant):
        membership = acme.agents[1].membership
        AgentProfile.objects.filter(pk=acme.agents[1].pk).delete()
    page = signed_in(acme, membership.user).get("/").content.decode()
    assert _config(page) is None
    assert "agent.js" not in page
