"""What agents are told as it happens: tickets assigned or transferred to them, their own status changed
elsewhere, and their departments' counts changed. Each push lands on the right agent's stream only, never in
another tenant, and a transaction publishes once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from asgiref.sync import async_to_sync
from channels_redis.core import RedisChannelLayer
from django.conf import settings
from django.utils import timezone

from departments import services as department_services
from helpdesk import push
from helpdesk.models import PushEvent
from helpdesk.tenancy import tenant_context
from routing import services as routing_services
from routing.models import Offer, OfferState
from tests.push.helpers import events, publishes, types
from tests.routing.routing_helpers import chat, route
from tests.routing.routing_world import configure
from tickets import services as ticket_services


def _ringing_offer(world, ticket) -> Offer:
    with tenant_context(world.tenant):
        return Offer.objects.get(item__ticket=ticket, state=OfferState.RINGING)


def _no_events_in(world) -> bool:
    with tenant_context(world.tenant):
        return not PushEvent.objects.exists()


# --- tickets assigned or transferred ----------------------------------------------------------------------

def test_assigning_a_ticket_to_another_agent_tells_that_agent_only(acme, globex, monkeypatch):
    ticket = acme.ticket(subject="Invoice missing")
    with publishes(monkeypatch) as calls, tenant_context(acme.tenant):
        ticket_services.ticket_update(actor=acme.admin, ticket=ticket, assignee=acme.agents[1])

    (event,) = events(acme, acme.agents[1].pk)
    assert event.type == push.TICKET_ASSIGNED
    assert event.payload == {
        "ticket_id": ticket.pk, "ticket": ticket.code, "subject": "Invoice missing", "channel": "email",
        "customer": ticket.contact.display_name, "department": "Support", "by": "Acme Owner", "via": "assignment",
    }
    assert len(calls) == 1
    assert events(acme, acme.agents[0].pk) == [] and events(acme, acme.admin_agent.pk) == []
    assert _no_events_in(globex)


def test_assigning_a_ticket_to_yourself_tells_nobody(acme):
    ticket = acme.ticket()
    with tenant_context(acme.tenant):
        ticket_services.ticket_update(actor=acme.actor_of(acme.agents[0]), ticket=ticket, assignee=acme.agents[0])

    assert events(acme, acme.agents[0].pk) == []


def test_a_transfer_to_a_new_assignee_is_pushed_as_a_transfer(acme):
    with tenant_context(acme.tenant):
        billing = department_services.department_create(actor=acme.admin, name="Billing")
    ticket = acme.ticket()
    with tenant_context(acme.tenant):
        ticket_services.ticket_update(actor=acme.admin, ticket=ticket, department=billing, assignee=acme.agents[1])

    (event,) = events(acme, acme.agents[1].pk)
    assert event.type == push.TICKET_TRANSFERRED
    assert (event.payload["department"], event.payload["via"], event.payload["by"]) == (
        "Billing", "transfer", "Acme Owner")


def test_a_transfer_that_keeps_the_assignee_tells_nobody(acme):
    with tenant_context(acme.tenant):
        billing = department_services.department_create(actor=acme.admin, name="Billing")
    ticket = acme.ticket(assignee=acme.agents[1])
    with tenant_context(acme.tenant):
        ticket_services.ticket_update(actor=acme.admin, ticket=ticket, department=billing, priority=3)

    assert events(acme, acme.agents[1].pk) == []


def test_assigning_a_ringing_chat_by_hand_withdraws_the_offer_in_the_same_publish(acme, monkeypatch):
    ticket = chat(acme)
    route(acme, ticket)
    offer = _ringing_offer(acme, ticket)

    with publishes(monkeypatch) as calls, tenant_context(acme.tenant):
        ticket_services.ticket_update(actor=acme.admin, ticket=ticket, assignee=acme.agents[1])

    assert len(calls) == 1
    assert types(acme, acme.agents[0].pk) == [push.OFFER_RINGING, push.OFFER_WITHDRAWN]
    assert events(acme, acme.agents[0].pk)[-1].payload["offer_id"] == offer.pk
    assert types(acme, acme.agents[1].pk) == [push.TICKET_ASSIGNED]


def test_taking_a_ticket_from_to_solve_tells_the_takers_other_tabs(acme, monkeypatch):
    ticket = acme.ticket()
    with publishes(monkeypatch) as calls, tenant_context(acme.tenant):
        ticket_services.ticket_take(actor=acme.actor_of(acme.agents[0]), ticket=ticket)

    (event,) = events(acme, acme.agents[0].pk)
    assert (event.type, event.payload["ticket"], event.payload["via"]) == (push.TICKET_ASSIGNED, ticket.code,
                                                                          "to_solve")
    assert len(calls) == 1


def test_taking_a_ticket_that_rings_for_someone_else_withdraws_their_offer_in_one_publish(acme, monkeypatch):
    configure(acme, auto_assign_tickets=True)
    ticket = acme.ticket()
    route(acme, ticket)
    offer = _ringing_offer(acme, ticket)

    with publishes(monkeypatch) as calls, tenant_context(acme.tenant):
        ticket_services.ticket_take(actor=acme.actor_of(acme.agents[1]), ticket=ticket)

    assert len(calls) == 1
    assert types(acme, acme.agents[0].pk) == [push.OFFER_RINGING, push.OFFER_WITHDRAWN]
    assert types(acme, acme.agents[1].pk) == [push.TICKET_ASSIGNED]
    with tenant_context(acme.tenant):
        assert Offer.objects.get(pk=offer.pk).state == OfferState.WITHDRAWN


# --- status changed elsewhere -----------------------------------------------------------------------------

def test_an_agents_status_change_reaches_their_own_stream_only(acme, globex, monkeypatch):
    with publishes(monkeypatch) as calls, tenant_context(acme.tenant):
        department_services.agent_set_status(actor=acme.actor_of(acme.agents[0]), status="away")

    (event,) = events(acme, acme.agents[0].pk)
    assert event.type == push.AGENT_STATUS_CHANGED
    assert event.payload == {"agent_id": acme.agents[0].pk, "status": "away", "label": "Away",
                             "previous": "online", "by": "Acme Agent 1"}
    assert len(calls) == 1
    assert events(acme, acme.agents[1].pk) == [] and events(acme, acme.admin_agent.pk) == []
    assert _no_events_in(globex)


def test_an_admin_changing_an_agents_status_tells_the_agent_not_the_admin(acme):
    with tenant_context(acme.tenant):
        department_services.agent_update(actor=acme.admin, agent=acme.agents[1], status="break")

    (event,) = events(acme, acme.agents[1].pk)
    assert (event.payload["status"], event.payload["by"]) == ("break", "Acme Owner")
    assert events(acme, acme.admin_agent.pk) == []


def test_setting_the_status_one_already_has_tells_nobody(acme):
    with tenant_context(acme.tenant):
        department_services.agent_set_status(actor=acme.actor_of(acme.agents[0]), status="online")
        department_services.agent_update(actor=acme.admin, agent=acme.agents[0], max_chats=7)

    assert events(acme, acme.agents[0].pk) == []


def test_going_on_break_withdraws_ringing_offers_and_tells_the_agent_in_one_publish(acme, monkeypatch):
    ticket = chat(acme)
    route(acme, ticket)

    with publishes(monkeypatch) as calls, tenant_context(acme.tenant):
        department_services.agent_set_status(actor=acme.actor_of(acme.agents[0]), status="break")

    assert len(calls) == 1
    assert types(acme, acme.agents[0].pk)[0] == push.OFFER_RINGING
    assert sorted(types(acme, acme.agents[0].pk)[1:]) == [push.AGENT_STATUS_CHANGED, push.OFFER_WITHDRAWN]


def test_the_automatic_offline_after_the_last_tab_closed_is_pushed_to_the_agent(acme):
    configure(acme, offline_grace_seconds=0)
    agent = acme.agents[0]
    with tenant_context(acme.tenant):
        routing_services.agent_connected(agent_id=agent.pk)
        routing_services.agent_disconnected(agent_id=agent.pk)
        assert routing_services.agents_gone_offline(now=timezone.now() + timedelta(seconds=1)) == 1

    (event,) = events(acme, agent.pk)
    assert event.type == push.AGENT_STATUS_CHANGED
    assert (event.payload["status"], event.payload["previous"], event.payload["by"]) == (
        "offline", "online", "System")


# --- department counters (transient hints) ----------------------------------------------------------------

def _layer() -> RedisChannelLayer:
    # A layer per call: a layer's receive buffers belong to the event loop that first used them, and each
    # async_to_sync call below runs in a new one.
    return RedisChannelLayer(**settings.CHANNEL_LAYERS["default"]["CONFIG"])


def _listen(world, agent_id: int) -> str:
    """A channel in the agent's stream group, as an open tab of theirs has."""
    channel = f"test.tab.{uuid.uuid4().hex}"

    async def join() -> None:
        layer = _layer()
        await layer.group_add(push.stream_group(world.tenant.pk, push.agent_stream(agent_id)), channel)
        await layer.close_pools()

    async_to_sync(join)()
    return channel


