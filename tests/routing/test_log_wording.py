"""Routing entries of the system log read as sentences on the ticket page."""

from helpdesk.tenancy import tenant_context
from tests.routing.routing_world import chat, decline, route, team
from tickets.models import EventKind, TicketEvent
from tickets.templatetags.ticket_ui import event_line


def test_routing_decisions_and_answers_read_as_sentences(acme):
    department, (agent,) = team(acme, {"display_name": "Rita Ring"})
    ticket = chat(acme, department)
    route(acme, ticket)
    decline(acme, agent, ticket)
    with tenant_context(acme.tenant):
        events = {e.kind: e for e in TicketEvent.objects.filter(ticket=ticket)}
        routed = event_line(events[EventKind.ROUTED])
        declined = event_line(events[EventKind.OFFER_DECLINED])
    assert routed == {"actor": "System", "text": "offered it to Rita Ring (mean utilization)"}
    assert declined == {"actor": "Rita Ring", "text": "declined the offer"}
