"""A server that dies (SIGKILL) never runs its sockets' disconnect, so the agents connected through it would
count as connected forever and keep being offered work that rings out. Their heartbeats stop instead: the
sweep takes their connections as gone after three silent beats, and the offline grace period runs from the
last one. An agent on a server that lives on stays online."""

from __future__ import annotations

import pytest

from departments.models import AgentProfile
from helpdesk.tenancy import tenant_context
from routing import services
from routing.models import AgentPresence, OfferState
from tests.multiprocess.conftest import CLUSTER_HEARTBEAT_SECONDS
from tests.multiprocess.streams import wait_until
from tests.routing.routing_world import chat, configure, offer_states, team


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
        with tenant_context(acme.tenant):
            services.agents_gone_offline()  # as beat does every few seconds
        return status_of(acme, stranded) == "offline"

    wait_until(stranded_gone, timeout=30, what="the agent on the dead server is set offline")
    assert offer_states(acme, ticket)[stranded.pk] == [OfferState.WITHDRAWN]
    assert connections_of(acme, stranded) == 0
    # The survivor's server kept beating through the same sweeps.
    assert status_of(acme, survivor) == "online"
    assert connections_of(acme, survivor) == 1
    survivor_tab.drop()
