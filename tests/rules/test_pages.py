"""The rules settings pages: admins list, build, reorder, switch and delete rules; invalid rules come back with
their errors; warnings of rules switched off are shown; agents and other tenants get nothing."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.messages import get_messages

from departments import services as department_services
from departments.models import Department
from helpdesk.tenancy import tenant_context
from routing.models import ParkedRuleRun, Rule, RuleChange
from tests.rules.helpers import act, cond, rule
from tests.web.conftest import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_page(acme):
    return signed_in(acme, acme.admin.membership.user)


def listed_rules(response) -> list[str]:
    return re.findall(r'<tr data-rule="\d+"[^>]*>.*?<a href="[^"]+">([^<]+)</a>', response.content.decode(), re.S)


def post_rule(client, url, **overrides):
    data = {
        "name": "Social to Marketing", "trigger": "ticket_created", "minutes": "", "status": "",
        "condition_groups": json.dumps([[cond("channel", "in", ["twitter", "facebook"])]]),
        "actions": json.dumps([act("unassign")]), "active": "on",
    }
    data.update(overrides)
    return client.post(url, data)


def test_admin_builds_a_rule_and_the_change_is_recorded(acme, admin_page):
    page = admin_page.get("/settings/rules/new/")
    assert page.status_code == 200
    catalog = json.loads(re.search(r'<script id="rule-catalog" type="application/json">(.*?)</script>',
                                   page.content.decode(), re.S).group(1))
    assert [name for _, name in catalog["references"]["department"]] == ["Support"]
    response = post_rule(admin_page, "/settings/rules/new/")
    assert response.status_code == 302 and response["Location"] == "/settings/rules/"
    with tenant_context(acme.tenant):
        saved = Rule.objects.get()
        change = RuleChange.objects.get()
    assert saved.active and saved.condition_groups == [[cond("channel", "in", ["twitter", "facebook"])]]
    assert (change.actor_label, change.action) == ("Acme Owner", "created")
    listing = admin_page.get("/settings/rules/")
    assert listed_rules(listing) == ["Social to Marketing"]
    assert "Acme Owner" in listing.content.decode()


def test_invalid_rule_comes_back_with_its_errors_and_nothing_is_saved(acme, admin_page):
    response = post_rule(admin_page, "/settings/rules/new/", name="",
                         condition_groups=json.dumps([[cond("subject", "matches", "(a+)+")]]), actions="[]",
                         trigger="time_in_status", minutes="0")
    assert response.status_code == 400
    errors = json.loads(re.search(r'<script id="rule-errors" type="application/json">(.*?)</script>',
                                  response.content.decode(), re.S).group(1))
    assert "condition_groups[0][0].value" in errors and "actions" in errors
    text = response.content.decode()
    assert "Give the rule a name." in text and "A whole number of minutes" in text  # beside their fields
    broken = post_rule(admin_page, "/settings/rules/new/", actions="[{not json")
    assert broken.status_code == 400 and "Not valid JSON" in broken.content.decode()
    with tenant_context(acme.tenant):
        assert not Rule.objects.exists()


def test_admin_edits_moves_switches_and_deletes_rules(acme, admin_page):
    first, second = rule(acme, name="First"), rule(acme, name="Second")
    response = post_rule(admin_page, f"/settings/rules/{second.pk}/", name="Second, renamed")
    assert response.status_code == 302
    admin_page.post(f"/settings/rules/{second.pk}/move/", {"direction": "up"})
    assert listed_rules(admin_page.get("/settings/rules/")) == ["Second, renamed", "First"]
    admin_page.post(f"/settings/rules/{first.pk}/switch/", {"active": "false"})
    with tenant_context(acme.tenant):
        assert not Rule.objects.get(pk=first.pk).active
    admin_page.post(f"/settings/rules/{first.pk}/delete/")
    with tenant_context(acme.tenant):
        assert list(Rule.objects.values_list("name", flat=True)) == ["Second, renamed"]
        assert list(RuleChange.objects.order_by("id").values_list("action", flat=True)) == [
            "created", "created", "changed", "moved", "switched off", "deleted"]


def test_a_rule_switched_off_for_a_deleted_department_shows_why_and_stays_off(acme, admin_page):
    with tenant_context(acme.tenant):
        doomed = department_services.department_create(actor=acme.admin, name="Doomed")
    transfer = rule(acme, name="To Doomed", actions=[act("transfer", doomed.pk)])
    with tenant_context(acme.tenant):
        Department.objects.get(pk=doomed.pk).delete()
    listing = admin_page.get("/settings/rules/").content.decode()
    assert "Switched off: the department “Doomed” it names was deleted." in listing
    response = admin_page.post(f"/settings/rules/{transfer.pk}/switch/", {"active": "true"})
    assert "cannot be switched on" in [str(m) for m in get_messages(response.wsgi_request)][0]
    with tenant_context(acme.tenant):
        assert not Rule.objects.get(pk=transfer.pk).active
    assert admin_page.get(f"/settings/rules/{transfer.pk}/").status_code == 200


def test_agents_are_refused_and_another_tenants_rule_is_not_found(acme, globex):
    theirs = rule(globex, name="Globex rule")
    admin_page = signed_in(acme, acme.admin.membership.user)
    assert admin_page.get(f"/settings/rules/{theirs.pk}/").status_code == 404
    assert admin_page.post(f"/settings/rules/{theirs.pk}/delete/").status_code == 404
    agent_page = signed_in(acme, acme.agents[0].user)
    assert agent_page.get("/settings/rules/").status_code == 403
    assert agent_page.post("/settings/rules/new/", {"name": "x"}).status_code == 403
    with tenant_context(globex.tenant):
        assert Rule.objects.filter(pk=theirs.pk).exists()


def test_parked_runs_are_shown_with_their_error(acme, admin_page):
    failing = rule(acme, name="Flaky")
    ticket = acme.ticket()
    with tenant_context(acme.tenant):
        ParkedRuleRun.objects.create(tenant=acme.tenant, rule=failing, ticket=ticket, trigger="ticket_created",
                                     error="RuntimeError: mail server on fire", attempts=3)
    listing = admin_page.get("/settings/rules/").content.decode()
    assert "1 failed run parked" in listing
    assert "RuntimeError: mail server on fire" in listing and ticket.code in listing
