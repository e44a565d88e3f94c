"""Page tests sign in with the test client as a member of a tenant, the way the session does after login."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from departments.models import AgentProfile
from helpdesk.middleware import SESSION_TENANT_KEY
from helpdesk.models import User
from tests.factories import TenantWorld


def signed_in(world: TenantWorld, user: User) -> Client:
    client = Client()
    client.force_login(user)
    session = client.session
    session[SESSION_TENANT_KEY] = world.tenant.pk
    session.save()
    return client


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    # Every tenant fixture creates three logins; the production hasher's deliberate slowness adds up.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def sign_in() -> Callable[..., Client]:
    """``sign_in(acme)`` is acme's owner (an admin); ``sign_in(acme, acme.agents[0])`` an agent."""

    def _sign_in(world: TenantWorld, agent: AgentProfile | None = None) -> Client:
        user = agent.user if agent is not None else world.admin.membership.user
        return signed_in(world, user)

    return _sign_in


@pytest.fixture
def admin_client(acme, sign_in) -> Client:
    return sign_in(acme)


@pytest.fixture
def agent_client(acme, sign_in) -> Client:
    """Agent 1 of acme: a member of the Support department, not an admin."""
    return sign_in(acme, acme.agents[0])
