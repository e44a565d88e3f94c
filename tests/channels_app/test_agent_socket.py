"""The agent websocket: session-authenticated, Origin-checked, and joined to the agent's own group only."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from helpdesk.asgi import application
from helpdesk.middleware import SESSION_TENANT_KEY

ORIGIN = (b"origin", b"http://127.0.0.1")


@database_sync_to_async
def session_cookie_for(agent, tenant) -> bytes:
    session = SessionStore()
    session[SESSION_KEY] = str(agent.user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = agent.user.get_session_auth_hash()
    session[SESSION_TENANT_KEY] = tenant.pk
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}".encode()


async def connect(cookie: bytes | None = None, origin=ORIGIN):
    headers = [origin] if origin else []
    if cookie:
        headers.append((b"cookie", cookie))
    communicator = WebsocketCommunicator(application, "/ws/agent/", headers=headers)
    connected, code = await communicator.connect()
    return communicator, connected, code


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_anonymous_sockets_are_refused():
    communicator, connected, code = await connect()
    assert not connected and code == 4401


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_sockets_from_a_foreign_origin_are_refused(acme):
    cookie = await session_cookie_for(acme.agents[0], acme.tenant)
    communicator, connected, _ = await connect(cookie, origin=(b"origin", b"https://evil.example"))
    assert not connected


async def flush_channel_layer() -> None:
    """Wipe the layer's Redis database from outside, as a restarted or failed-over Redis would."""
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0])
    await client.flushdb()
    await client.aclose()


@database_sync_to_async
def publish_to_agent(world, agent, **payload) -> int:
    from helpdesk import push
    from helpdesk.tenancy import tenant_context

    with tenant_context(world.tenant):
        (event,) = push.publish([push.Push(push.agent_stream(agent.pk), push.TICKET_ASSIGNED, payload)])
    return event.seq


async def connect_agent(world, agent, after: int | None = 0):
    query = "" if after is None else f"?after={after}"
    cookie = await session_cookie_for(agent, world.tenant)
    communicator = WebsocketCommunicator(application, f"/ws/agent/{query}", headers=[ORIGIN, (b"cookie", cookie)])
    connected, _ = await communicator.connect()
    assert connected
    hello = await communicator.receive_json_from(timeout=2)
    assert hello["type"] == "hello"
    return communicator


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_an_agent_receives_their_own_events_and_never_another_tenants(acme, globex):
    mine = await connect_agent(acme, acme.agents[0])
    outsider = await connect_agent(globex, globex.agents[0])
    seq = await publish_to_agent(acme, acme.agents[0], ticket="ABCD-2345")
    event = await mine.receive_json_from(timeout=2)
    assert (event["seq"], event["type"], event["ticket"]) == (seq, "ticket.assigned", "ABCD-2345")
    assert await outsider.receive_nothing(timeout=0.3)
    # Another tenant's agent with the same position hears nothing of it, and its own stream is separate.
    other_seq = await publish_to_agent(globex, globex.agents[0], ticket="WXYZ-2345")
    assert (await outsider.receive_json_from(timeout=2))["ticket"] == "WXYZ-2345"
    assert other_seq == 1
    assert await mine.receive_nothing(timeout=0.3)
    await mine.disconnect()
    await outsider.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_reconnecting_tab_gets_everything_after_its_position_once_and_in_order(acme):
    agent = acme.agents[0]
    first = await connect_agent(acme, agent)
    for n in range(3):
        await publish_to_agent(acme, agent, n=n)
    seen = [(await first.receive_json_from(timeout=2))["n"] for _ in range(3)]
    assert seen == [0, 1, 2]
    await first.disconnect()
    # Missed while away.
    await publish_to_agent(acme, agent, n=3)
    await publish_to_agent(acme, agent, n=4)
    again = await connect_agent(acme, agent, after=3)
    replayed = [await again.receive_json_from(timeout=2) for _ in range(2)]
    assert [(e["seq"], e["n"]) for e in replayed] == [(4, 3), (5, 4)]
    assert await again.receive_nothing(timeout=0.3)
    await again.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_push_lost_in_a_flushed_channel_layer_is_delivered_on_sync(acme):
    agent = acme.agents[0]
    tab = await connect_agent(acme, agent)
    await flush_channel_layer()  # every group membership gone: the next push reaches nobody
    seq = await publish_to_agent(acme, agent, ticket="LOST-0001")
    assert await tab.receive_nothing(timeout=0.3)
    await tab.send_json_to({"type": "sync", "after": 0})
    event = await tab.receive_json_from(timeout=2)
    assert (event["seq"], event["ticket"]) == (seq, "LOST-0001")
    await tab.disconnect()


@database_sync_to_async
def open_connections(world, agent) -> int:
    from helpdesk.tenancy import tenant_context
    from routing.models import AgentPresence

    with tenant_context(world.tenant):
        return AgentPresence.objects.get(agent=agent).open_connections


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_socket_counts_the_agents_open_connections(acme):
    first = await connect_agent(acme, acme.agents[0])
    second = await connect_agent(acme, acme.agents[0])
    assert await open_connections(acme, acme.agents[0]) == 2
    await first.disconnect()
    await second.disconnect()
    assert await open_connections(acme, acme.agents[0]) == 0


@database_sync_to_async
def last_heard(world, agent):
    from helpdesk.tenancy import tenant_context
    from routing.models import AgentPresence

    with tenant_context(world.tenant):
        return AgentPresence.objects.get(agent=agent).seen_at


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_an_open_socket_beats_its_agents_heartbeat_until_it_closes(acme, settings):
    settings.PRESENCE_HEARTBEAT_SECONDS = 0.1
    agent = acme.agents[0]
    tab = await connect_agent(acme, agent)
    connected_at = await last_heard(acme, agent)
    await asyncio.sleep(0.5)
    beaten_at = await last_heard(acme, agent)
    assert beaten_at > connected_at
    await tab.disconnect()
    closed_at = await last_heard(acme, agent)
    await asyncio.sleep(0.4)
    assert await last_heard(acme, agent) == closed_at  # no beat from a closed socket
    assert await open_connections(acme, agent) == 0
