"""The rules API: admins only, field errors for rules that do not fit, 404 for another tenant's rules, dry runs
that change nothing, paged lists at a fixed query count, and all of it in the OpenAPI schema."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from helpdesk.tenancy import tenant_context
from routing.models import Rule, RuleChange
from tests.api.helpers import api_schema, error_of, field_errors, results
from tests.routing.routing_helpers import client_for
from tests.routing.routing_world import team
from tests.rules.helpers import act, cond, rule
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

SOCIAL = {
    "name": "Social to Marketing", "trigger": "ticket_created", "active": True,
    "condition_groups": [[{"field": "channel", "operator": "is", "value": "twitter"}],
                         [{"field": "channel", "operator": "is", "value": "facebook"}]],
    "actions": [{"type": "unassign", "value": None}],
}


@pytest.fixture
def admin(acme):
    return client_for(acme.api_key)


def test_admin_creates_reads_changes_and_deletes_a_rule(acme, admin):
    marketing, _ = team(acme, {}, name="Marketing")
    body = {**SOCIAL, "actions": [{"type": "transfer", "value": marketing.pk}, {"type": "unassign"}]}
    created = admin.post("/api/v1/rules/", body, format="json")
    assert created.status_code == 201, created.content
    rule_id = created.json()["id"]
    assert created.json()["position"] == 1 and created.json()["actions"][0] == {"type": "transfer",
                                                                                 "value": marketing.pk}

    changed = admin.patch(f"/api/v1/rules/{rule_id}/", {"active": False, "note": "paused"}, format="json")
    assert changed.status_code == 200 and changed.json()["active"] is False
    assert admin.get(f"/api/v1/rules/{rule_id}/").json()["note"] == "paused"
    assert admin.delete(f"/api/v1/rules/{rule_id}/").status_code == 204
    assert admin.get(f"/api/v1/rules/{rule_id}/").status_code == 404
    changes = results(admin.get("/api/v1/rules/changes/"))
    assert [c["action"] for c in changes] == ["deleted", "changed", "created"]
    assert changes[1]["changes"]["active"] == [True, False]
    assert {c["actor_label"] for c in changes} == {"API key integration"}


def test_rules_that_do_not_fit_get_field_errors_and_nothing_is_saved(acme, admin):
    bad = {**SOCIAL, "condition_groups": [[{"field": "priority", "operator": "contains", "value": "x"},
                                           {"field": "subject", "operator": "matches", "value": "(a+)+$"},
                                           {"field": "department", "operator": "is", "value": 999999}]],
           "actions": [{"type": "assign", "value": "bob"}], "colour": "red"}
    assert set(field_errors(admin.post("/api/v1/rules/", bad, format="json"))) == {"colour"}
    del bad["colour"]
    errors = field_errors(admin.post("/api/v1/rules/", bad, format="json"))
    assert set(errors) == {"condition_groups[0][0].operator", "condition_groups[0][1].value", "actions[0].value"}
    bad["condition_groups"] = [[bad["condition_groups"][0][2]]]
    bad["actions"] = [{"type": "resolve"}]
    assert field_errors(admin.post("/api/v1/rules/", bad, format="json")) == {
        "condition_groups[0][0].value": ["No such department: 999999."]}
    with tenant_context(acme.tenant):
        assert not Rule.objects.exists() and not RuleChange.objects.exists()


def test_another_tenants_rule_is_not_found_and_agents_are_refused(acme, globex, admin):
    theirs = rule(globex, name="Globex secret")
    outsider = client_for(globex.api_key)
    mine = rule(acme, name="Ours")
    assert error_of(admin.get(f"/api/v1/rules/{theirs.pk}/"), 404)
    assert error_of(admin.patch(f"/api/v1/rules/{theirs.pk}/", {"active": False}, format="json"), 404)
    assert error_of(admin.post(f"/api/v1/rules/{theirs.pk}/dry-run/", {
        "start": "2026-01-01T00:00:00Z", "end": "2026-02-01T00:00:00Z"}, format="json"), 404)
    assert error_of(outsider.delete(f"/api/v1/rules/{mine.pk}/"), 404)
    assert [r["name"] for r in results(outsider.get("/api/v1/rules/"))] == ["Globex secret"]
    agent = client_for(acme.agent_api_key)
    assert error_of(agent.get("/api/v1/rules/"), 403)
    assert error_of(agent.post("/api/v1/rules/", SOCIAL, format="json"), 403)


def test_dry_run_of_an_unsaved_and_a_saved_rule_changes_nothing(acme, admin):
    tweets = [acme.ticket(channel="twitter") for _ in range(2)]
    acme.ticket(channel="email")
    window = {"start": (timezone.now() - timezone.timedelta(days=1)).isoformat(),
              "end": (timezone.now() + timezone.timedelta(minutes=1)).isoformat()}
    unsaved = admin.post("/api/v1/rules/dry-run/", {**window, "rule": {**SOCIAL, "actions": [
        {"type": "set_priority", "value": "urgent"}]}}, format="json")
    assert unsaved.status_code == 200, unsaved.content
    assert unsaved.json()["matched"] == 2
    assert unsaved.json()["tickets"][0]["changes"] == {"priority": ["medium", "urgent"]}
    saved = rule(acme, groups=[[cond("channel", "is", "email")]], actions=[act("resolve")], active=False)
    result = admin.post(f"/api/v1/rules/{saved.pk}/dry-run/", window, format="json").json()
    assert result["matched"] == 1 and result["tickets"][0]["changes"] == {"status": ["new", "resolved"]}
    with tenant_context(acme.tenant):
        assert set(Ticket.objects.values_list("priority", "status")) == {(2, "new")}
    assert field_errors(admin.post("/api/v1/rules/dry-run/", {**window, "rule": {**SOCIAL, "actions": []}},
                                   format="json")) == {"actions": ["Add at least one action."]}
    assert tweets


def test_moving_rules_changes_the_order_they_run_in(acme, admin):
    first, second = rule(acme, name="First"), rule(acme, name="Second")
    moved = admin.post(f"/api/v1/rules/{second.pk}/move/", {"direction": "up"}, format="json")
    assert moved.status_code == 200 and moved.json()["position"] == 1
    assert [r["name"] for r in results(admin.get("/api/v1/rules/"))] == ["Second", "First"]
    assert field_errors(admin.post(f"/api/v1/rules/{first.pk}/move/", {"direction": "sideways"},
                                   format="json")) == {"direction": ['"sideways" is not a valid choice.']}


def test_rule_list_costs_the_same_queries_for_3_and_30_rules(acme, admin):
    def count(n_rows: int) -> int:
        with CaptureQueriesContext(connection) as context:
            assert len(results(admin.get("/api/v1/rules/", {"page_size": 100}))) == n_rows
        return len(context.captured_queries)

    admin.get("/api/v1/rules/")
    for i in range(3):
        rule(acme, name=f"R{i}")
    few = count(3)
    for i in range(27):
        rule(acme, name=f"S{i}")
    assert count(30) == few


def test_rules_are_documented_in_the_schema():
    paths = api_schema()["paths"]
    assert set(paths["/api/v1/rules/"]) >= {"get", "post"}
    assert set(paths["/api/v1/rules/{rule_id}/"]) >= {"get", "patch", "delete"}
    assert "post" in paths["/api/v1/rules/dry-run/"] and "post" in paths["/api/v1/rules/{rule_id}/dry-run/"]
