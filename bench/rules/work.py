"""The Django side of the rules benchmark, run as a subprocess by ``bench.rules`` (one command per step).

    python -m bench.rules.work seed --tickets 100000   # as the owner: tenant, 50 rules (off), tickets
    python -m bench.rules.work switch --on             # as the owner: every bench rule on (or --off)
    python -m bench.rules.work engine --after ID        # as helpdesk_app: the rules task for each new ticket

The last line printed is JSON for the runner.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from datetime import timedelta

TENANT_SLUG = "bench-rules"
RULES = 50
# Subjects of the API load carry one of these words; rule i looks for word i, so a quarter of new tickets match
# exactly one of the keyword rules and the rest none: the engine evaluates every rule, few fire.
KEYWORDS = 200
CHANNELS = ["email", "api", "twitter", "facebook", "contact_form", "chat"]


def log(message: str) -> None:
    print(message, flush=True)


def rule_definitions(department_ids: list[int], category_ids: list[int]) -> list[dict]:
    """50 rules of mixed conditions (text, lists, patterns, tags, domains, two groups) and actions."""
    rules = []
    for i in range(RULES):
        kind = i % 5
        if kind == 0:
            groups = [[{"field": "subject", "operator": "contains", "value": f"keyword{i:03d}"},
                       {"field": "priority", "operator": "gt", "value": "low"}]]
            actions = [{"type": "add_tags", "value": [f"k{i}"]}]
        elif kind == 1:
            groups = [[{"field": "channel", "operator": "in", "value": ["twitter", "facebook"]},
                       {"field": "subject", "operator": "contains", "value": f"keyword{i:03d}"}],
                      [{"field": "customer_domain", "operator": "is", "value": f"vip{i}.example"}]]
            actions = [{"type": "set_priority", "value": "high"}, {"type": "add_tags", "value": ["social"]}]
        elif kind == 2:
            groups = [[{"field": "subject", "operator": "matches", "value": rf"keyword{i:03d}\b"},
                       {"field": "tags", "operator": "not_contains", "value": "spam-suspect"}]]
            actions = [{"type": "set_category", "value": category_ids[i % len(category_ids)]}]
        elif kind == 3:
            groups = [[{"field": "customer_email", "operator": "starts_with", "value": f"ceo{i}@"}],
                      [{"field": "subject", "operator": "starts_with", "value": f"keyword{i:03d}"}]]
            actions = [{"type": "transfer", "value": department_ids[i % len(department_ids)]}]
        else:
            groups = [[{"field": "subject", "operator": "contains", "value": f"keyword{i:03d}"},
                       {"field": "status", "operator": "in", "value": ["new", "open"]},
                       {"field": "department", "operator": "is_not_empty", "value": None}]]
            actions = [{"type": "set_priority", "value": "urgent"}, {"type": "add_tags", "value": ["escalated"]}]
        rules.append({"name": f"Bench rule {i + 1:02d}", "trigger": "ticket_created", "condition_groups": groups,
                      "actions": actions, "active": False})
    return rules


def seed(*, tickets: int) -> dict:
    import django

    django.setup()
    from django.utils import timezone

    from departments import services as department_services
    from helpdesk import services as helpdesk_services
    from helpdesk.models import Membership, Role
    from helpdesk.principals import actor_for_membership
    from helpdesk.tenancy import tenant_context
    from routing.rules import services as rule_services
    from tickets.models import Category, Contact, Ticket

    started = time.perf_counter()
    tenant = helpdesk_services.tenant_create(slug=TENANT_SLUG, name="Bench Rules")
    rng = random.Random(7)
    with tenant_context(tenant):
        user = helpdesk_services.user_get_or_create(email="owner@bench-rules.test", password="bench-password-1")
        membership = Membership.objects.create(tenant=tenant, user=user, role=Role.OWNER)
        department_services.agent_profile_create(membership=membership, display_name="Bench Owner")
        admin = actor_for_membership(membership)
        departments = [department_services.department_create(actor=admin, name=f"Department {d + 1}")
                       for d in range(10)]
        categories = [Category.objects.create(tenant=tenant, name=f"Category {c + 1}") for c in range(4)]
        _, raw_key = helpdesk_services.api_key_create(tenant=tenant, name="bench")
        for definition in rule_definitions([d.pk for d in departments], [c.pk for c in categories]):
            rule_services.rule_create(actor=admin, data=definition)
        contacts = Contact.objects.bulk_create([
            Contact(tenant=tenant, name=f"Customer {n}", email=f"customer{n}@example.org", visitor_id=f"v-s{n:07d}")
            for n in range(max(1, tickets // 10))
        ], batch_size=5000)
        now = timezone.now()
        rows = []
        for n in range(tickets):
            created = now - timedelta(minutes=rng.randrange(60 * 24 * 180))
            rows.append(Ticket(
                tenant=tenant, code=f"R{n:07d}"[:4] + "-" + f"R{n:07d}"[4:], channel=rng.choice(CHANNELS),
                subject=f"Seeded question {n} about keyword{rng.randrange(KEYWORDS):03d} and order {100000 + n}",
                status=rng.choice(["new", "open", "answered", "resolved"]), priority=rng.randrange(1, 5),
                department=rng.choice(departments), contact=contacts[n % len(contacts)], created_at=created,
                updated_at=created,
            ))
            if len(rows) == 10000:
                Ticket.objects.bulk_create(rows)
                rows = []
        Ticket.objects.bulk_create(rows)
        last_id = Ticket.objects.order_by("-id").values_list("id", flat=True).first() or 0
    return {"tenant_id": tenant.pk, "api_key": raw_key, "department_id": departments[0].pk, "rules": RULES,
            "tickets": tickets, "last_seeded_ticket_id": last_id, "seconds": round(time.perf_counter() - started, 1)}


def switch(*, on: bool) -> dict:
    import django

    django.setup()
    from helpdesk.models import Tenant
    from helpdesk.tenancy import tenant_context
    from routing.models import Rule

    with tenant_context(Tenant.objects.get(slug=TENANT_SLUG)):
        count = Rule.objects.update(active=on)
    return {"rules_active": count if on else 0}


def engine_cost(*, after: int) -> dict:
    """What a worker's ``run_rules`` task does for each ticket created by the load, timed per ticket in this one
    process and connection, as helpdesk_app: the rules (``all``, split by whether a rule fired), then the
    hand-off to routing (timed apart: without rules the request does it)."""
    import django

    django.setup()
    from bench.common.stats import percentile
    from helpdesk.models import Tenant
    from helpdesk.tenancy import tenant_context
    from routing import services as routing_services
    from routing.models import RuleTrigger
    from routing.rules import engine
    from routing.rules.conditions import groups_match, needed_facts
    from routing.rules.facts import facts_read
    from tickets.models import Ticket

    tenant = Tenant.objects.get(slug=TENANT_SLUG)
    with tenant_context(tenant):
        ids = list(Ticket.objects.filter(pk__gt=after).order_by("id").values_list("id", flat=True))
    every, quiet, fired, handoff = [], [], [], []
    fired_rules = 0
    for ticket_id in ids:
        started = time.perf_counter()
        result = engine.rules_run(tenant=tenant, ticket_id=ticket_id, trigger=RuleTrigger.TICKET_CREATED)
        ruled = time.perf_counter()
        # The hand-off to routing: the work the request does itself when the tenant has no "created" rules.
        with tenant_context(tenant):
            ticket = Ticket.objects.get(pk=ticket_id)
            routing_services.on_ticket_created(ticket=ticket)
        handoff.append((time.perf_counter() - ruled) * 1000)
        elapsed = (ruled - started) * 1000
        every.append(elapsed)
        (fired if result.fired else quiet).append(elapsed)
        fired_rules += len(result.fired)
    # Pure evaluation: the 50 rules' conditions on one ticket's facts, in memory.
    with tenant_context(tenant):
        rules = engine.rules_for(trigger=RuleTrigger.TICKET_CREATED)
        needed = frozenset().union(*(needed_facts(r.condition_groups) for r in rules))
        facts = facts_read(ids[0], needed=needed)
    rounds = 2000
    started = time.perf_counter()
    for _ in range(rounds):
        for rule in rules:
            groups_match(rule.condition_groups, facts)
    pure_us = (time.perf_counter() - started) / rounds * 1e6

    def stats(values: list[float]) -> dict:
        ordered = sorted(values)
        return {"n": len(ordered), "p50_ms": round(percentile(ordered, 0.5), 2),
                "p99_ms": round(percentile(ordered, 0.99), 2), "max_ms": round(ordered[-1], 2) if ordered else 0}

    return {"tickets": len(ids), "rules": len(rules), "rules_fired": fired_rules, "all": stats(every),
            "routing_handoff": stats(handoff),
            "none_fired": stats(quiet), "one_or_more_fired": stats(fired),
            "pure_evaluation_us_per_ticket": round(pure_us, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    seed_parser = sub.add_parser("seed")
    seed_parser.add_argument("--tickets", type=int, default=100_000)
    switch_parser = sub.add_parser("switch")
    switch_parser.add_argument("--on", action="store_true")
    engine_parser = sub.add_parser("engine")
    engine_parser.add_argument("--after", type=int, required=True)
    args = parser.parse_args()
    if args.command == "seed":
        out = seed(tickets=args.tickets)
    elif args.command == "switch":
        out = switch(on=args.on)
    else:
        out = engine_cost(after=args.after)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
