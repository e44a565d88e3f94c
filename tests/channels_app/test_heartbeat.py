"""The server process's heartbeat: one beat marks every agent and chat it holds sockets for, tenant by tenant,
in a fixed number of statements."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from channels_app.heartbeat import AGENT, CHAT, ProcessHeartbeat, beat_once
from helpdesk.tenancy import tenant_context
from routing import services
from routing.models import AgentPresence


def connect_long_ago(world, agents) -> None:
    with tenant_context(world.tenant):
        for agent in agents:
            services.agent_connected(agent_id=agent.pk)
        AgentPresence.objects.update(seen_at=timezone.now() - timedelta(hours=1))


def heard_within_a_minute(world) -> dict[int, bool]:
    with tenant_context(world.tenant):
        recent = timezone.now() - timedelta(minutes=1)
        return {p.agent_id: p.seen_at > recent for p in AgentPresence.objects.all()}


def snapshot_of(sockets: list[tuple[int, str, int]]) -> dict:
    process = ProcessHeartbeat()
    process.open.update(sockets)
    return process.snapshot()


def test_one_beat_marks_only_the_process_s_own_sockets_in_every_tenant(acme, globex, django_assert_num_queries):
    connect_long_ago(acme, acme.agents)
    connect_long_ago(globex, globex.agents)
    here = [(acme.tenant.pk, AGENT, acme.agents[0].pk), (globex.tenant.pk, AGENT, globex.agents[1].pk)]
    # The tenants read once; per tenant: savepoint, set_config, one update, release.
    with django_assert_num_queries(1 + 2 * 4):
        beat_once(snapshot_of(here))
    assert heard_within_a_minute(acme) == {acme.agents[0].pk: True, acme.agents[1].pk: False}
    assert heard_within_a_minute(globex) == {globex.agents[0].pk: False, globex.agents[1].pk: True}


def test_a_beat_names_a_tenant_s_ids_only_under_that_tenant(acme, globex):
    connect_long_ago(globex, globex.agents[:1])
    # An acme socket that claims a globex agent's id (it cannot, but the beat must not trust it).
    beat_once(snapshot_of([(acme.tenant.pk, AGENT, globex.agents[0].pk)]))
    assert heard_within_a_minute(globex) == {globex.agents[0].pk: False}


def test_the_process_counts_each_socket_and_forgets_the_last_one_closed():
    process = ProcessHeartbeat()
    process.open[(1, CHAT, 7)] += 2
    process.discard(1, CHAT, 7)
    assert process.snapshot() == {1: {CHAT: [7]}}
    process.discard(1, CHAT, 7)
    assert process.snapshot() == {}
