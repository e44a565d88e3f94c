"""Who may call the API: a valid key of the tenant, or a signed-in member's browser session with CSRF."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from helpdesk import services as helpdesk_services
from helpdesk.models import ApiKey, User
from tests.api.helpers import error_of, schema_operations

OPERATIONS = [(path, method) for path, method, _ in schema_operations()]

TICKETS = "/api/v1/tickets/"


def assert_unauthorized(response) -> None:
    error = error_of(response, 401)
    assert error["code"] in ("not_authenticated", "authentication_failed")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_request_without_a_key_is_a_401(api_client, acme):
    assert_unauthorized(api_client.get(TICKETS))


@pytest.mark.parametrize("header", ["Bearer hdk_not-a-real-key", "Bearer ", "Token something", "Basic dXNlcjpwdw=="])
def test_an_invalid_key_or_scheme_is_a_401(api_client, acme, header):
    api_client.credentials(HTTP_AUTHORIZATION=header)

    assert_unauthorized(api_client.get(TICKETS))


def test_a_revoked_key_is_a_401(client_with, acme):
    client = client_with(acme.api_key)
    assert client.get(TICKETS).status_code == 200

    helpdesk_services.api_key_revoke(api_key=ApiKey.objects.get(key_hash=ApiKey.hash_key(acme.api_key)))

    assert_unauthorized(client.get(TICKETS))


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m.upper()} {p}" for p, m in OPERATIONS])
def test_every_route_needs_a_key(api_client, acme, path, method):
    url = re.sub(r"\{[^}]+\}", "1", path)

    assert_unauthorized(getattr(api_client, method)(url, {}, format="json"))


def test_a_signed_in_members_session_works_and_needs_csrf_to_write(acme):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(User.objects.get(email="owner@acme.test"))

    assert client.get("/api/v1/tenant/").json()["slug"] == "acme"
    refused = client.post("/api/v1/departments/", {"name": "Sales"}, format="json")
    error = error_of(refused, 403)
    assert error["code"] == "permission_denied" and "CSRF" in error["message"]
