from django.conf import settings

from helpdesk.middleware import SESSION_TENANT_KEY
from helpdesk.models import Membership


def test_a_page_view_does_not_rewrite_an_unchanged_session(client, acme):
    client.force_login(acme.agents[0].user)
    first = client.get("/")
    assert first.status_code == 200
    assert client.session[SESSION_TENANT_KEY] == acme.tenant.pk
    second = client.get("/")
    assert second.status_code == 200
    assert settings.SESSION_COOKIE_NAME not in second.cookies  # nothing changed, nothing saved


def test_the_session_remembers_the_members_tenant(client, acme, globex):
    user = acme.agents[0].user
    Membership.objects.create(tenant=globex.tenant, user=user, role="agent")
    client.force_login(user)
    session = client.session
    session[SESSION_TENANT_KEY] = globex.tenant.pk
    session.save()
    client.get("/")
    assert client.session[SESSION_TENANT_KEY] == globex.tenant.pk
