"""Fixtures for the API tests: clients holding a tenant's key, and uploads kept out of the project tree."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def client_with() -> Callable[[str], APIClient]:
    """``client_with(acme.api_key)``: a new client sending that key."""

    def make(raw_key: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
        return client

    return make


@pytest.fixture
def admin_client(api_client, acme) -> APIClient:
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {acme.api_key}")
    return api_client


@pytest.fixture
def agent_client(client_with, acme) -> APIClient:
    """Acting as acme's agent 1, a member of the Support department."""
    return client_with(acme.agent_api_key)

