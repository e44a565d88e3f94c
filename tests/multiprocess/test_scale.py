"""Nothing lives in one process: two servers and two routing workers behave as one help desk. An agent gets
exactly their own offers, whichever worker made them and whichever server the agent's browser is on."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from channels.layers import get_channel_layer

from helpdesk import push
from helpdesk.models import PushEvent
from helpdesk.tenancy import tenant_context
from routing.models import Offer
from tests.multiprocess.streams import delivery_report, wait_until
from tests.routing.routing_world import chat, team

CHATS = 12


def offers_by_agent(world, agent_ids: list[int]) -> dict[int, set[int]]:
    with tenant_context(world.tenant):
        found: dict[int, set[int]] = {agent_id: set() for agent_id in agent_ids}
        for agent_id, offer_id in Offer.objects.filter(agent_id__in=agent_ids).values_list("agent_id", "id"):
            found[agent_id].add(offer_id)
        return found


def persisted_events(world, stream: str) -> dict[int, dict]:
    with tenant_context(world.tenant):
        return {e.seq: push.event_json(e) for e in PushEvent.objects.filter(stream=stream)}


def offered_ids(tab) -> list[int]:
    return [e["offer_id"] for e in tab.events() if e["type"] == push.OFFER_RINGING]


@pytest.mark.django_db(transaction=True)
def test_agents_on_either_server_get_exactly_their_offers_from_either_worker(acme, globex, servers, agent_tab):
    server_a, server_b = servers.servers
    department, agents = team(acme, *[{"max_chats": 10} for _ in range(4)])
    # The other tenant's agent hears none of it, though the same servers carry both.
    _, (outsider,) = team(globex, {"max_chats": 10})
    placement = {agents[0].pk: [server_a, server_b], agents[1].pk: [server_b], agents[2].pk: [server_a],
                 agents[3].pk: [server_b], outsider.pk: [server_a, server_b]}
    tabs = {}
    for agent in [*agents, outsider]:
        world = globex if agent is outsider else acme
        tabs[agent.pk] = []
        for server in placement[agent.pk]:
            tab = agent_tab(agent, world.tenant)
            tab.connect(server.name, server.ws_url)
            tabs[agent.pk].append(tab)

    # One transaction: every routing task reaches the broker at once at commit, so both workers take some.
    with tenant_context(acme.tenant):
        for _ in range(CHATS):
            chat(acme, department)

    agent_ids = [a.pk for a in agents]

    def delivered() -> bool:
        offers = offers_by_agent(acme, agent_ids)
        if sum(len(ids) for ids in offers.values()) < CHATS:
            return False
        return all(set(offered_ids(tab)) == offers[agent_id]
                   for agent_id in agent_ids for tab in tabs[agent_id])

    wait_until(delivered, timeout=30, what="every chat is offered and every tab has its agent's offers")
    wait_until(lambda: all(w.tasks_succeeded("routing.tasks.route_item") for w in servers.workers), timeout=10,
               what="both workers log their routing tasks")

    offers = offers_by_agent(acme, agent_ids)
    # Mean utilization spreads the chats evenly: every agent was offered some, so both servers delivered.
    assert all(len(offers[agent_id]) == CHATS // len(agents) for agent_id in agent_ids), offers
    for agent in agents:
        persisted = persisted_events(acme, push.agent_stream(agent.pk))
        for tab in tabs[agent.pk]:
            assert tab.current.hello["stream"] == push.agent_stream(agent.pk)
            received = offered_ids(tab)
            assert sorted(received) == sorted(offers[agent.pk]), (agent.pk, tab.current.server)
            assert not [o for o, n in Counter(received).items() if n > 1]
            report = delivery_report(tab, persisted)
            assert (report.missing, report.unknown, report.different_from_database) == ([], [], [])
            assert (report.duplicates_on_a_socket, report.out_of_order_on_a_socket) == ({}, {})
    # Routing tasks ran in both workers, not in this process.
    assert all(worker.tasks_succeeded("routing.tasks.route_item") >= 1 for worker in servers.workers)
    assert sum(w.tasks_succeeded("routing.tasks.route_item") for w in servers.workers) >= CHATS
    for tab in tabs[outsider.pk]:
        assert tab.events() == []

    # Idle servers keep their sockets: the layer waits for messages in blocking reads of brpop_timeout seconds,
    # and this outlasts two of them on each server. Then one more chat still reaches its agent's tabs.
    time.sleep(2 * get_channel_layer().brpop_timeout + 1)
    assert all(not tab.current.closed for agent_tabs in tabs.values() for tab in agent_tabs)
    late = chat(acme, department)
    wait_until(lambda: offers_by_agent(acme, agent_ids) != offers, timeout=30, what="the late chat is offered")
    with tenant_context(acme.tenant):
        late_offer = Offer.objects.get(item__ticket_id=late.pk)
    wait_until(lambda: all(late_offer.pk in offered_ids(tab) for tab in tabs[late_offer.agent_id]), timeout=10,
               what="the late offer reaches its agent's tabs")
    for agent_tabs in tabs.values():
        for tab in agent_tabs:
            assert not tab.current.closed
            tab.close()
