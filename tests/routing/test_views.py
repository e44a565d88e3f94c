"""Routing pages: the settings page with its audit, why a ticket went to whom on the ticket page, and the offers
ringing in an agent's header with Accept and Decline that work without scripts."""

from __future__ import annotations

import re

import pytest

from departments import services as department_services
from helpdesk.tenancy import tenant_context
from routing import services
from routing.models import Method, Offer, OfferState, RoutingSettings, SettingsChange
from tests.routing.routing_helpers import chat, route
from tests.web.conftest import signed_in
from tests.web.helpers import flashes
from tickets.models import Ticket

SETTINGS_FORM = {
    "chat_method": "round_robin", "call_method": "ring_all", "ticket_method": "random", "ring_seconds": "20",
    "offline_grace_seconds": "90", "offline_chats": "requeue", "prefer_last_agent": "", "auto_assign_tickets": "on",
}


@pytest.fixture
def admin_page(acme):
    return signed_in(acme, acme.admin.membership.user)


@pytest.fixture
def agent_page(acme):
    """Agent 1 of acme, in the Support department, where chats ring."""
    return signed_in(acme, acme.agents[0].user)


def _ringing_offer(world, ticket) -> Offer:
    with tenant_context(world.tenant):
        return Offer.objects.get(item__ticket=ticket, state=OfferState.RINGING)


# --- settings ---------------------------------------------------------------------------------------------

def test_the_settings_page_shows_the_current_settings_and_is_linked_from_settings(acme, admin_page):
    page = admin_page.get("/settings/routing/").content.decode()

    assert 'href="/settings/routing/" aria-current="page"' in page
    assert re.search(r'<option value="mean_utilization" selected>', page)  # the chat default
    assert 'name="ring_seconds" value="30"' in page
    assert "No changes recorded yet." in page
    assert 'href="/settings/routing/"' in admin_page.get("/settings/departments/").content.decode()


def test_saving_the_settings_records_who_changed_what(acme, admin_page):
    response = admin_page.post("/settings/routing/", SETTINGS_FORM)

    assert response.status_code == 302
    assert flashes(response) == ["Routing settings saved."]
    with tenant_context(acme.tenant):
        config = RoutingSettings.objects.get()
        change = SettingsChange.objects.get()
    assert (config.chat_method, config.call_method, config.ring_seconds, config.offline_chats) == (
        Method.ROUND_ROBIN, Method.RING_ALL, 20, "requeue")
    assert (config.prefer_last_agent, config.auto_assign_tickets) == (False, True)
    assert change.actor_label == "Acme Owner"
    assert change.changes["ring_seconds"] == [30, 20]
    page = admin_page.get("/settings/routing/").content.decode()
    listed = page[page.index("Recorded changes"):]
    assert "Acme Owner" in listed
    assert "Ring time (s): 30 → 20" in listed
    assert "Chat method: Mean utilization → Round robin" in listed


def test_saving_unchanged_settings_records_nothing(acme, admin_page):
    admin_page.post("/settings/routing/", SETTINGS_FORM)

    admin_page.post("/settings/routing/", SETTINGS_FORM)

    with tenant_context(acme.tenant):
        assert SettingsChange.objects.count() == 1


@pytest.mark.parametrize(("field", "value"), [("ring_seconds", "2"), ("offline_grace_seconds", "-1"),
                                              ("chat_method", "coin_toss"), ("offline_chats", "drop")])
def test_bad_settings_are_shown_beside_their_field_and_nothing_is_saved(acme, admin_page, field, value):
    response = admin_page.post("/settings/routing/", {**SETTINGS_FORM, field: value})

    assert response.status_code == 400
    assert field in response.context["form"].errors
    with tenant_context(acme.tenant):
        assert not SettingsChange.objects.exists()
        assert services.settings_get().ring_seconds == 30


def test_agents_may_not_open_or_save_the_routing_settings(acme, agent_page):
    assert agent_page.get("/settings/routing/").status_code == 403
    assert agent_page.post("/settings/routing/", SETTINGS_FORM).status_code == 403
    with tenant_context(acme.tenant):
        assert services.settings_get().chat_method == Method.MEAN_UTILIZATION
    assert "/settings/routing/" not in agent_page.get("/").content.decode()


def test_another_tenants_admin_sees_only_their_own_routing_changes(acme, globex, admin_page):
    admin_page.post("/settings/routing/", SETTINGS_FORM)
    outsider = signed_in(globex, globex.admin.membership.user)

    page = outsider.get("/settings/routing/").content.decode()

    assert "Acme Owner" not in page
    assert "No changes recorded yet." in page


def test_an_agents_routing_values_saved_on_their_page_are_recorded_and_shown_there(acme, admin_page):
    agent = acme.agents[1]
    form = {"display_name": agent.display_name, "role": "agent", "status": "online", "chat_priority": "10",
            "max_chats": "5", "call_priority": "50", "max_calls": "1", "takes_tickets": "on", "takes_chats": "on"}

    assert admin_page.post(f"/settings/agents/{agent.pk}/", form).status_code == 302

    with tenant_context(acme.tenant):
        change = SettingsChange.objects.get(subject=f"Agent {agent.display_name}")
    assert change.changes == {"chat_priority": [50, 10], "max_chats": [3, 5]}
    assert change.actor_label == "Acme Owner"
    page = admin_page.get(f"/settings/agents/{agent.pk}/").content.decode()
    assert "Recent routing changes" in page
    assert "Chat priority: 50 → 10" in page
    assert "Max chats: 3 → 5" in page


