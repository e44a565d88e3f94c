"""Another tenant's key never reaches acme's data, on any route the API has.

The walk reads the routes from the generated OpenAPI schema, so a route added later is covered without
touching this file; a path parameter it does not know fails the walk until it is mapped here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from departments import business_hours, replies
from departments.models import AgentProfile, Department
from helpdesk.tenancy import tenant_context
from routing import calls
from routing.models import Offer, OfferState, RoutingDecision, RoutingItem, RoutingSettings, Rule
from routing.rules import services as rule_services
from tests.api.helpers import HTTP_METHODS, api_schema, error_of, field_errors, ids, schema_operations
from tests.factories import TenantWorld
from tickets import services as ticket_services
from tickets.models import CallRecord, Message, Ticket, TicketEvent

# How each path parameter names one of acme's objects. A new parameter must be added here, or the walk fails.
PATH_PARAMETERS: dict[str, Callable[[dict[str, Any]], int]] = {
    "ticket_id": lambda acme_objects: acme_objects["ticket"].pk,
    "department_id": lambda acme_objects: acme_objects["department"].pk,
    "agent_id": lambda acme_objects: acme_objects["agent"].pk,
    "call_id": lambda acme_objects: acme_objects["call"].pk,
    "decision_id": lambda acme_objects: acme_objects["decision"].pk,
    "offer_id": lambda acme_objects: acme_objects["offer"].pk,
    "rule_id": lambda acme_objects: acme_objects["rule"].pk,
    "hours_id": lambda acme_objects: acme_objects["hours"].pk,
    "policy_id": lambda acme_objects: acme_objects["policy"].pk,
    "template_id": lambda acme_objects: acme_objects["template"].pk,
    "canned_id": lambda acme_objects: acme_objects["canned"].pk,
}


OPERATIONS = list(schema_operations())


@pytest.fixture
def acme_objects(acme: TenantWorld) -> dict[str, Any]:
    """Acme data whose every text says "acme", so any leak of it shows in a response body."""
    ticket = acme.ticket(
        subject="Acme secret: the prototype", tags=["acme-roadmap"],
        contact=ticket_services.ContactData(name="Acme Buyer", email="buyer@acme.example", phone="+1 555 0100"),
    )
    with tenant_context(acme.tenant):
        ticket_services.message_add(
            actor=acme.admin, ticket=ticket, kind="note", body="acme internal note",
            attachments=[SimpleUploadedFile("acme-plan.txt", b"acme", content_type="text/plain")],
        )
        call = calls.call_receive(actor=acme.key_actor(acme.api_key), caller_number="+1 555 0100",
                                  line="acme hotline", department=acme.department)
        # Rows as the routing worker leaves them after offering the call to agent 1; written directly so the
        # walk does not depend on a worker's decision.
        item = RoutingItem.objects.get(ticket=call.ticket)
        decision = RoutingDecision.objects.create(
            tenant=acme.tenant, item=item, ticket=call.ticket, channel="call", method="priority",
            candidates=[{"agent_id": acme.agents[0].pk, "name": "Acme Agent 1", "status": "online", "load": 0,
                         "max_load": 1, "priority": 50, "last_assigned_at": None, "result": "offered",
                         "reason": ""}],
            winner_ids=[acme.agents[0].pk], outcome="offered to acme agent 1",
        )
        offer = Offer.objects.create(tenant=acme.tenant, item=item, agent=acme.agents[0], decision=decision,
                                     expires_at=timezone.now() + timedelta(minutes=5))
        rule = rule_services.rule_create(actor=acme.admin, data={
            "name": "Acme secret rule", "trigger": "ticket_updated", "actions": [{"type": "resolve"}]})
        hours = business_hours.business_hours_create(actor=acme.admin, time_zone="Europe/Berlin",
                                                     weekly={"mon": [["09:00", "17:00"]]},
                                                     holidays=[{"date": "2025-12-24", "name": "Acme party"}])
        policy = business_hours.sla_policy_create(actor=acme.admin, name="Acme secret SLA",
                                                  targets={"urgent": {"first_response": 5}},
                                                  customer_domains=["acme.example"])
        template = replies.email_template_create(actor=acme.admin, kind="acknowledgement",
                                                 subject="Acme secret subject", body="acme secret body")
        canned = replies.canned_response_create(actor=acme.admin, shortcut="acme-secret", title="Acme secret",
                                                body="acme secret answer")
    return {"ticket": ticket, "department": acme.department, "agent": acme.agents[0], "call": call,
            "decision": decision, "offer": offer, "rule": rule, "hours": hours, "policy": policy,
            "template": template, "canned": canned}


def _snapshot(acme: TenantWorld) -> dict[str, Any]:
    with tenant_context(acme.tenant):
        return {
            "tickets": list(Ticket.objects.order_by("id").values()),
            "messages": Message.objects.count(),
            "events": TicketEvent.objects.count(),
            "departments": list(Department.objects.order_by("id").values()),
            "members": sorted(Department.members.through.objects.values_list("department_id", "agent_id")),
            "agents": list(AgentProfile.objects.order_by("id").values()),
            "calls": list(CallRecord.objects.order_by("id").values()),
            "ringing_offers": Offer.objects.filter(state=OfferState.RINGING).count(),
            "routing_settings": list(RoutingSettings.objects.values()),
            "rules": list(Rule.objects.order_by("id").values()),
        }


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    if "allOf" in node:
        return _resolve(schema, node["allOf"][0])
    return node


def _example(schema: dict[str, Any], node: dict[str, Any]) -> Any:
    """A value that passes validation for ``node``, so that a 404 cannot hide behind a 400."""
    node = _resolve(schema, node)
    if "enum" in node:
        return node["enum"][0]
    kind = node.get("type")
    if kind == "object":
        required = set(node.get("required", []))
        return {name: _example(schema, prop) for name, prop in node.get("properties", {}).items() if name in required}
    if kind == "array":
        return []
    if kind == "integer":
        return 1
    if kind == "boolean":
        return True
    formats = {"email": "probe@globex.example", "date-time": (timezone.now() + timedelta(days=1)).isoformat()}
    return formats.get(node.get("format"), "probe")


def _body(schema: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any] | None:
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    return _example(schema, content["application/json"]["schema"])


def _url(path: str, operation: dict[str, Any], acme_objects: dict[str, Any]) -> str:
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "path":
            continue
        name = parameter["name"]
        if name not in PATH_PARAMETERS:
            pytest.fail(f"{path}: no acme object is mapped to the path parameter {name!r}; add it to PATH_PARAMETERS")
        path = path.replace("{" + name + "}", str(PATH_PARAMETERS[name](acme_objects)))
    assert "{" not in path, path
    return path


def test_the_walk_covers_the_api():
    walked = {(path, method) for path, method, _ in OPERATIONS}

    assert len(walked) >= 16
    assert ("/api/v1/tickets/{ticket_id}/messages/", "post") in walked
    assert ("/api/v1/departments/{department_id}/", "patch") in walked


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS,
                         ids=[f"{m.upper()} {p}" for p, m, _ in OPERATIONS])
def test_another_tenants_key_never_reaches_acme_data(client_with, acme, globex, acme_objects, path, method,
                                                     operation):
    schema = api_schema()
    client = client_with(globex.api_key)
    before = _snapshot(acme)
    url = _url(path, operation, acme_objects)
    body = _body(schema, operation)

    response = getattr(client, method)(url, body, format="json") if body is not None else getattr(client, method)(url)

    text = response.content.decode().lower()
    assert "acme" not in text, f"{method.upper()} {url} answered with acme data: {text[:300]}"
    if "{" in path:
        assert error_of(response, 404)["code"] == "not_found"
    else:
        assert response.status_code < 500, response.content
        if method == "get":
            assert response.status_code == 200
    assert _snapshot(acme) == before


@pytest.mark.parametrize("path", sorted({p for p, _, _ in OPERATIONS if "{" in p}))
def test_methods_a_route_does_not_offer_reveal_nothing_either(client_with, acme, globex, acme_objects, path):
    client = client_with(globex.api_key)
    operation = next(op for p, _, op in OPERATIONS if p == path)
    url = _url(path, operation, acme_objects)

    for method in HTTP_METHODS:
        response = getattr(client, method)(url, {}, format="json")
        assert response.status_code in (404, 405), (method, url, response.status_code)
        assert "acme" not in response.content.decode().lower()


def test_another_tenants_ids_in_a_body_are_unknown_ids(client_with, acme, globex, acme_objects):
    client = client_with(globex.api_key)
    globex_ticket = globex.ticket()

    created = client.post("/api/v1/tickets/", {
        "subject": "x", "body": "y", "contact": {"email": "c@example.com"},
        "department": acme.department.pk, "assignee": acme.agents[0].pk,
    }, format="json")
    moved = client.patch(f"/api/v1/tickets/{globex_ticket.pk}/", {"department": acme.department.pk}, format="json")
    staffed = client.patch(f"/api/v1/departments/{globex.department.pk}/",
                           {"members": [acme.agents[0].pk], "leader": acme.agents[1].pk}, format="json")

    assert field_errors(created) == {"department": ["No such department."], "assignee": ["No such agent."]}
    assert list(field_errors(moved)) == ["department"]
    assert set(field_errors(staffed)) == {"members", "leader"}
    with tenant_context(globex.tenant):
        assert Ticket.objects.count() == 1
        assert Ticket.objects.get(pk=globex_ticket.pk).department_id == globex.department.pk


def test_filtering_by_another_tenants_ids_finds_nothing(client_with, acme, globex, acme_objects):
    client = client_with(globex.api_key)
    globex.ticket()

    assert ids(client.get("/api/v1/tickets/", {"department": acme.department.pk})) == []
    assert ids(client.get("/api/v1/tickets/", {"assignee": acme.agents[0].pk})) == []
    assert ids(client.get("/api/v1/tickets/", {"tag": "acme-roadmap"})) == []
    assert ids(client.get("/api/v1/agents/", {"department": acme.department.pk})) == []


def test_another_tenants_cursor_shows_only_the_callers_rows(client_with, acme, globex, acme_objects):
    for _ in range(3):
        acme.ticket()
    acme_page = client_with(acme.api_key).get("/api/v1/tickets/", {"page_size": 2}).json()
    globex_tickets = {globex.ticket().pk for _ in range(2)}

    response = client_with(globex.api_key).get(acme_page["next"])

    assert set(ids(response)) <= globex_tickets
    assert "acme" not in response.content.decode().lower()


def test_the_tenant_endpoint_answers_with_the_keys_own_tenant(client_with, acme, globex):
    assert client_with(acme.api_key).get("/api/v1/tenant/").json() == {
        "slug": "acme", "name": "Acme", "time_zone": "UTC",
    }
    assert client_with(globex.api_key).get("/api/v1/tenant/").json()["slug"] == "globex"
