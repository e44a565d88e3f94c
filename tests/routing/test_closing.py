"""A ticket leaving routing by other means: closed while it rings, or still waiting with nobody free."""

import pytest

from helpdesk.errors import Conflict
from helpdesk.principals import actor_for_membership
from helpdesk.tenancy import tenant_context
from routing.models import ItemState, Method, OfferState, RoutingDecision
from routing.services import offer_accept
from tests.routing.routing_world import accept, chat, configure, item_of, offer_states, ringing, route, team
from tickets import services as ticket_services
from tickets.models import EventKind, Status, TicketEvent


def test_resolving_a_ringing_chat_withdraws_its_offers_and_it_cannot_be_accepted_after(acme):
    configure(acme, chat_method=Method.RING_ALL)
    department, agents = team(acme, {}, {})
    ticket = chat(acme, department)
    route(acme, ticket)
    offers = ringing(acme, ticket)
    assert set(offers) == {a.pk for a in agents}

    with tenant_context(acme.tenant):
        ticket_services.ticket_update(actor=acme.admin, ticket=ticket, status=Status.SPAM)

    assert offer_states(acme, ticket) == {a.pk: [OfferState.WITHDRAWN] for a in agents}
    assert item_of(acme, ticket).state == ItemState.CANCELLED
    with pytest.raises(KeyError):
        accept(acme, agents[0], ticket)  # nothing rings for them any more
    with tenant_context(acme.tenant):
        with pytest.raises(Conflict):
            offer_accept(actor=actor_for_membership(agents[0].membership), offer_id=offers[agents[0].pk].pk)
        ticket.refresh_from_db()
        assert (ticket.status, ticket.assignee_id) == (Status.SPAM, None)


def test_accepting_a_new_chat_logs_that_it_was_opened(acme):
    department, (agent,) = team(acme, {})
    ticket = chat(acme, department)
    route(acme, ticket)
    accept(acme, agent, ticket)
    with tenant_context(acme.tenant):
        change = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.STATUS_CHANGED).get()
        assert change.data == {"status": ["new", "open"]}


def test_trying_again_with_still_nobody_free_does_not_repeat_the_decision_in_the_log(acme):
    department, (agent,) = team(acme, {"status": "offline"})
    ticket = chat(acme, department)
    for _ in range(3):
        route(acme, ticket)
    with tenant_context(acme.tenant):
        assert RoutingDecision.objects.filter(ticket=ticket).count() == 1
        assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.ROUTED).count() == 1
    item = item_of(acme, ticket)
    assert (item.state, item.attempts) == (ItemState.QUEUED, 3)