# --- the ticket page --------------------------------------------------------------------------------------

def test_the_ticket_page_explains_who_was_offered_the_chat_and_why_the_others_lost(acme, admin_page, agent_page):
    with tenant_context(acme.tenant):
        department_services.department_member_add(actor=acme.admin, department=acme.department,
                                                   agent=acme.agents[1])
        department_services.agent_update(actor=acme.admin, agent=acme.agents[1], status="away")
    ticket = chat(acme)
    route(acme, ticket)

    for client in (admin_page, agent_page):
        page = client.get(f"/tickets/{ticket.code}/").content.decode()
        section = page[page.index('id="routing-title"'):]
        assert "Mean utilization" in section
        winner = re.search(rf'<tr class="is-winner" data-candidate="{acme.agents[0].pk}">(.*?)</tr>', section, re.S)
        assert winner and "Offered" in winner.group(1) and "0/3" in winner.group(1)
        loser = re.search(rf'<tr class="is-loser" data-candidate="{acme.agents[1].pk}">(.*?)</tr>', section, re.S)
        assert loser and "not online (away)" in loser.group(1)


def test_a_ticket_never_routed_has_no_routing_section(acme, admin_page):
    ticket = acme.ticket()  # email: taken from To solve, not routed

    assert 'id="routing-title"' not in admin_page.get(f"/tickets/{ticket.code}/").content.decode()


# --- ringing offers ---------------------------------------------------------------------------------------

def test_a_ringing_chat_shows_in_the_agents_header_only(acme, sign_in_all):
    ticket = chat(acme, subject="Where is my order?")
    route(acme, ticket)
    offer = _ringing_offer(acme, ticket)
    agent1, agent2, admin = sign_in_all

    page = agent1.get("/").content.decode()

    assert "Ringing for you" in page
    assert f'action="/offers/{offer.pk}/accept/"' in page
    assert f'action="/offers/{offer.pk}/decline/"' in page
    assert "Where is my order?" in page
    assert "Ringing for you" not in agent2.get("/").content.decode()
    assert "Ringing for you" not in admin.get("/").content.decode()


@pytest.fixture
def sign_in_all(acme):
    return [signed_in(acme, acme.agents[0].user), signed_in(acme, acme.agents[1].user),
            signed_in(acme, acme.admin.membership.user)]


def test_accepting_from_the_header_makes_the_chat_yours_and_opens_it(acme, agent_page):
    ticket = chat(acme)
    route(acme, ticket)
    offer = _ringing_offer(acme, ticket)

    response = agent_page.post(f"/offers/{offer.pk}/accept/", {"next": "/"})

    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{ticket.code}/"
    assert flashes(response) == [f"Ticket {ticket.code} is yours."]
    with tenant_context(acme.tenant):
        assert Ticket.objects.get(pk=ticket.pk).assignee_id == acme.agents[0].pk
    assert "Ringing for you" not in agent_page.get("/").content.decode()


def test_declining_from_the_header_puts_the_chat_back_in_the_queue(acme, agent_page):
    ticket = chat(acme)
    route(acme, ticket)
    offer = _ringing_offer(acme, ticket)

    response = agent_page.post(f"/offers/{offer.pk}/decline/", {"next": "/?view=mine"})

    assert response.status_code == 302
    assert response["Location"] == "/?view=mine"
    assert flashes(response) == ["Declined: it goes to the next agent."]
    with tenant_context(acme.tenant):
        assert Offer.objects.get(pk=offer.pk).state == OfferState.DECLINED
        assert Ticket.objects.get(pk=ticket.pk).assignee_id is None


def test_an_offer_someone_else_took_is_a_message_not_an_error(acme, agent_page):
    with tenant_context(acme.tenant):
        services.settings_update(actor=acme.admin, chat_method=Method.RING_ALL)
        department_services.department_member_add(actor=acme.admin, department=acme.department,
                                                   agent=acme.agents[1])
    ticket = chat(acme)
    route(acme, ticket)
    with tenant_context(acme.tenant):
        first, second = Offer.objects.filter(item__ticket=ticket).order_by("agent_id")
        services.offer_accept(actor=acme.actor_of(acme.agents[1]), offer_id=second.pk)

    response = agent_page.post(f"/offers/{first.pk}/accept/", {"next": "/"})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert flashes(response) == ["This offer is no longer ringing."]
    with tenant_context(acme.tenant):
        assert Ticket.objects.get(pk=ticket.pk).assignee_id == acme.agents[1].pk


def test_nobody_answers_another_agents_or_tenants_offer(acme, globex):
    ticket = chat(acme)
    route(acme, ticket)
    offer = _ringing_offer(acme, ticket)
    other_agent = signed_in(acme, acme.agents[1].user)
    outsider = signed_in(globex, globex.agents[0].user)

    for client in (other_agent, outsider):
        assert client.post(f"/offers/{offer.pk}/accept/").status_code == 404
        assert client.post(f"/offers/{offer.pk}/decline/").status_code == 404
    assert _ringing_offer(acme, ticket).pk == offer.pk


def test_offers_are_answered_with_post_only(acme, agent_page):
    ticket = chat(acme)
    route(acme, ticket)
    offer = _ringing_offer(acme, ticket)

    assert agent_page.get(f"/offers/{offer.pk}/accept/").status_code == 405
    assert _ringing_offer(acme, ticket).pk == offer.pk
