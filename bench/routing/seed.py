"""Seed the routing bench tenant: online agents in departments, and queued chats waiting for them.

    DATABASE_URL=postgres://helpdesk_owner@127.0.0.1:5432/helpdesk_bench_routing SECRET_KEY=x \\
        .venv/bin/python -m bench.routing.seed --items 100000

Runs as the owner role, inside ``tenant_context`` (row-level security is forced on the owner too). The chats
are written as ``ticket_create`` and ``item_enqueue`` leave them before a worker picks them up: a ``chat``
ticket with status ``new`` in a department, unassigned, and its routing item ``queued``. Their conversation
rows are left out: routing never reads them. The last line printed is JSON for the runner.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import timedelta

from bench.foundation.seed import DEPARTMENTS, FIRST_NAMES, ticket_code, visitor_id

TENANT_SLUG = "bench-routing"
BATCH = 5000


def log(message: str) -> None:
    print(message, flush=True)


def seed(*, items: int, agents: int, departments: int, max_chats: int, contacts: int, rng_seed: int) -> dict:
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from departments.models import AgentProfile, AgentStatus, Department, DepartmentMember
    from helpdesk import services as helpdesk_services
    from helpdesk.models import Membership, Role, Tenant, User
    from helpdesk.tenancy import tenant_context
    from routing.models import ItemState, RoutingChannel, RoutingItem, RoutingSettings
    from tickets.models import Channel, Contact, Status, Ticket

    if Tenant.objects.filter(slug=TENANT_SLUG).exists():
        raise SystemExit(f"Tenant {TENANT_SLUG!r} exists already: this database is seeded.")
    rng = random.Random(rng_seed)
    started = time.perf_counter()
    now = timezone.now()
    tenant = helpdesk_services.tenant_create(slug=TENANT_SLUG, name="Routing Bench")

    log(f"Seeding {agents} online agents in {departments} departments")
    users = User.objects.bulk_create(
        [User(email=f"agent{i}@routing.bench.example.com", full_name=f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {i}",
              password="!")  # unusable password: nobody signs in during the bench
         for i in range(agents)], batch_size=BATCH)
    memberships = Membership.objects.bulk_create(
        [Membership(tenant=tenant, user=u, role=Role.AGENT) for u in users], batch_size=BATCH)
    with tenant_context(tenant):
        RoutingSettings.objects.bulk_create([RoutingSettings(tenant=tenant)])  # defaults: chats by mean utilization
        profiles = AgentProfile.unscoped.bulk_create(
            [AgentProfile(tenant=tenant, membership=m, user=u, display_name=u.full_name, status=AgentStatus.ONLINE,
                          max_chats=max_chats, takes_chats=True, status_changed_at=now - timedelta(hours=1))
             for m, u in zip(memberships, users, strict=True)], batch_size=BATCH)
        depts = Department.unscoped.bulk_create(
            [Department(tenant=tenant, name=DEPARTMENTS[i] if i < len(DEPARTMENTS) else f"Team {i + 1}")
             for i in range(departments)])
        # Every agent works in one department; three in ten also help out in a second one.
        pairs = set()
        for index, profile in enumerate(profiles):
            pairs.add((depts[index % departments].pk, profile.pk))
            if rng.random() < 0.3:
                pairs.add((rng.choice(depts).pk, profile.pk))
        DepartmentMember.unscoped.bulk_create(
            [DepartmentMember(tenant=tenant, department_id=d, agent_id=a) for d, a in sorted(pairs)],
            batch_size=BATCH)

        log(f"Seeding {contacts} contacts and {items} queued chats")
        contact_rows = Contact.unscoped.bulk_create(
            [Contact(tenant=tenant, name=f"Visitor {i}", visitor_id=visitor_id(i)) for i in range(contacts)],
            batch_size=BATCH)
        contact_ids = [c.pk for c in contact_rows]
        dept_ids = [d.pk for d in depts]
        item_ids: list[int] = []
        for start in range(0, items, BATCH):
            count = min(BATCH, items - start)
            at = now + timedelta(microseconds=start)
            tickets = Ticket.unscoped.bulk_create([
                Ticket(tenant=tenant, code=ticket_code(start + i), subject=f"Chat {start + i}", channel=Channel.CHAT,
                       status=Status.NEW, priority=2, department_id=rng.choice(dept_ids),
                       contact_id=rng.choice(contact_ids), created_at=at, updated_at=at)
                for i in range(count)])
            queued = RoutingItem.unscoped.bulk_create([
                RoutingItem(tenant=tenant, ticket=t, channel=RoutingChannel.CHAT, state=ItemState.QUEUED,
                            priority=t.priority, queued_at=at, updated_at=at)
                for t in tickets])
            item_ids.extend(q.pk for q in queued)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    log(f"Seeded in {time.perf_counter() - started:.1f} s")
    return {"tenant_id": tenant.pk, "agents": len(profiles), "departments": len(depts),
            "department_members": len(pairs), "items": len(item_ids), "first_item": min(item_ids),
            "last_item": max(item_ids)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--departments", type=int, default=20)
    parser.add_argument("--max-chats", type=int, default=3)
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    result = seed(items=args.items, agents=args.agents, departments=args.departments, max_chats=args.max_chats,
                  contacts=args.contacts, rng_seed=args.seed)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
