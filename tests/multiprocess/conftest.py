"""Two daphne servers and two Celery workers, as separate processes, on the test database and the test Redis.

The test process creates data with committed transactions (every test here is transactional); routing runs
in the workers; pushes travel through the Redis channel layer to whichever server holds the socket.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
import redis
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import connections

from departments.models import AgentProfile
from helpdesk.middleware import SESSION_TENANT_KEY
from helpdesk.models import Tenant
from routing.models import Chat, ChatWidget
from tests.multiprocess.cluster import Cluster
from tests.multiprocess.streams import ClientLoop, StreamClient

CLUSTER_HEARTBEAT_SECONDS = 1


def flush_redis() -> None:
    """Empty the Redis database the channel layer (and the broker) use, from a client of its own, as a Redis
    that restarted without persistence or failed over to an empty replica would be."""
    client = redis.Redis.from_url(settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0])
    try:
        client.flushdb()
    finally:
        client.close()


# Package scope: the workers must be gone before the rest of the suite runs, or they would route the items
# that other tests queue and expect to find still waiting.
@pytest.fixture(scope="package")
def cluster(django_db_setup, tmp_path_factory) -> Iterator[Cluster]:
    if not os.environ.get("REDIS_URL"):
        pytest.exit("The multi-process tests need REDIS_URL (a Redis database of their own).", returncode=2)
    db = connections["default"].settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "DATABASE_URL": f"postgres://{settings.DATABASE_APP_ROLE}@{db['HOST'] or '127.0.0.1'}:"
                        f"{db['PORT'] or 5432}/{db['NAME']}",
        # No persistent connections: nothing of theirs may linger when the test database is dropped.
        "DB_CONN_MAX_AGE": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LOG_LEVEL": "WARNING",
        # Sockets beat every second, so a server's death shows in the agents' presence within seconds.
        "PRESENCE_HEARTBEAT_SECONDS": str(CLUSTER_HEARTBEAT_SECONDS),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    flush_redis()  # no routing task or group membership left over from an earlier run
    cluster = Cluster.build(env=env, logs=tmp_path_factory.mktemp("cluster"), servers=2, workers=2)
    try:
        cluster.ensure_running()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def servers(cluster: Cluster, transactional_db) -> Iterator[Cluster]:
    """The cluster with every process running (a test may have killed one); no stale tasks or groups."""
    flush_redis()
    cluster.ensure_running()
    yield cluster


@pytest.fixture
def client_loop() -> Iterator[ClientLoop]:
    loop = ClientLoop()
    yield loop
    loop.close()


def session_cookie(agent: AgentProfile, tenant: Tenant) -> str:
    """A signed-in browser's session cookie for the agent, with the tenant selected (as the login view leaves
    it)."""
    session = SessionStore()
    session[SESSION_KEY] = str(agent.user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = agent.user.get_session_auth_hash()
    session[SESSION_TENANT_KEY] = tenant.pk
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


@pytest.fixture
def agent_tab(client_loop: ClientLoop):
    """``agent_tab(agent, tenant)``: a new browser tab of the agent, signed in, not yet connected."""

    def make(agent: AgentProfile, tenant: Tenant) -> StreamClient:
        return StreamClient(client_loop, path="/ws/agent/", headers={"Cookie": session_cookie(agent, tenant)})

    return make


@pytest.fixture
def visitor_tab(client_loop: ClientLoop):
    """``visitor_tab(widget, chat, token)``: the chat visitor's widget on a page of one of the widget's sites (the
    client's Origin), not yet connected."""

    def make(widget: ChatWidget, chat: Chat, token: str) -> StreamClient:
        query = urlencode({"key": widget.key, "chat": chat.pk, "token": token})
        return StreamClient(client_loop, path=f"/ws/chat/?{query}", headers={})

    return make
