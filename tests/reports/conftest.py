"""Fixtures for the report tests: API clients holding a tenant's keys."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from tests.reports.activity import generate


@pytest.fixture
def client_with() -> Callable[[str], APIClient]:
    def make(raw_key: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
        return client

    return make


@pytest.fixture
def admin_client(client_with, acme) -> APIClient:
    return client_with(acme.api_key)


@pytest.fixture(autouse=True)
def generous_rate(settings):
    # The rate limit has its own test; elsewhere a test's many reports must not run into it.
    settings.REPORTS_API_RATE = "100000/min"


@pytest.fixture
def world(acme):
    """A month of generated activity (modules that need another mix define their own)."""
    generate(acme, seed=11, tickets=30, days=8)
    return acme
