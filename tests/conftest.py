"""Shared fixtures. The suite runs on PostgreSQL as the application role, so row-level security is live in
every test, exactly as in production."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connections
from rest_framework.test import APIClient

from helpdesk.tenancy import tenant_context
from tests import factories


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    conn = connections["default"]
    if conn.vendor != "postgresql":
        pytest.exit("The tests run on PostgreSQL: set DATABASE_URL (see 'make test').", returncode=2)
    owner = conn.settings_dict["USER"]
    app_role = settings.DATABASE_APP_ROLE
    with django_db_blocker.unblock():
        with conn.cursor() as cursor:
            # Transactional tests empty tables with TRUNCATE between tests; production never needs it.
            cursor.execute(f'GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO "{app_role}"')
        conn.close()
        conn.settings_dict["USER"] = app_role
        yield
        conn.close()
        conn.settings_dict["USER"] = owner


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the shared cache (Redis): each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def acme(db):
    return factories.TenantWorld.create("acme")


@pytest.fixture
def globex(db):
    """The outsider: another tenant whose users and keys must never reach acme's data."""
    return factories.TenantWorld.create("globex")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def in_tenant():
    """Run a block as a tenant: ``with in_tenant(world.tenant): ...``."""
    return tenant_context
