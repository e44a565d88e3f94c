"""The routing API: decisions with every candidate and why each lost, the acting agent's ringing offers and
answering them, and the routing settings with their audit."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from departments import services as department_services
from helpdesk import services as helpdesk_services
from helpdesk.tenancy import tenant_context
from routing import services
from routing.models import Method, Offer, OfferState, RoutingSettings, SettingsChange
from tests.api.helpers import error_of, field_errors, ids, results
from tests.routing.routing_helpers import chat, client_for, route
from tickets.models import Ticket


def _ringing(world, ticket) -> list[Offer]:
    with tenant_context(world.tenant):
        return list(Offer.objects.filter(item__ticket=ticket, state=OfferState.RINGING).order_by("agent_id"))


def _ring_all_to_both_agents(world) -> None:
    """Both agents in Support and chats ringing everyone, so two offers ring for one chat."""
    with tenant_context(world.tenant):
        services.settings_update(actor=world.admin, chat_method=Method.RING_ALL)
        department_services.department_member_add(actor=world.admin, department=world.department,
                                                   agent=world.agents[1])


# --- decisions --------------------------------------------------------------------------------------------

def test_a_decision_lists_every_candidate_with_status_load_priority_and_why_they_lost(acme):
    with tenant_context(acme.tenant):
        department_services.agent_update(actor=acme.admin, agent=acme.admin_agent, status="away")
    ticket = chat(acme)
    decision = route(acme, ticket)

    response = client_for(acme.api_key).get("/api/v1/routing/decisions/", {"ticket": ticket.pk})

    [row] = results(response)
    assert row["id"] == decision.pk
    assert row["ticket"] == {"id": ticket.pk, "code": ticket.code}
    assert (row["channel"], row["method"]) == ("chat", "mean_utilization")
    assert row["department_id"] == acme.department.pk
    assert row["winner_ids"] == [acme.agents[0].pk]
    candidates = {c["agent_id"]: c for c in row["candidates"]}
    # The department's members are the candidates; agents outside it are not considered at all.
    assert set(candidates) == {acme.agents[0].pk}
    winner = candidates[acme.agents[0].pk]
    assert (winner["result"], winner["reason"], winner["status"]) == ("offered", "", "online")
    assert (winner["load"], winner["max_load"], winner["priority"]) == (0, 3, 50)
    detail = client_for(acme.api_key).get(f"/api/v1/routing/decisions/{decision.pk}/")
    assert detail.json() == row


def test_decisions_are_newest_first_and_filter_by_ticket(acme):
    first, second = chat(acme), chat(acme)
    older = route(acme, first)
    newer = route(acme, second)
    client = client_for(acme.api_key)

    assert ids(client.get("/api/v1/routing/decisions/")) == [newer.pk, older.pk]
    assert ids(client.get("/api/v1/routing/decisions/", {"ticket": first.pk})) == [older.pk]
    assert ids(client.get("/api/v1/routing/decisions/", {"ticket": f"{first.pk},{second.pk}",
                                                          "ordering": "created_at"})) == [older.pk, newer.pk]
    assert list(field_errors(client.get("/api/v1/routing/decisions/", {"ticket": "first"}))) == ["ticket"]
    assert list(field_errors(client.get("/api/v1/routing/decisions/", {"channel": "fax"}))) == ["channel"]


def test_agents_see_decisions_only_about_tickets_they_may_see(acme):
    with tenant_context(acme.tenant):
        billing = department_services.department_create(actor=acme.admin, name="Billing", members=[acme.agents[1]])
    visible = route(acme, chat(acme))
    hidden = route(acme, chat(acme, department=billing))
    agent = client_for(acme.agent_api_key)

    assert ids(agent.get("/api/v1/routing/decisions/")) == [visible.pk]
    assert error_of(agent.get(f"/api/v1/routing/decisions/{hidden.pk}/"), 404)["code"] == "not_found"
    assert ids(agent.get("/api/v1/routing/decisions/", {"ticket": hidden.ticket_id})) == []


def test_another_tenant_sees_none_of_the_decisions(acme, globex):
    decision = route(acme, chat(acme))
    outsider = client_for(globex.api_key)

    assert ids(outsider.get("/api/v1/routing/decisions/")) == []
    assert ids(outsider.get("/api/v1/routing/decisions/", {"ticket": decision.ticket_id})) == []
    assert error_of(outsider.get(f"/api/v1/routing/decisions/{decision.pk}/"), 404)["code"] == "not_found"


# --- offers -----------------------------------------------------------------------------------------------

def test_an_agent_lists_only_their_own_ringing_offers(acme):
    ticket = chat(acme, subject="Where is my order?")
    route(acme, ticket)
    [offer] = _ringing(acme, ticket)

    rows = results(client_for(acme.agent_api_key).get("/api/v1/routing/offers/"))

    assert [row["id"] for row in rows] == [offer.pk]
    assert rows[0]["channel"] == "chat"
    assert rows[0]["state"] == "ringing"
    assert rows[0]["ticket"]["code"] == ticket.code
    assert rows[0]["ticket"]["subject"] == "Where is my order?"
    assert rows[0]["ticket"]["department"] == {"id": acme.department.pk, "name": "Support"}
    # The admin key acts as no agent: nothing rings for it.
    assert results(client_for(acme.api_key).get("/api/v1/routing/offers/")) == []


def test_accepting_an_offer_assigns_the_ticket_to_the_agent(acme):
    ticket = chat(acme)
    route(acme, ticket)
    [offer] = _ringing(acme, ticket)

    response = client_for(acme.agent_api_key).post(f"/api/v1/routing/offers/{offer.pk}/accept/")

    assert response.status_code == 200, response.content
    assert response.json()["id"] == ticket.pk
    assert response.json()["assignee"] == {"id": acme.agents[0].pk, "display_name": "Acme Agent 1"}
    assert response.json()["status"] == "open"
    with tenant_context(acme.tenant):
        assert Offer.objects.get(pk=offer.pk).state == OfferState.ACCEPTED
    assert results(client_for(acme.agent_api_key).get("/api/v1/routing/offers/")) == []


def test_under_ring_all_the_second_accept_is_a_conflict(acme):
    _ring_all_to_both_agents(acme)
    ticket = chat(acme)
    decision = route(acme, ticket)
    assert sorted(decision.winner_ids) == [acme.agents[0].pk, acme.agents[1].pk]
    first, second = _ringing(acme, ticket)
    with tenant_context(acme.tenant):
        services.offer_accept(actor=acme.actor_of(acme.agents[1]), offer_id=second.pk)

    response = client_for(acme.agent_api_key).post(f"/api/v1/routing/offers/{first.pk}/accept/")

    assert error_of(response, 409)["code"] == "offer_gone"
    with tenant_context(acme.tenant):
        assert Ticket.objects.get(pk=ticket.pk).assignee_id == acme.agents[1].pk
        assert Offer.objects.get(pk=first.pk).state == OfferState.WITHDRAWN


def test_declining_an_offer_moves_it_on_and_cannot_be_repeated(acme):
    ticket = chat(acme)
    route(acme, ticket)
    [offer] = _ringing(acme, ticket)
    agent = client_for(acme.agent_api_key)

    declined = agent.post(f"/api/v1/routing/offers/{offer.pk}/decline/")
    again = agent.post(f"/api/v1/routing/offers/{offer.pk}/decline/")
    accepted_after = agent.post(f"/api/v1/routing/offers/{offer.pk}/accept/")

    assert declined.status_code == 204
    assert error_of(again, 409)["code"] == "offer_gone"
    assert error_of(accepted_after, 409)["code"] == "offer_gone"
    with tenant_context(acme.tenant):
        assert Offer.objects.get(pk=offer.pk).state == OfferState.DECLINED
        assert Ticket.objects.get(pk=ticket.pk).assignee_id is None


@pytest.mark.parametrize("action", ["accept", "decline"])
def test_nobody_answers_another_agents_or_tenants_offer(acme, globex, action):
    ticket = chat(acme)
    route(acme, ticket)
    [offer] = _ringing(acme, ticket)
    with tenant_context(acme.tenant):
        _, other_agent_key = helpdesk_services.api_key_create(
            tenant=acme.tenant, name="agent 2", role="agent", membership=acme.agents[1].membership)

    for key in (other_agent_key, acme.api_key, globex.api_key, globex.agent_api_key):
        response = client_for(key).post(f"/api/v1/routing/offers/{offer.pk}/{action}/")
        assert error_of(response, 404)["code"] == "not_found"
    assert [o.pk for o in _ringing(acme, ticket)] == [offer.pk]


# --- settings ---------------------------------------------------------------------------------------------

def test_anyone_reads_the_settings_and_an_admin_changes_them_with_an_audit_row(acme):
    assert client_for(acme.agent_api_key).get("/api/v1/routing/settings/").json()["ring_seconds"] == 30

    response = client_for(acme.api_key).patch("/api/v1/routing/settings/", {
        "call_method": "ring_all", "ring_seconds": 15, "prefer_last_agent": False,
    }, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["call_method"], body["ring_seconds"], body["prefer_last_agent"]) == ("ring_all", 15, False)
    assert body["chat_method"] == "mean_utilization"  # untouched
    changes = results(client_for(acme.api_key).get("/api/v1/routing/settings/changes/"))
    assert len(changes) == 1
    assert changes[0]["actor_label"] == "API key integration"
    assert changes[0]["subject"] == "Routing settings"
    assert changes[0]["changes"] == {"call_method": ["priority", "ring_all"], "ring_seconds": [30, 15],
                                     "prefer_last_agent": [True, False]}


@pytest.mark.parametrize(("body", "field"), [
    ({"ring_seconds": 4}, "ring_seconds"),
    ({"ring_seconds": 601}, "ring_seconds"),
    ({"offline_grace_seconds": -1}, "offline_grace_seconds"),
    ({"chat_method": "coin_toss"}, "chat_method"),
    ({"offline_chats": "drop"}, "offline_chats"),
    ({"ringing_seconds": 20}, "ringing_seconds"),
    ({"updated_at": "2030-01-01T00:00:00Z"}, "updated_at"),
])
def test_bad_settings_are_refused_field_by_field_and_nothing_is_recorded(acme, body, field):
    response = client_for(acme.api_key).patch("/api/v1/routing/settings/", body, format="json")

    assert field in field_errors(response)
    with tenant_context(acme.tenant):
        assert not SettingsChange.objects.exists()
        assert services.settings_get().ring_seconds == 30


def test_agents_may_not_change_settings_or_read_their_audit(acme):
    agent = client_for(acme.agent_api_key)

    assert error_of(agent.patch("/api/v1/routing/settings/", {"ring_seconds": 10}, format="json"),
                    403)["code"] == "permission_denied"
    assert error_of(agent.get("/api/v1/routing/settings/changes/"), 403)["code"] == "permission_denied"
    with tenant_context(acme.tenant):
        assert services.settings_get().ring_seconds == 30


def test_another_tenants_settings_and_audit_are_their_own(acme, globex):
    client_for(acme.api_key).patch("/api/v1/routing/settings/", {"ring_seconds": 15}, format="json")
    outsider = client_for(globex.api_key)

    assert outsider.get("/api/v1/routing/settings/").json()["ring_seconds"] == 30
    assert results(outsider.get("/api/v1/routing/settings/changes/")) == []
    outsider.patch("/api/v1/routing/settings/", {"ring_seconds": 45}, format="json")
    with tenant_context(acme.tenant):
        assert RoutingSettings.objects.get().ring_seconds == 15


# --- query counts -----------------------------------------------------------------------------------------

def _count_queries(client, url: str, rows: int) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, {"page_size": 100})
    assert len(results(response)) == rows
    return len(context.captured_queries)


def _assert_fixed_query_count(client, url: str, add_rows: Callable[[int], None]) -> None:
    client.get(url)  # a key's first request records its use
    add_rows(3)
    few = _count_queries(client, url, 3)
    add_rows(12)
    many = _count_queries(client, url, 15)
    assert few == many, f"{few} queries for 3 rows, {many} for 15"


@pytest.mark.parametrize("key", ["api_key", "agent_api_key"])
def test_the_decision_list_costs_the_same_for_few_and_many(acme, key):
    def add(n: int) -> None:
        for _ in range(n):
            route(acme, chat(acme))

    _assert_fixed_query_count(client_for(getattr(acme, key)), "/api/v1/routing/decisions/", add)


def test_the_offer_list_costs_the_same_for_few_and_many(acme):
    # Plenty of room, so every chat rings agent 1.
    with tenant_context(acme.tenant):
        department_services.agent_update(actor=acme.admin, agent=acme.agents[0], max_chats=50)

    def add(n: int) -> None:
        for _ in range(n):
            route(acme, chat(acme))

    _assert_fixed_query_count(client_for(acme.agent_api_key), "/api/v1/routing/offers/", add)
