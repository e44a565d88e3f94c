import io

import pytest
from django.core.management import CommandError, call_command

from departments.models import Department
from helpdesk.models import ApiKey, Tenant
from helpdesk.selectors import actor_for_raw_api_key
from helpdesk.tenancy import tenant_context
from tickets.models import Ticket, TicketEvent


def test_healthz_answers_while_the_process_is_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_answers_200_when_database_and_broker_are_reachable(client, db):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


def test_readyz_answers_503_when_the_broker_is_unreachable(client, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "failing"


def test_create_api_key_prints_a_key_that_authenticates_and_stores_only_its_hash(acme):
    out = io.StringIO()
    call_command("create_api_key", "acme", "zapier", stdout=out)
    raw_key = out.getvalue().strip()
    stored = ApiKey.objects.get(name="zapier")
    assert stored.key_hash == ApiKey.hash_key(raw_key) and raw_key not in stored.key_hash
    with tenant_context(acme.tenant):
        actor = actor_for_raw_api_key(raw_key=raw_key)
    assert actor.tenant == acme.tenant and actor.is_admin


def test_create_api_key_for_an_unknown_tenant_fails_clearly(db):
    with pytest.raises(CommandError, match="No tenant"):
        call_command("create_api_key", "nobody", "x", stdout=io.StringIO())


def test_create_api_key_for_an_agent_acts_as_that_agent(acme):
    out = io.StringIO()
    call_command("create_api_key", "acme", "bot", "--role", "agent", "--agent", "agent1@acme.test", stdout=out)
    with tenant_context(acme.tenant):
        actor = actor_for_raw_api_key(raw_key=out.getvalue().strip())
        assert not actor.is_admin and actor.agent == acme.agents[0]


def test_seed_demo_is_idempotent_and_prints_logins_and_one_key_per_tenant(db):
    first = io.StringIO()
    call_command("seed_demo", stdout=first)
    counts = {}
    for tenant in Tenant.objects.all():
        with tenant_context(tenant):
            counts[tenant.slug] = (Ticket.objects.count(), TicketEvent.objects.count(), Department.objects.count())
    assert set(counts) == {"acme", "globex"}
    assert counts["acme"][0] >= 200 and counts["globex"][0] >= 100
    with tenant_context(Tenant.objects.get(slug="acme")):
        assert set(Department.objects.values_list("name", flat=True)) == {"Sales", "Technical Support", "Billing"}
    second = io.StringIO()
    call_command("seed_demo", stdout=second)
    for tenant in Tenant.objects.all():
        with tenant_context(tenant):
            now = (Ticket.objects.count(), TicketEvent.objects.count(), Department.objects.count())
            assert now == counts[tenant.slug]
    text = second.getvalue()
    assert "admin@acme.test" in text and "admin@globex.test" in text
    keys = [line.split("API key:")[1].strip() for line in text.splitlines() if "API key:" in line]
    assert len(keys) == 2
    for raw_key in keys:
        assert ApiKey.objects.get(key_hash=ApiKey.hash_key(raw_key)).revoked_at is None
    assert ApiKey.objects.filter(name="Demo key", revoked_at__isnull=True).count() == 2
