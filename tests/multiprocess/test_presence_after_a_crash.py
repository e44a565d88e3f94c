"""A server that dies (SIGKILL) never runs its sockets' disconnect, so the agents connected through it would
count as connected forever and keep being offered work that rings out, and a chat's visitor would never be
seen to leave. Their heartbeats stop instead: the sweep takes their connections as gone after three silent
beats (an agent's offline grace period runs from the last one). Sockets on a server that lives on keep
beating and stay counted."""

from __future__ import annotations

import pytest

from departments.models import AgentProfile
from helpdesk import push
from helpdesk.tenancy import tenant_context
from routing.models import AgentPresence, Chat, OfferState
from routing.tasks import expire_offers_and_reconcile
from tests.chat.conftest import start_chat, widget_for
from tests.multiprocess.conftest import CLUSTER_HEARTBEAT_SECONDS
from tests.multiprocess.streams import ORIGIN, wait_until
from tests.routing.routing_world import accept, chat, configure, offer_states, ringing, team


def status_of(world, agent) -> str:
    with tenant_context(world.tenant):
        return AgentProfile.objects.get(pk=agent.pk).status


def connections_of(world, agent) -> int:
    with tenant_context(world.tenant):
        presence = AgentPresence.objects.filter(agent=agent).first()
        return presence.open_connections if presence else 0


@pytest.mark.django_db(transaction=True)
def test_an_agent_whose_server_dies_goes_offline_and_their_offer_moves_on(acme, servers, agent_tab, settings):
    settings.PRESENCE_HEARTBEAT_SECONDS = CLUSTER_HEARTBEAT_SECONDS  # the sweep here judges as the servers beat
    server_a, server_b = servers.servers
    configure(acme, offline_grace_seconds=1, prefer_last_agent=False)
    department, (stranded,) = team(acme, {"max_chats": 1})
    elsewhere_department, (survivor,) = team(acme, {"max_chats": 1})
    stranded_tab = agent_tab(stranded, acme.tenant)
    stranded_tab.connect(server_a.name, server_a.ws_url, after=0)
    survivor_tab = agent_tab(survivor, acme.tenant)
    survivor_tab.connect(server_b.name, server_b.ws_url, after=0)
    wait_until(lambda: connections_of(acme, stranded) == 1 and connections_of(acme, survivor) == 1, timeout=15,
               what="both agents' sockets are counted")
    ticket = chat(acme, department)
    wait_until(lambda: offer_states(acme, ticket).get(stranded.pk) == [OfferState.RINGING], timeout=15,
               what="the chat rings for the agent on server A")

    server_a.kill()

    def stranded_gone() -> bool:
        expire_offers_and_reconcile()  # as beat does every few seconds
        return status_of(acme, stranded) == "offline"

    wait_until(stranded_gone, timeout=30, what="the agent on the dead server is set offline")
    assert offer_states(acme, ticket)[stranded.pk] == [OfferState.WITHDRAWN]
    assert connections_of(acme, stranded) == 0
    # The survivor's server kept beating through the same sweeps.
    assert status_of(acme, survivor) == "online"
    assert connections_of(acme, survivor) == 1
    survivor_tab.drop()


def visitor_sockets(world, chat_id: int) -> int:
    with tenant_context(world.tenant):
        return Chat.objects.get(pk=chat_id).open_sockets


def visitor_left(world, chat_id: int) -> bool:
    expire_offers_and_reconcile()  # as beat does every few seconds
    with tenant_context(world.tenant):
        return Chat.objects.get(pk=chat_id).visitor_left_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_visitor_whose_server_dies_is_seen_to_leave_by_the_agent(acme, servers, agent_tab, visitor_tab, settings):
    settings.PRESENCE_HEARTBEAT_SECONDS = CLUSTER_HEARTBEAT_SECONDS
    server_a, server_b = servers.servers
    department, (agent,) = team(acme, {"max_chats": 2})
    widget = widget_for(acme, department=department, origins=[ORIGIN])
    tab = agent_tab(agent, acme.tenant)
    tab.connect(server_b.name, server_b.ws_url, after=0)
    started = start_chat(acme, widget, "Is my parcel lost?")
    ticket = started.chat.ticket
    wait_until(lambda: agent.pk in ringing(acme, ticket), timeout=30, what="the chat rings the agent")
    accept(acme, agent, ticket)
    visitor = visitor_tab(widget, started.chat, started.token)
    visitor.connect(server_a.name, server_a.ws_url, after=0)
    wait_until(lambda: visitor_sockets(acme, started.chat.pk) == 1, timeout=15, what="the visitor's socket is counted")

    server_a.kill()

    wait_until(lambda: visitor_left(acme, started.chat.pk), timeout=30,
               what="the visitor on the dead server is seen to leave")
    wait_until(lambda: any(e["type"] == push.CHAT_VISITOR_LEFT and e["ticket_id"] == ticket.pk
                           for e in tab.events()), timeout=15,
               what="the agent, on the server that lives on, is told live")
    with tenant_context(acme.tenant):
        chat_now = Chat.objects.get(pk=started.chat.pk)
    assert (chat_now.open_sockets, chat_now.ended_at) == (0, None)  # the agent ends it, as after any leave
    assert status_of(acme, agent) == "online"
    assert connections_of(acme, agent) == 1
    tab.drop()
