"""Shared fixtures. The suite runs on PostgreSQL as the application role, so row-level security is live in
every test, exactly as in production."""

from __future__ import annotations

import time

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


@pytest.fixture(scope="session", autouse=True)
def _flush_retries_when_servers_write():
    """Empty the tables between transactional tests even while a server or worker process of the test still
    writes (a closing browser tab's socket marks its agent gone; a beat ticks): TRUNCATE can deadlock with such
    a write, and PostgreSQL then aborts one of the two. The flush is tried again; the app's write is not ours
    to protect here."""
    from django.db import OperationalError
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        for attempt in range(10):
            try:
                return original(self, sql_list)
            except OperationalError as exc:
                if attempt == 9 or "deadlock" not in str(exc).lower():
                    raise
                time.sleep(0.2 * (attempt + 1))

    DatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    DatabaseOperations.execute_sql_flush = original


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
