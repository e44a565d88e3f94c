"""Calls from the telephony provider: a call becomes a routed ticket, and the provider's reports move it along
ringing -> answered -> ended, or ringing -> missed, and nothing else."""

from __future__ import annotations

import pytest

from helpdesk.tenancy import tenant_context
from routing import services, tasks
from routing.models import ItemState, Offer, OfferState, RoutingItem
from tests.api.helpers import error_of, field_errors
from tests.routing.routing_helpers import client_for, incoming_call, route, takes_calls
from tickets.models import CallRecord, CallState, Channel, Contact, EventKind, Status, Ticket, TicketEvent


def _events(world, ticket) -> list[str]:
    with tenant_context(world.tenant):
        return list(TicketEvent.objects.filter(ticket=ticket).order_by("id").values_list("kind", flat=True))


def _report(world, call, event, **body):
    return client_for(world.api_key).post(f"/api/v1/calls/{call.pk}/events/", {"event": event, **body},
                                          format="json")


def _answered_call(world):
    """A call that rang agent 1, who accepted it, and that the provider reports answered."""
    takes_calls(world, world.agents[0])
    call = incoming_call(world)
    route(world, call.ticket)
    with tenant_context(world.tenant):
        offer = Offer.objects.get(item__ticket=call.ticket, state=OfferState.RINGING)
        services.offer_accept(actor=world.actor_of(world.agents[0]), offer_id=offer.pk)
    assert _report(world, call, "answered").status_code == 200
    return call


