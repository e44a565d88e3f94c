"""The agent websocket: session-authenticated, Origin-checked, and joined to the agent's own group only."""

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from channels_app.events import agent_group
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


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_an_agent_receives_their_own_events_and_never_another_tenants(acme, globex):
    mine, connected, _ = await connect(await session_cookie_for(acme.agents[0], acme.tenant))
    assert connected
    outsider, connected, _ = await connect(await session_cookie_for(globex.agents[0], globex.tenant))
    assert connected
    layer = get_channel_layer()
    event = {"type": "ticket.assigned", "ticket": "ABCD-2345"}
    await layer.group_send(agent_group(acme.tenant.pk, acme.agents[0].pk), {"type": "push", "event": event})
    assert await mine.receive_json_from(timeout=2) == event
    assert await outsider.receive_nothing(timeout=0.3)
    # The same agent id in the other tenant is a different group.
    await layer.group_send(agent_group(globex.tenant.pk, acme.agents[0].pk), {"type": "push", "event": event})
    assert await mine.receive_nothing(timeout=0.3)
    await mine.disconnect()
    await outsider.disconnect()


@database_sync_to_async
def open_connections(world, agent) -> int:
    from helpdesk.tenancy import tenant_context
    from routing.models import AgentPresence

    with tenant_context(world.tenant):
        return AgentPresence.objects.get(agent=agent).open_connections


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_socket_counts_the_agents_open_connections(acme):
    cookie = await session_cookie_for(acme.agents[0], acme.tenant)
    first, connected, _ = await connect(cookie)
    second, connected_too, _ = await connect(cookie)
    assert connected and connected_too
    assert await open_connections(acme, acme.agents[0]) == 2
    await first.disconnect()
    await second.disconnect()
    assert await open_connections(acme, acme.agents[0]) == 0