def _next_message(channel: str, timeout: float) -> dict | None:
    async def receive() -> dict | None:
        layer = _layer()
        try:
            return await asyncio.wait_for(layer.receive(channel), timeout)
        except TimeoutError:
            return None
        finally:
            await layer.close_pools()

    return async_to_sync(receive)()


def _connect(world, *agents) -> None:
    with tenant_context(world.tenant):
        for agent in agents:
            routing_services.agent_connected(agent_id=agent.pk)


def test_a_new_ticket_hints_the_connected_agents_of_its_department_only(
    acme, globex, django_capture_on_commit_callbacks,
):
    member, outsider_agent = acme.agents
    with tenant_context(acme.tenant):
        department_services.department_member_add(actor=acme.admin, department=acme.department,
                                                   agent=acme.admin_agent)  # a member without an open tab
    _connect(acme, member, outsider_agent)
    _connect(globex, globex.agents[0])
    listening = {name: _listen(world, agent.pk) for name, world, agent in [
        ("member", acme, member), ("not a member", acme, outsider_agent), ("no tab", acme, acme.admin_agent),
        ("other tenant", globex, globex.agents[0]),
    ]}

    with django_capture_on_commit_callbacks(execute=True):
        acme.ticket()

    hint = _next_message(listening.pop("member"), timeout=2)
    assert hint == {"type": "push.transient",
                    "event": {"type": push.COUNTERS_CHANGED, "departments": [acme.department.pk]}}
    for name, channel in listening.items():
        assert _next_message(channel, timeout=0.3) is None, name
    with tenant_context(acme.tenant):
        assert not PushEvent.objects.filter(type=push.COUNTERS_CHANGED).exists()  # hints are not kept


