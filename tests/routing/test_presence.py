"""An agent whose last browser connection has been gone for the grace period goes offline, and what rang
for them moves on."""

from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from departments.models import AgentProfile
from helpdesk.tenancy import tenant_context
from routing import services
from routing.models import AgentPresence, ItemState, Offer, OfferState
from tests.routing.routing_world import chat, configure, item_of, offer_states, route, team


def status_of(world, agent) -> str:
    with tenant_context(world.tenant):
        return AgentProfile.objects.get(pk=agent.pk).status


def test_an_agent_goes_offline_only_when_every_tab_has_been_gone_for_the_grace_period(acme, settings):
    settings.PRESENCE_HEARTBEAT_SECONDS = 3600  # the open tab stays heard from over the minutes simulated here
    configure(acme, offline_grace_seconds=60)
    department, (agent,) = team(acme, {})
    ticket = chat(acme, department)
    route(acme, ticket)
    now = timezone.now()
    with tenant_context(acme.tenant):
        services.agent_connected(agent_id=agent.pk)
        services.agent_connected(agent_id=agent.pk)
        services.agent_disconnected(agent_id=agent.pk)
        assert services.agents_gone_offline(now=now + timedelta(minutes=5)) == 0  # one tab still open
        services.agent_disconnected(agent_id=agent.pk)
        assert services.agents_gone_offline(now=now + timedelta(seconds=30)) == 0  # within the grace period
    assert status_of(acme, agent) == "online"
    with tenant_context(acme.tenant):
        assert services.agents_gone_offline(now=timezone.now() + timedelta(seconds=61)) == 1
        assert AgentPresence.objects.get(agent=agent).open_connections == 0
    assert status_of(acme, agent) == "offline"
    assert offer_states(acme, ticket) == {agent.pk: [OfferState.WITHDRAWN]}
    assert item_of(acme, ticket).state == ItemState.QUEUED


def test_more_disconnects_than_connects_never_count_below_zero(acme, settings):
    settings.PRESENCE_HEARTBEAT_SECONDS = 3600
    department, (agent,) = team(acme, {})
    with tenant_context(acme.tenant):
        services.agent_connected(agent_id=agent.pk)
        services.agent_disconnected(agent_id=agent.pk)
        services.agent_disconnected(agent_id=agent.pk)
        services.agent_connected(agent_id=agent.pk)
        assert AgentPresence.objects.get(agent=agent).open_connections == 1
        assert services.agents_gone_offline(now=timezone.now() + timedelta(hours=1)) == 0


def backdate_heartbeat(world, agent, seconds: int) -> None:
    with tenant_context(world.tenant):
        AgentPresence.objects.filter(agent=agent).update(seen_at=timezone.now() - timedelta(seconds=seconds))


def presence_of(world, agent) -> AgentPresence:
    with tenant_context(world.tenant):
        return AgentPresence.objects.get(agent=agent)


def test_sockets_left_by_a_dead_server_count_as_gone_after_three_silent_heartbeats(acme, settings):
    settings.PRESENCE_HEARTBEAT_SECONDS = 20
    configure(acme, offline_grace_seconds=30)
    department, (agent,) = team(acme, {})
    ticket = chat(acme, department)
    route(acme, ticket)
    with tenant_context(acme.tenant):
        services.agent_connected(agent_id=agent.pk)  # its server is then killed: no disconnect, no heartbeat
    last_heard = presence_of(acme, agent).seen_at
    with tenant_context(acme.tenant):
        assert services.agents_gone_offline(now=last_heard + timedelta(seconds=59)) == 0  # two beats missed
    assert presence_of(acme, agent).open_connections == 1
    with tenant_context(acme.tenant):
        assert services.agents_gone_offline(now=last_heard + timedelta(seconds=61)) == 1
    presence = presence_of(acme, agent)
    # Gone as of the last heartbeat, so the grace period had already run when the silence was noticed.
    assert (presence.open_connections, presence.last_disconnected_at) == (0, last_heard)
    assert status_of(acme, agent) == "offline"
    assert offer_states(acme, ticket) == {agent.pk: [OfferState.WITHDRAWN]}


def connected_agent(world, *, grace_seconds: int):
    """An online agent with one socket open, in a tenant with this offline grace (heartbeats every 20 s)."""
    configure(world, offline_grace_seconds=grace_seconds)
    department, (agent,) = team(world, {})
    with tenant_context(world.tenant):
        services.agent_connected(agent_id=agent.pk)
    return agent


def test_a_heartbeat_keeps_a_connected_agent_online_however_long_ago_they_connected(acme, settings):
    settings.PRESENCE_HEARTBEAT_SECONDS = 20
    agent = connected_agent(acme, grace_seconds=0)
    backdate_heartbeat(acme, agent, seconds=3600)
    with tenant_context(acme.tenant):
        services.agents_seen(agent_ids=[agent.pk])
        assert services.agents_gone_offline(now=timezone.now() + timedelta(seconds=30)) == 0
    assert presence_of(acme, agent).open_connections == 1
    assert status_of(acme, agent) == "online"


def test_a_heartbeat_after_a_long_silence_counts_its_connection_again(acme, settings):
    settings.PRESENCE_HEARTBEAT_SECONDS = 20
    agent = connected_agent(acme, grace_seconds=600)
    backdate_heartbeat(acme, agent, seconds=120)  # a stalled server: silent, but its socket is still open
    with tenant_context(acme.tenant):
        assert services.agents_gone_offline() == 0  # within the grace period
    assert presence_of(acme, agent).open_connections == 0
    with tenant_context(acme.tenant):
        services.agents_seen(agent_ids=[agent.pk])
    assert presence_of(acme, agent).open_connections == 1
    with tenant_context(acme.tenant):
        services.agent_disconnected(agent_id=agent.pk)
        assert services.agents_gone_offline(now=timezone.now() + timedelta(seconds=601)) == 1
    assert status_of(acme, agent) == "offline"


def test_the_sweep_command_expires_ring_outs_once(acme):
    department, (agent,) = team(acme, {})
    ticket = chat(acme, department)
    route(acme, ticket)
    with tenant_context(acme.tenant):
        Offer.objects.filter(item__ticket=ticket).update(expires_at=timezone.now() - timedelta(seconds=1))
    call_command("routing_sweep", "--once", stdout=StringIO())
    assert offer_states(acme, ticket) == {agent.pk: [OfferState.MISSED]}

