"""Conditions the database decides (dry runs, time rules) select exactly the tickets the Python evaluation
(the engine) matches: every field and operator the translation covers, on tickets that differ in each field."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from helpdesk.tenancy import tenant_context
from routing.rules.conditions import condition_matches
from routing.rules.facts import facts_scan
from routing.rules.fields import FIELDS
from routing.rules.queries import condition_q, groups_q
from tests.routing.routing_world import team
from tests.rules.helpers import cond
from tickets import services as ticket_services
from tickets.models import Category, Ticket

pytestmark = pytest.mark.django_db

NOW = timezone.now()


@pytest.fixture
def tickets(acme):
    billing, (bob,) = team(acme, {"display_name": "Bob"}, name="Billing")
    with tenant_context(acme.tenant):
        hardware = Category.objects.create(tenant=acme.tenant, name="Hardware")
    specs = [
        {"channel": "twitter", "subject": "Refund please", "tags": ["vip"], "priority": 4, "department": billing,
         "assignee": bob, "category": hardware, "created_at": NOW - timedelta(days=2),
         "contact": ticket_services.ContactData(name="Ann Lee", email="ann@big.example")},
        {"channel": "email", "subject": "refund for ORDER 7", "tags": [], "priority": 1, "department": None,
         "contact": ticket_services.ContactData(name="Bo", email="bo@small.example")},
        {"channel": "facebook", "subject": "Hello", "tags": ["vip", "late"], "priority": 2,
         "contact": ticket_services.ContactData(name="Cy", email="cy@big.example")},
        {"channel": "chat", "subject": "Order missing", "tags": ["late"], "priority": 3,
         "contact": ticket_services.ContactData(name="Ann Other", phone="+1 555 0101")},
    ]
    made = [acme.ticket(**spec) for spec in specs]
    with tenant_context(acme.tenant):
        ticket_services.ticket_update(actor=acme.admin, ticket=Ticket.objects.get(pk=made[2].pk), status="open")
    return {"ids": [t.pk for t in made], "billing": billing.pk, "bob": bob.pk, "hardware": hardware.pk}


SAMPLES = {
    "channel": ["twitter", ["twitter", "facebook"]],
    "subject": ["refund please", "refund", "ORDER", ["hello", "order missing"]],
    "customer_email": ["ann@big.example", "big.example", ["bo@small.example"]],
    "customer_domain": ["big.example"],
    "customer_name": ["ann", "Ann Lee", ["cy", "bo"]],
    "priority": ["medium", "low", ["high", "urgent"]],
    "status": ["new", ["open", "resolved"]],
    "tags": ["vip", ["late", "nothing"]],
    "created_at": [(NOW - timedelta(days=1)).isoformat()],
}


def cases(refs: dict) -> list[dict]:
    samples = {**SAMPLES, "department": [refs["billing"], [refs["billing"], 999]],
               "assignee": [refs["bob"]], "category": [refs["hardware"]]}
    out = []
    for name, spec in FIELDS.items():
        for operator in spec.operators:
            values = [None] if operator in ("is_empty", "is_not_empty") else [
                v for v in samples.get(name, []) if isinstance(v, list) == (operator in ("in", "not_in"))]
            for value in values:
                condition = cond(name, operator, value)
                if condition_q(condition) is not None:
                    out.append(condition)
    return out


def test_every_translated_condition_selects_what_python_matches(acme, tickets):
    checked = 0
    with tenant_context(acme.tenant):
        mine = Ticket.objects.filter(pk__in=tickets["ids"]).order_by("id")
        facts = dict(facts_scan(mine, needed=frozenset(FIELDS), limit=10))
        for condition in cases(tickets):
            in_database = set(mine.filter(condition_q(condition)).values_list("pk", flat=True))
            in_python = {pk for pk, f in facts.items() if condition_matches(condition, f)}
            assert in_database == in_python, condition
            checked += 1
    assert checked >= 50  # the translation covers most fields and operators


def test_groups_translate_to_or_of_ands_and_say_when_python_must_finish(acme, tickets):
    groups = [[cond("channel", "is", "twitter"), cond("tags", "contains", "vip")], [cond("priority", "lt", "medium")]]
    q, exact = groups_q(groups)
    with tenant_context(acme.tenant):
        assert set(Ticket.objects.filter(q).values_list("pk", flat=True)) == {tickets["ids"][0], tickets["ids"][1]}
    assert exact
    assert groups_q([[cond("channel", "is", "email"), cond("subject", "matches", r"\d")]])[1] is False
