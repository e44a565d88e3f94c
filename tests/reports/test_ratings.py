"""Customers rate a resolved ticket through its link; the rating shows on the ticket and in the reports."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from helpdesk.tenancy import tenant_context
from reports import rollups
from reports.models import Rating
from reports.ratings import rating_link_for
from tests.web.conftest import signed_in
from tickets import services as ticket_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def resolved(acme):
    with tenant_context(acme.tenant):
        ticket = acme.ticket(assignee=acme.agents[0])
        ticket_services.message_add(actor=acme.actor_of(acme.agents[0]), ticket=ticket, kind="reply", body="Fixed.")
        ticket_services.ticket_update(actor=acme.admin, ticket=ticket, status="resolved")
        return ticket


def test_the_link_lets_the_customer_rate_without_signing_in(client, acme, resolved, settings):
    with tenant_context(acme.tenant):
        link = rating_link_for(resolved)
    assert link.startswith(f"{settings.PUBLIC_BASE_URL}/rate/")
    assert client.get(link).status_code == 200
    response = client.post(link, {"value": "positive", "comment": "Quick and kind."})
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        rating = Rating.objects.get(ticket=resolved)
    assert (rating.value, rating.comment) == ("positive", "Quick and kind.")
    assert (rating.agent_id, rating.department_id, rating.channel) == (acme.agents[0].pk, acme.department.pk, "email")
    assert len(rating.token_hash) == 64 and rating.token_hash not in link
    assert 'data-rating-given="positive"' in client.get(link).content.decode()


def test_the_link_is_absolute_with_a_base_url(acme, resolved):
    with tenant_context(acme.tenant):
        assert rating_link_for(resolved, base_url="https://help.acme.test/").startswith("https://help.acme.test/rate/")


def test_a_rating_can_be_changed_for_a_while_and_then_not(client, acme, resolved):
    with tenant_context(acme.tenant):
        link = rating_link_for(resolved)
    client.post(link, {"value": "positive"})
    client.post(link, {"value": "negative", "comment": "Changed my mind."})
    with tenant_context(acme.tenant):
        assert Rating.objects.get(ticket=resolved).value == "negative"
        assert Rating.objects.count() == 1
        Rating.objects.filter(ticket=resolved).update(created_at=timezone.now() - timedelta(days=8))
    response = client.post(link, {"value": "positive"})
    assert response.status_code == 400
    with tenant_context(acme.tenant):
        assert Rating.objects.get(ticket=resolved).value == "negative"


def test_an_unresolved_ticket_cannot_be_rated_yet(client, acme):
    with tenant_context(acme.tenant):
        ticket = acme.ticket()
        link = rating_link_for(ticket)
    response = client.post(link, {"value": "positive"})
    assert response.status_code == 400
    with tenant_context(acme.tenant):
        assert not Rating.objects.exists()


@pytest.mark.parametrize("value", ["", "excellent"])
def test_a_rating_needs_good_or_bad(client, acme, resolved, value):
    with tenant_context(acme.tenant):
        link = rating_link_for(resolved)
    assert client.post(link, {"value": value}).status_code == 400


def test_a_forged_or_mangled_link_is_not_found(client, acme, resolved):
    with tenant_context(acme.tenant):
        link = rating_link_for(resolved)
    assert client.get(link[:-3] + "abc/").status_code == 404
    assert client.get("/rate/not-a-token/").status_code == 404


def test_the_rating_shows_on_the_ticket_page(client, acme, resolved):
    with tenant_context(acme.tenant):
        link = rating_link_for(resolved)
    client.post(link, {"value": "negative", "comment": "Too slow"})
    page = signed_in(acme, acme.admin.membership.user).get(f"/tickets/{resolved.code}/").content.decode()
    assert 'data-rating="negative"' in page and "Too slow" in page


def test_a_rating_counts_in_the_report_at_once_even_for_a_rolled_up_hour(client, acme, resolved, settings):
    settings.REPORTS_API_RATE = "1000/min"
    with tenant_context(acme.tenant):
        rollups.rollup_run(now=timezone.now() + timedelta(hours=2))  # everything so far is rolled up
        link = rating_link_for(resolved)
    api = client.__class__()
    today = timezone.now().date().isoformat()
    params = {"date_from": today, "date_to": today, "interval": "range", "tz": "UTC"}

    def figures() -> dict:
        rows = [r for r in api.get("/api/v1/reports/departments/", params,
                                   HTTP_AUTHORIZATION=f"Bearer {acme.api_key}").json()["rows"]
                if r["group_id"] == acme.department.pk]
        return {k: rows[0][k] for k in ("ratings_positive", "ratings_negative", "not_rated", "ratings_positive_pct")}

    assert figures() == {"ratings_positive": 0, "ratings_negative": 0, "not_rated": 1, "ratings_positive_pct": 0.0}
    client.post(link, {"value": "positive"})
    assert figures() == {"ratings_positive": 1, "ratings_negative": 0, "not_rated": 0,
                         "ratings_positive_pct": 100.0}
    client.post(link, {"value": "negative"})
    assert figures()["ratings_negative"] == 1
    with tenant_context(acme.tenant):
        rollups.rollup_run(now=timezone.now() + timedelta(hours=2))
    assert figures()["ratings_negative"] == 1
    assert re.match(rf"^{re.escape(settings.PUBLIC_BASE_URL)}/rate/[\w:\-]+/$", link)