def test_a_transfer_hints_both_departments_and_assigning_hints_once_more(
    acme, django_capture_on_commit_callbacks,
):
    with tenant_context(acme.tenant):
        billing = department_services.department_create(actor=acme.admin, name="Billing",
                                                        members=[acme.agents[1]])
    ticket = acme.ticket()
    _connect(acme, *acme.agents)
    support_tab, billing_tab = _listen(acme, acme.agents[0].pk), _listen(acme, acme.agents[1].pk)

    with django_capture_on_commit_callbacks(execute=True), tenant_context(acme.tenant):
        ticket_services.ticket_update(actor=acme.admin, ticket=ticket, department=billing)

    expected = sorted([acme.department.pk, billing.pk])
    assert _next_message(support_tab, timeout=2)["event"]["departments"] == expected
    assert _next_message(billing_tab, timeout=2)["event"]["departments"] == expected

    with django_capture_on_commit_callbacks(execute=True), tenant_context(acme.tenant):
        ticket_services.ticket_update(actor=acme.admin, ticket=ticket, subject="Renamed")
    assert _next_message(billing_tab, timeout=0.3) is None  # the counts did not change

    with django_capture_on_commit_callbacks(execute=True), tenant_context(acme.tenant):
        ticket_services.ticket_update(actor=acme.admin, ticket=ticket, status="resolved")
    assert _next_message(billing_tab, timeout=2)["event"]["departments"] == [billing.pk]


def test_accepting_an_offer_hints_the_department(acme, django_capture_on_commit_callbacks):
    ticket = chat(acme)
    route(acme, ticket)
    offer = _ringing_offer(acme, ticket)
    _connect(acme, acme.agents[0])
    tab = _listen(acme, acme.agents[0].pk)

    with django_capture_on_commit_callbacks(execute=True), tenant_context(acme.tenant):
        routing_services.offer_accept(actor=acme.actor_of(acme.agents[0]), offer_id=offer.pk)

    messages = [_next_message(tab, timeout=2) for _ in range(2)]
    hints = [m for m in messages if m and m["type"] == "push.transient"]
    assert [h["event"] for h in hints] == [{"type": push.COUNTERS_CHANGED, "departments": [acme.department.pk]}]
