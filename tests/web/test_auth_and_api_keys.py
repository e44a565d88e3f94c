"""Signing in and out, switching company, and API keys managed from the settings page."""

from __future__ import annotations

import re

from helpdesk.models import ApiKey, Membership, Role
from helpdesk.selectors import actor_for_raw_api_key
from helpdesk.services import user_get_or_create
from tests.factories import PASSWORD
from tests.web.conftest import signed_in


def test_login_by_email_lands_in_the_inbox(acme, client):
    page = client.get("/login/").content.decode()
    assert '<label for="id_username">Email</label>' in page
    response = client.post("/login/", {"username": "Agent1@Acme.test", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert "All tickets" in response.content.decode()


def test_wrong_password_is_an_error_on_the_form(acme, client):
    response = client.post("/login/", {"username": "agent1@acme.test", "password": "wrong"})
    assert response.status_code == 200
    assert "That email and password do not match an account." in response.content.decode()
    assert client.get("/").status_code == 302


def test_logout_needs_a_post(acme, agent_client):
    assert agent_client.get("/logout/").status_code == 405
    assert agent_client.get("/").status_code == 200
    response = agent_client.post("/logout/")
    assert response["Location"] == "/login/"
    assert agent_client.get("/").status_code == 302


def test_a_user_without_membership_is_told_so(db, client):
    user = user_get_or_create(email="loner@example.com", password=PASSWORD)
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 403
    assert "not a member of any company" in response.content.decode()


def test_tenant_switcher_lists_memberships_and_switches(acme, globex):
    user = acme.agents[0].user
    Membership.objects.create(tenant=globex.tenant, user=user, role=Role.ADMIN)
    client = signed_in(acme, user)
    page = client.get("/").content.decode()
    assert f'<option value="{globex.tenant.pk}"' in page
    globex_ticket = globex.ticket(department=None)
    assert client.get(f"/tickets/{globex_ticket.code}/").status_code == 404

    response = client.post("/tenants/", {"tenant": globex.tenant.pk})
    assert response["Location"] == "/"
    assert client.session["tenant_id"] == globex.tenant.pk
    assert client.get(f"/tickets/{globex_ticket.code}/").status_code == 200


def test_tenant_switcher_refuses_a_company_you_are_not_in(acme, globex, agent_client):
    response = agent_client.post("/tenants/", {"tenant": globex.tenant.pk})
    assert response.status_code == 404
    assert agent_client.session["tenant_id"] == acme.tenant.pk
    assert agent_client.post("/tenants/", {"tenant": "abc"}).status_code == 404


def test_header_shows_the_switcher_only_with_several_memberships(acme, agent_client):
    assert 'name="tenant"' not in agent_client.get("/").content.decode()


# --- API keys ---------------------------------------------------------------------------------------------

def test_api_key_is_shown_once_and_stored_hashed(acme, admin_client):
    response = admin_client.post("/settings/api-keys/", {"name": "CRM sync", "role": Role.ADMIN})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    raw_key = re.search(r'value="(hdk_[^"]+)"', response.content.decode()).group(1)
    stored = ApiKey.objects.get(tenant=acme.tenant, name="CRM sync")
    assert stored.key_hash == ApiKey.hash_key(raw_key)
    assert raw_key not in {stored.key_hash, stored.prefix}
    assert stored.created_by_id == acme.admin.membership.user_id

    again = admin_client.get("/settings/api-keys/").content.decode()
    assert raw_key not in again
    assert f"{stored.prefix}…" in again


def test_the_shown_key_authenticates_as_this_tenant_until_revoked(acme, admin_client):
    response = admin_client.post("/settings/api-keys/", {"name": "Script", "role": Role.ADMIN})
    raw_key = re.search(r'value="(hdk_[^"]+)"', response.content.decode()).group(1)
    actor = actor_for_raw_api_key(raw_key=raw_key)
    assert actor is not None
    assert (actor.tenant.pk, actor.role) == (acme.tenant.pk, Role.ADMIN)
    admin_client.post(f"/settings/api-keys/{actor.api_key.pk}/revoke/")
    assert actor_for_raw_api_key(raw_key=raw_key) is None


def test_agent_key_needs_a_member(acme, admin_client):
    missing = admin_client.post("/settings/api-keys/", {"name": "Bot", "role": Role.AGENT})
    assert missing.status_code == 400
    assert "Choose the member this key acts as." in missing.content.decode()
    made = admin_client.post("/settings/api-keys/",
                             {"name": "Bot", "role": Role.AGENT, "agent": acme.agents[0].membership_id})
    assert made.status_code == 200
    assert ApiKey.objects.get(tenant=acme.tenant, name="Bot").membership_id == acme.agents[0].membership_id


def test_agent_key_cannot_act_as_another_tenants_member(acme, globex, admin_client):
    response = admin_client.post("/settings/api-keys/",
                                 {"name": "Bot", "role": Role.AGENT, "agent": globex.agents[0].membership_id})
    assert response.status_code == 400
    assert not ApiKey.objects.filter(tenant=acme.tenant, name="Bot").exists()


def test_revoking_a_key(acme, admin_client):
    key = ApiKey.objects.get(tenant=acme.tenant, name="integration")
    response = admin_client.post(f"/settings/api-keys/{key.pk}/revoke/")
    assert response["Location"] == "/settings/api-keys/"
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_another_tenants_api_key_cannot_be_revoked(acme, globex, admin_client):
    theirs = ApiKey.objects.get(tenant=globex.tenant, name="integration")
    assert admin_client.post(f"/settings/api-keys/{theirs.pk}/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert "integration" in admin_client.get("/settings/api-keys/").content.decode()  # only acme's own
    assert f'data-key="{theirs.pk}"' not in admin_client.get("/settings/api-keys/").content.decode()


def test_agents_cannot_manage_api_keys(acme, agent_client):
    key = ApiKey.objects.get(tenant=acme.tenant, name="integration")
    assert agent_client.get("/settings/api-keys/").status_code == 403
    assert agent_client.post("/settings/api-keys/", {"name": "x", "role": Role.ADMIN}).status_code == 403
    assert agent_client.post(f"/settings/api-keys/{key.pk}/revoke/").status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None
    assert not ApiKey.objects.filter(tenant=acme.tenant, name="x").exists()