def test_an_incoming_call_opens_a_call_ticket_and_queues_it_for_routing(acme):
    response = client_for(acme.api_key).post("/api/v1/calls/", {
        "caller_number": "+1 555 0100", "line": "Sales line", "department": acme.department.pk,
    }, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "ringing"
    assert body["caller_number"] == "+1 555 0100"
    assert body["agent"] is None
    with tenant_context(acme.tenant):
        ticket = Ticket.objects.select_related("contact").get(pk=body["ticket"]["id"])
        assert body["ticket"]["code"] == ticket.code
        assert ticket.channel == Channel.CALL
        assert ticket.subject == "Call from +1 555 0100"
        assert ticket.messages.get().body == "Incoming call on line Sales line."
        assert ticket.department_id == acme.department.pk
        assert ticket.contact.phone == "+1 555 0100"
        # The TICKET_CREATED hook queued it: calls are routed, never left to To solve.
        item = RoutingItem.objects.get(ticket=ticket)
        assert (item.channel, item.state) == ("call", ItemState.QUEUED)


def test_a_returning_caller_is_recognised_by_number(acme):
    first = incoming_call(acme, "+1 555 0199")
    second = incoming_call(acme, "+1 555 0199")

    with tenant_context(acme.tenant):
        assert Contact.objects.filter(phone="+1 555 0199").count() == 1
        assert second.ticket.contact_id == first.ticket.contact_id


def test_a_withheld_number_still_rings_but_is_never_merged_with_other_callers(acme):
    first = incoming_call(acme, "anonymous")
    second = incoming_call(acme, "Anonymous")

    with tenant_context(acme.tenant):
        assert first.ticket.subject == "Call from a withheld number"
        assert first.ticket.contact_id != second.ticket.contact_id
        assert RoutingItem.objects.filter(ticket__in=[first.ticket, second.ticket]).count() == 2


def test_the_routing_task_is_sent_once_the_call_is_committed(acme, monkeypatch, django_capture_on_commit_callbacks):
    sent: list[tuple] = []
    # Stands in for the broker, which the tests do not run.
    monkeypatch.setattr(tasks.route_item, "delay", lambda *args: sent.append(args))

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(acme.api_key).post("/api/v1/calls/", {"caller_number": "+1 555 0100"},
                                                 format="json")

    assert response.status_code == 201
    with tenant_context(acme.tenant):
        item = RoutingItem.objects.get(ticket_id=response.json()["ticket"]["id"])
    assert sent == [(acme.tenant.pk, item.pk)]


def test_a_routed_call_rings_the_agent_who_takes_calls(acme):
    takes_calls(acme, acme.agents[0])
    call = incoming_call(acme)

    decision = route(acme, call.ticket)

    assert decision.winner_ids == [acme.agents[0].pk]
    with tenant_context(acme.tenant):
        assert Offer.objects.get(item__ticket=call.ticket).agent_id == acme.agents[0].pk


def test_an_agent_who_accepts_after_the_answer_report_is_recorded_when_the_call_ends(acme):
    takes_calls(acme, acme.agents[0])
    call = incoming_call(acme)
    route(acme, call.ticket)
    assert _report(acme, call, "answered").json()["agent"] is None
    with tenant_context(acme.tenant):
        offer = Offer.objects.get(item__ticket=call.ticket, state=OfferState.RINGING)
        services.offer_accept(actor=acme.actor_of(acme.agents[0]), offer_id=offer.pk)

    response = _report(acme, call, "ended", duration_seconds=30)

    assert response.json()["agent"]["id"] == acme.agents[0].pk


def test_answered_then_ended_resolves_the_ticket_and_records_the_call(acme):
    call = _answered_call(acme)

    response = _report(acme, call, "ended", duration_seconds=125)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "ended"
    assert body["duration_seconds"] == 125
    assert body["agent"] == {"id": acme.agents[0].pk, "display_name": "Acme Agent 1"}
    assert body["answered_at"] and body["ended_at"]
    with tenant_context(acme.tenant):
        ticket = Ticket.objects.get(pk=call.ticket_id)
        assert ticket.status == Status.RESOLVED
        assert ticket.resolved_at is not None
        # Resolving freed the agent's only call slot for the next caller.
        assert services.agent_loads(agent_ids=[acme.agents[0].pk], channel="call") == {acme.agents[0].pk: 0}
    kinds = _events(acme, call.ticket)
    assert kinds.index(EventKind.CALL_ANSWERED) < kinds.index(EventKind.CALL_ENDED)
    assert EventKind.STATUS_CHANGED in kinds


def test_a_missed_call_withdraws_its_ringing_offer_and_waits_for_a_callback(acme):
    takes_calls(acme, acme.agents[0])
    call = incoming_call(acme)
    route(acme, call.ticket)

    response = _report(acme, call, "missed")

    assert response.status_code == 200, response.content
    assert response.json()["state"] == "missed"
    with tenant_context(acme.tenant):
        assert Offer.objects.get(item__ticket=call.ticket).state == OfferState.WITHDRAWN
        assert RoutingItem.objects.get(ticket=call.ticket).state == ItemState.CANCELLED
        ticket = Ticket.objects.get(pk=call.ticket_id)
        # Nobody talked to the caller: the ticket stays open and unassigned so someone calls back.
        assert ticket.status == Status.NEW and ticket.assignee_id is None
        assert services.agent_loads(agent_ids=[acme.agents[0].pk], channel="call") == {acme.agents[0].pk: 0}
    kinds = _events(acme, call.ticket)
    assert EventKind.CALL_MISSED in kinds and EventKind.OFFER_WITHDRAWN in kinds


def test_an_offer_of_a_missed_call_can_no_longer_be_accepted(acme):
    takes_calls(acme, acme.agents[0])
    call = incoming_call(acme)
    route(acme, call.ticket)
    _report(acme, call, "missed")
    with tenant_context(acme.tenant):
        offer = Offer.objects.get(item__ticket=call.ticket)

    response = client_for(acme.agent_api_key).post(f"/api/v1/routing/offers/{offer.pk}/accept/")

    assert error_of(response, 409)["code"] == "offer_gone"


@pytest.mark.parametrize(("history", "event"), [
    ([], "ended"),
    (["answered"], "answered"),
    (["answered"], "missed"),
    (["missed"], "answered"),
    (["missed"], "missed"),
])
def test_reports_out_of_order_are_refused(acme, history, event):
    call = incoming_call(acme)
    for earlier in history:
        assert _report(acme, call, earlier).status_code == 200
    body = {"duration_seconds": 10} if event == "ended" else {}

    response = _report(acme, call, event, **body)

    error = error_of(response, 400)
    assert error["code"] == "invalid_transition"
    assert list(error["fields"]) == ["event"]
    with tenant_context(acme.tenant):
        assert CallRecord.objects.get(pk=call.pk).state == (history[-1] if history else CallState.RINGING)


def test_nothing_follows_an_ended_call(acme):
    call = _answered_call(acme)
    assert _report(acme, call, "ended", duration_seconds=5).status_code == 200

    for event, body in (("ended", {"duration_seconds": 5}), ("answered", {}), ("missed", {})):
        assert error_of(_report(acme, call, event, **body), 400)["code"] == "invalid_transition"


@pytest.mark.parametrize(("event", "body", "field"), [
    ("ended", {}, "duration_seconds"),
    ("ended", {"duration_seconds": -1}, "duration_seconds"),
    ("ended", {"duration_seconds": "long"}, "duration_seconds"),
    ("answered", {"duration_seconds": 3}, "duration_seconds"),
    ("hung_up", {}, "event"),
])
def test_bad_durations_and_events_name_their_field(acme, event, body, field):
    call = _answered_call(acme) if event == "ended" else incoming_call(acme)

    assert field in field_errors(_report(acme, call, event, **body))


def test_unknown_fields_and_bad_numbers_are_refused(acme):
    client = client_for(acme.api_key)

    unknown = client.post("/api/v1/calls/", {"caller_number": "+1 555 0100", "caller_name": "Bob"}, format="json")
    not_a_number = client.post("/api/v1/calls/", {"caller_number": "call me maybe"}, format="json")
    missing = client.post("/api/v1/calls/", {"line": "Sales"}, format="json")
    call = incoming_call(acme)
    unknown_event_field = _report(acme, call, "answered", agent=acme.agents[0].pk)

    assert field_errors(unknown) == {"caller_name": ["Unknown field."]}
    assert list(field_errors(not_a_number)) == ["caller_number"]
    assert list(field_errors(missing)) == ["caller_number"]
    assert field_errors(unknown_event_field) == {"agent": ["Unknown field."]}
    with tenant_context(acme.tenant):
        assert CallRecord.objects.count() == 1


def test_agents_cannot_report_calls(acme):
    agent = client_for(acme.agent_api_key)
    call = incoming_call(acme)

    created = agent.post("/api/v1/calls/", {"caller_number": "+1 555 0100"}, format="json")
    reported = agent.post(f"/api/v1/calls/{call.pk}/events/", {"event": "missed"}, format="json")

    assert error_of(created, 403)["code"] == "permission_denied"
    assert error_of(reported, 403)["code"] == "permission_denied"
    with tenant_context(acme.tenant):
        assert CallRecord.objects.get().state == CallState.RINGING


def test_an_agent_may_read_a_call_of_their_department(acme):
    call = incoming_call(acme)

    response = client_for(acme.agent_api_key).get(f"/api/v1/calls/{call.pk}/")

    assert response.status_code == 200
    assert response.json()["ticket"]["id"] == call.ticket_id


def test_another_tenant_cannot_see_or_report_a_call(acme, globex):
    call = incoming_call(acme)
    outsider = client_for(globex.api_key)

    assert error_of(outsider.get(f"/api/v1/calls/{call.pk}/"), 404)["code"] == "not_found"
    assert error_of(outsider.post(f"/api/v1/calls/{call.pk}/events/", {"event": "missed"}, format="json"),
                    404)["code"] == "not_found"
    created = outsider.post("/api/v1/calls/", {"caller_number": "+1 555 0100", "department": acme.department.pk},
                            format="json")
    assert field_errors(created) == {"department": ["No such department."]}
    with tenant_context(acme.tenant):
        assert CallRecord.objects.get().state == CallState.RINGING
