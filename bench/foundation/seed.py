"""Seed one tenant with a year of help desk traffic: departments, agents, contacts, tickets, messages, events.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench SECRET_KEY=x \\
        .venv/bin/python -m bench.foundation.seed --tickets 1000000

The database must be migrated already. The tenant, its owner and the API key go through the product's own code;
the bulk rows are generated here and loaded with COPY.

Bulk loading connects as the superuser: row-level security is forced on every tenant table, and PostgreSQL
refuses COPY FROM into a table whose policies apply to the loading role. A maintenance tool that bypasses the
policies is the usual way to load data in bulk; the server under test never does. For speed the load also runs
with ``session_replication_role = replica``, which skips the foreign-key triggers: the rows are generated
consistent, and ``check_consistency`` proves it with anti-joins afterwards.

The last line printed is JSON with what the measurement needs (tenant id, API key, a login).
"""

from __future__ import annotations

import argparse
import bisect
import gc
import itertools
import json
import os
import random
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

TENANT_SLUG = "bench"
TENANT_NAME = "Bench Company"
SEEDING_NAME = "Bench Company (seeding)"  # until the seed is complete, so an interrupted one is recognised
LOGIN_EMAIL = "owner@bench.example.com"
LOGIN_PASSWORD = "bench-password-42"  # noqa: S105 - a throwaway benchmark account on a local database

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # as tickets.services.CODE_ALPHABET
VISITOR_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # as tickets.services.VISITOR_ALPHABET

DEPARTMENTS = [
    "Technical support", "Billing", "Sales", "Returns", "Shipping", "Accounts", "Onboarding", "Partners",
    "Enterprise", "Mobile app", "Web shop", "Warranty", "Installations", "Subscriptions", "Security",
    "Privacy requests", "Wholesale", "Marketplace", "Feedback", "Escalations",
]
TAGS = [
    "vip", "refund", "bug", "feature-request", "invoice", "shipping-delay", "damaged", "login", "password",
    "payment-failed", "cancel", "upgrade", "downgrade", "gdpr", "outage", "api", "integration", "mobile",
    "android", "ios", "urgent-customer", "complaint", "praise", "b2b", "follow-up", "duplicate", "warranty",
    "exchange", "discount", "wrong-item",
]
CATEGORIES = ["Question", "Problem", "Incident", "Request", "Complaint", "Order", "Account", "Other"]
FIRST_NAMES = [
    "Anna", "Ben", "Carla", "David", "Eva", "Felix", "Greta", "Hugo", "Ines", "Jonas", "Klara", "Lukas", "Mara",
    "Noah", "Olga", "Paul", "Quinn", "Rosa", "Sami", "Tara", "Uma", "Victor", "Wanda", "Xaver", "Yara", "Zeno",
    "Amir", "Bea", "Chen", "Dana", "Emil", "Fatima", "Goran", "Hana", "Ivo", "Jana", "Kofi", "Lea", "Milan",
    "Nina",
]
LAST_NAMES = [
    "Novak", "Schmidt", "Rossi", "Garcia", "Kowalski", "Dubois", "Jensen", "Silva", "Horvat", "Muller", "Smith",
    "Ivanova", "Costa", "Nagy", "Berg", "Lind", "Moreau", "Fischer", "Kovac", "Santos", "Weber", "Brown",
    "Popescu", "Larsen", "Meyer", "Russo", "Martin", "Kaya", "Walsh", "Sato",
]
DOMAINS = ["example.com", "example.net", "example.org", "mail.example.com", "corp.example.net"]
CITIES = ["Ljubljana", "Berlin", "Vienna", "Milan", "Zagreb", "Lisbon", "Oslo", "Lyon", "Porto", "Graz", ""]
SUBJECTS = [
    "Cannot log in to my account", "Invoice {n} shows the wrong amount", "Where is my order {n}?",
    "Refund for order {n}", "The app crashes when I open settings", "Change the billing address",
    "Package arrived damaged", "How do I export my data?", "Payment failed twice", "Upgrade to the annual plan",
    "Cancel my subscription", "Wrong item in order {n}", "Password reset email never arrives",
    "Question about the warranty", "API returns 500 on /orders", "Request for a quote ({n} units)",
    "Delivery address change for {n}", "Two-factor code not accepted", "Discount code {n} does not work",
    "Feedback on the new checkout",
]
SENTENCES = [
    "Hello, I hope you can help me with this.", "I tried it again this morning and it still does not work.",
    "My order number is in the subject.", "This is the second time I am writing about it.",
    "Could you please look into it as soon as possible?", "I have attached a screenshot of the error.",
    "The problem started after the last update.", "I already restarted the device and cleared the cache.",
    "We need this resolved before the end of the month.", "Thank you for the quick answer yesterday.",
    "The courier says the parcel was delivered, but nothing arrived.", "I was charged twice for the same order.",
    "Please send me a corrected invoice with our VAT number.", "Is there a way to do this in bulk?",
    "Our whole team is affected, about forty people.", "I would like to return the item for a full refund.",
    "The confirmation email went to my old address.", "Can you tell me when it will be back in stock?",
    "The link in your email leads to an error page.", "Best regards, and thanks in advance.",
]
REPLIES = [
    "Thank you for reaching out, I have looked into your account.", "I am sorry for the trouble this caused.",
    "I have issued a refund; it will show on your statement within five business days.",
    "Our developers have found the cause and a fix is on its way.",
    "Could you send us the exact time the error happened?", "I have updated the address on your order.",
    "A replacement has been shipped today; here is the tracking number.", "Please try again now, it should work.",
    "I have forwarded this to our billing team, who will get back to you.", "Kind regards from the support team.",
]
FOLLOW_UPS = [
    "Thanks, that solved it!", "It still does not work, unfortunately.", "Great, thank you very much.",
    "I did what you suggested but the error is back.", "When can I expect an answer?",
]
NOTES = [
    "Customer is on the enterprise plan, handle with care.", "Checked the logs: timeout on the payment provider.",
    "Same issue as last week, see the linked ticket.", "Waiting for the warehouse to confirm the stock.",
]

CHANNELS = {"email": 45, "chat": 20, "contact_form": 8, "api": 5, "call": 5, "facebook": 3, "whatsapp": 5,
            "telegram": 2, "instagram": 2, "twitter": 1, "viber": 1, "web": 3}
PRIORITIES = {1: 20, 2: 55, 3: 20, 4: 5}
PRIORITY_NAMES = {1: "low", 2: "medium", 3: "high", 4: "urgent"}
# Older tickets are mostly resolved; this week's are mostly still being worked on.
STATUS_BY_AGE = [
    (timedelta(days=2), {"new": 35, "open": 20, "answered": 30, "resolved": 12, "postponed": 2, "spam": 1}),
    (timedelta(days=14), {"new": 5, "open": 15, "answered": 25, "resolved": 48, "postponed": 5, "spam": 2}),
    (timedelta(days=10_000), {"new": 0.5, "open": 2, "answered": 4, "resolved": 89, "postponed": 1.5, "spam": 3}),
]


class Picker:
    """Weighted choice with precomputed cumulative weights (much faster than random.choices per call)."""

    def __init__(self, rng: random.Random, weights: dict[Any, float]):
        self.rng = rng
        self.values = list(weights)
        self.cumulative = list(itertools.accumulate(weights.values()))
        self.total = self.cumulative[-1]

    def __call__(self) -> Any:
        return self.values[bisect.bisect_right(self.cumulative, self.rng.random() * self.total)]


def encode(number: int, alphabet: str, width: int) -> str:
    base = len(alphabet)
    chars = []
    for _ in range(width):
        number, digit = divmod(number, base)
        chars.append(alphabet[digit])
    return "".join(reversed(chars))


def ticket_code(index: int) -> str:
    """A unique code per index: an odd multiplier is a bijection modulo 32**8, so codes never repeat and do not
    look sequential."""
    raw = encode((index * 2_654_435_761 + 91_138_233) % 32**8, CODE_ALPHABET, 8)
    return f"{raw[:4]}-{raw[4:]}"


def visitor_id(index: int) -> str:
    return "v-" + encode((index * 1_500_450_271 + 7_777) % 31**8, VISITOR_ALPHABET, 8)


def log(message: str) -> None:
    print(message, flush=True)


SESSION_SETTINGS = (
    "SET session_replication_role = replica",
    "SET synchronous_commit = off",
    "SET maintenance_work_mem = '512MB'",
)


class Loader:
    """COPY rows into tables as the superuser, with explicit ids reserved above the current maximum."""

    def __init__(self, conn, dsn: str):
        self.conn = conn
        self.dsn = dsn
        self.counts: dict[str, int] = {}

    @contextmanager
    def copies(self, specs: dict[str, tuple[str, list[str]]]) -> Iterator[dict[str, Any]]:
        """One COPY per table, each on its own connection, so the server parses and indexes the tables in
        parallel backends while this process generates the rows."""
        with ExitStack() as stack:
            writers = {}
            for key, (table, columns) in specs.items():
                conn = stack.enter_context(psycopg.connect(self.dsn, autocommit=True))
                for statement in SESSION_SETTINGS:
                    conn.execute(statement)
                cur = stack.enter_context(conn.cursor())
                writers[key] = stack.enter_context(cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN"))
            yield writers

    def next_id(self, table: str) -> int:
        return self.conn.execute(f"SELECT COALESCE(max(id), 0) + 1 FROM {table}").fetchone()[0]

    def copy(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        started = time.perf_counter()
        count = 0
        with self.conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        self.counts[table] = self.counts.get(table, 0) + count
        log(f"  {table:<30} {count:>10,} rows  {time.perf_counter() - started:6.1f} s")
        return count

    def reset_sequences(self) -> None:
        for table in self.counts:
            self.conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(max(id), 1) FROM {table}))"
            )


def seed(*, tickets: int, contacts: int, agents: int, departments: int, rng_seed: int) -> dict[str, Any]:
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from helpdesk import services as helpdesk_services
    from helpdesk.models import Tenant

    if agents < departments:
        raise SystemExit("Give at least as many agents as departments, so every department has members.")
    rng = random.Random(rng_seed)
    timings: dict[str, float] = {}
    all_started = time.perf_counter()

    if Tenant.objects.filter(slug=TENANT_SLUG).exists():
        raise SystemExit(f"Tenant {TENANT_SLUG!r} exists already: this database is seeded.")
    connection.ensure_connection()
    conn = connection.connection
    conn.autocommit = True
    for statement in SESSION_SETTINGS:
        conn.execute(statement)
    loader = Loader(conn, os.environ["DATABASE_URL"])

    now = datetime.now(UTC).replace(microsecond=0)
    year_ago = now - timedelta(days=365)
    tenant = helpdesk_services.tenant_create(slug=TENANT_SLUG, name=SEEDING_NAME)
    tid = tenant.pk
    # One hash for every account: hashing 200 passwords one by one would take minutes and prove nothing.
    password_hash = make_password(LOGIN_PASSWORD)

    # --- people --------------------------------------------------------------------------------------------
    log("Seeding people and departments")
    started = time.perf_counter()
    user_base = loader.next_id("helpdesk_user")
    member_base = loader.next_id("helpdesk_membership")
    agent_base = loader.next_id("departments_agentprofile")
    people = agents + 1  # the owner is an agent too
    names = [f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {LAST_NAMES[(i * 7) % len(LAST_NAMES)]}" for i in range(people)]
    emails = [LOGIN_EMAIL] + [f"agent{i}@bench.example.com" for i in range(1, people)]
    loader.copy("helpdesk_user", ["id", "password", "is_superuser", "email", "full_name", "is_active", "is_staff",
                                  "date_joined"],
                ((user_base + i, password_hash, False, emails[i], names[i], True, False, year_ago)
                 for i in range(people)))
    roles = ["owner"] + ["admin" if i % 25 == 0 else "agent" for i in range(1, people)]
    loader.copy("helpdesk_membership", ["id", "tenant_id", "user_id", "role", "created_at"],
                ((member_base + i, tid, user_base + i, roles[i], year_ago) for i in range(people)))
    statuses = Picker(rng, {"online": 40, "away": 10, "break": 5, "offline": 45})
    loader.copy("departments_agentprofile",
                ["id", "tenant_id", "membership_id", "user_id", "display_name", "status", "chat_priority",
                 "max_chats", "call_priority", "max_calls", "takes_tickets", "takes_chats", "takes_calls",
                 "status_changed_at"],
                ((agent_base + i, tid, member_base + i, user_base + i, names[i], statuses(), rng.randint(1, 100),
                  rng.choice([2, 3, 4, 5]), rng.randint(1, 100), 1, True, rng.random() < 0.8, rng.random() < 0.3,
                  now - timedelta(minutes=rng.randint(1, 600)))
                 for i in range(people)))
    agent_ids = [agent_base + i for i in range(people)]
    agent_names = dict(zip(agent_ids, names, strict=True))

    department_base = loader.next_id("departments_department")
    department_names = [DEPARTMENTS[i] if i < len(DEPARTMENTS) else f"Team {i + 1}" for i in range(departments)]
    department_ids = [department_base + i for i in range(departments)]
    members: dict[int, list[int]] = {d: [] for d in department_ids}
    # Each agent works in one to three departments; every department gets members.
    for index, agent_id in enumerate(agent_ids[1:]):
        for d in {department_ids[index % departments], *rng.sample(department_ids, rng.choice([0, 1, 2]))}:
            members[d].append(agent_id)
    loader.copy("departments_department",
                ["id", "tenant_id", "name", "description", "to_solve_enabled", "leader_id", "support_email",
                 "signature", "created_at"],
                ((department_ids[i], tid, department_names[i], f"{department_names[i]} questions", i % 3 != 2,
                  members[department_ids[i]][0], f"dept{i + 1}@bench.example.com",
                  f"-- {department_names[i]}, Bench Company", year_ago)
                 for i in range(departments)))
    dm_base = loader.next_id("departments_departmentmember")
    loader.copy("departments_departmentmember", ["id", "tenant_id", "department_id", "agent_id", "created_at"],
                ((dm_base + n, tid, d, a, year_ago)
                 for n, (d, a) in enumerate((d, a) for d in department_ids for a in members[d])))
    department_name = dict(zip(department_ids, department_names, strict=True))

    tag_base = loader.next_id("tickets_tag")
    loader.copy("tickets_tag", ["id", "tenant_id", "name"], ((tag_base + i, tid, t) for i, t in enumerate(TAGS)))
    tag_ids = [tag_base + i for i in range(len(TAGS))]
    category_base = loader.next_id("tickets_category")
    loader.copy("tickets_category", ["id", "tenant_id", "name"],
                ((category_base + i, tid, c) for i, c in enumerate(CATEGORIES)))
    category_ids = [category_base + i for i in range(len(CATEGORIES))]
    timings["people"] = time.perf_counter() - started

    # --- contacts ------------------------------------------------------------------------------------------
    log("Seeding contacts")
    started = time.perf_counter()
    contact_base = loader.next_id("tickets_contact")
    contact_labels: list[str] = []

    def contact_rows():
        for i in range(contacts):
            first, last = FIRST_NAMES[rng.randrange(len(FIRST_NAMES))], LAST_NAMES[rng.randrange(len(LAST_NAMES))]
            kind = rng.random()
            name = f"{first} {last}" if kind < 0.9 else ""
            email = f"{first}.{last}.{i}@{DOMAINS[i % len(DOMAINS)]}".lower() if kind < 0.8 or kind >= 0.9 else ""
            phone = f"+386 40 {i:06d}" if kind >= 0.6 else ""
            vid = visitor_id(i)
            contact_labels.append(name or email or phone or vid)
            yield (contact_base + i, tid, name, email, phone, CITIES[i % len(CITIES)], vid,
                   year_ago + timedelta(seconds=i * 365 * 86400 // contacts))

    loader.copy("tickets_contact", ["id", "tenant_id", "name", "email", "phone", "location", "visitor_id",
                                    "created_at"], contact_rows())
    timings["contacts"] = time.perf_counter() - started

    # --- tickets, messages, events, tags ---------------------------------------------------------------------
    log(f"Seeding {tickets:,} tickets with their conversation and log")
    started = time.perf_counter()
    ticket_base = loader.next_id("tickets_ticket")
    message_base = loader.next_id("tickets_message")
    event_base = loader.next_id("tickets_ticketevent")
    tickettag_base = loader.next_id("tickets_tickettag")
    channel_pick = Picker(rng, CHANNELS)
    priority_pick = Picker(rng, PRIORITIES)
    status_picks = [(age, Picker(rng, weights)) for age, weights in STATUS_BY_AGE]
    # A few departments carry most of the traffic, as in real companies.
    department_pick = Picker(rng, {**{d: 1 / (k + 1) ** 0.8 for k, d in enumerate(department_ids)}, None: 0.4})
    bodies = [" ".join(rng.sample(SENTENCES, rng.randint(2, 5))) for _ in range(2000)]
    replies = [" ".join(rng.sample(REPLIES, rng.randint(2, 4))) for _ in range(500)]
    span = (now - year_ago).total_seconds()
    step = span / tickets

    counters = {"message": message_base, "event": event_base, "tickettag": tickettag_base}
    writers: dict[str, Any] = {}

    def event(ticket_id, kind, actor_type, actor_id, actor_label, dept, assignee, channel, data, at):
        writers["event"].write_row((counters["event"], tid, ticket_id, kind, actor_type, actor_id, actor_label, dept,
                                    assignee, channel, json.dumps(data, separators=(",", ":")), at))
        counters["event"] += 1

    def message(ticket_id, kind, agent_id, label, body, at):
        mid = counters["message"]
        writers["message"].write_row((mid, tid, ticket_id, kind, agent_id, label, body, at))
        counters["message"] += 1
        return mid

    def later(start: datetime, mean_seconds: float) -> datetime:
        return min(now, start + timedelta(seconds=int(rng.expovariate(1 / mean_seconds)) + 30))

    def ticket_rows():
        for i in range(tickets):
            ticket_id = ticket_base + i
            created = year_ago + timedelta(seconds=(i + rng.random()) * step)
            age = now - created
            status = next(pick for limit, pick in status_picks if age <= limit)()
            channel = channel_pick()
            priority = priority_pick()
            department = department_pick()
            pool = members[department] if department is not None else agent_ids
            assignee = None if (status == "new" and rng.random() < 0.7) or status == "spam" else rng.choice(pool)
            contact_index = int(contacts * rng.random() ** 2)  # returning customers write more often
            contact_id, contact_label = contact_base + contact_index, contact_labels[contact_index]
            category = category_ids[rng.randrange(len(category_ids))] if rng.random() < 0.6 else None
            subject = SUBJECTS[rng.randrange(len(SUBJECTS))].format(n=rng.randint(10_000, 99_999))
            tags = rng.sample(tag_ids, rng.choice((1, 1, 2))) if rng.random() < 0.3 else []
            # Some tickets were first filed under another department and transferred.
            first_department = department
            if department is not None and rng.random() < 0.05:
                first_department = department_ids[rng.randrange(departments)]
            creator = ("agent", assignee, agent_names[assignee]) if channel == "web" and assignee else (
                "system", None, "System")
            event(ticket_id, "created", *creator, first_department, assignee if first_department == department
                  else None, channel,
                  {"subject": subject, "channel": channel, "priority": PRIORITY_NAMES[priority],
                   "department": department_name.get(first_department), "assignee":
                   agent_names[assignee] if assignee and first_department == department else None,
                   "tags": sorted(TAGS[t - tag_base] for t in tags)}, created)
            message(ticket_id, "customer", None, contact_label, bodies[rng.randrange(len(bodies))], created)
            event(ticket_id, "customer_message", "customer", contact_id, contact_label, first_department,
                  assignee if first_department == department else None, channel, {}, created)
            updated = created
            if first_department != department:
                updated = later(created, 1800)
                event(ticket_id, "transferred", "agent", pool[0], agent_names[pool[0]], department, assignee,
                      channel, {"department": [department_name.get(first_department), department_name[department]],
                                "assignee": [None, agent_names.get(assignee)]}, updated)
            first_response = resolved = postponed_until = None
            if status in ("answered", "open", "resolved", "postponed") and assignee is not None:
                first_response = later(updated, 4 * 3600)
                updated = first_response
                mid = message(ticket_id, "reply", assignee, agent_names[assignee],
                              replies[rng.randrange(len(replies))], first_response)
                event(ticket_id, "agent_reply", "agent", assignee, agent_names[assignee], department, assignee,
                      channel, {"message_id": mid}, first_response)
                event(ticket_id, "status_changed", "agent", assignee, agent_names[assignee], department, assignee,
                      channel, {"status": ["new", "answered"]}, first_response)
                current = "answered"
                if rng.random() < 0.1:
                    updated = later(updated, 600)
                    mid = message(ticket_id, "note", assignee, agent_names[assignee], rng.choice(NOTES), updated)
                    event(ticket_id, "note_added", "agent", assignee, agent_names[assignee], department, assignee,
                          channel, {"message_id": mid}, updated)
                if status == "open" or (status == "resolved" and rng.random() < 0.4):
                    updated = later(updated, 6 * 3600)
                    message(ticket_id, "customer", None, contact_label, rng.choice(FOLLOW_UPS), updated)
                    event(ticket_id, "customer_message", "customer", contact_id, contact_label, department,
                          assignee, channel, {}, updated)
                    event(ticket_id, "status_changed", "system", None, "System", department, assignee, channel,
                          {"status": ["answered", "open"]}, updated)
                    current = "open"
                if status in ("resolved", "postponed"):
                    updated = later(updated, 86400)
                    if status == "resolved":
                        resolved = updated
                        event(ticket_id, "status_changed", "agent", assignee, agent_names[assignee], department,
                              assignee, channel, {"status": [current, "resolved"]}, updated)
                    else:
                        postponed_until = now + timedelta(days=rng.randint(1, 14))
                        event(ticket_id, "postponed", "agent", assignee, agent_names[assignee], department,
                              assignee, channel, {"status": [current, "postponed"],
                                                  "postponed_until": postponed_until.isoformat()}, updated)
            elif status == "resolved" or status == "spam":
                updated = later(updated, 86400)
                resolved = updated if status == "resolved" else None
                event(ticket_id, "status_changed", "system", None, "System", department, assignee, channel,
                      {"status": ["new", status]}, updated)
            for tag in tags:
                writers["tickettag"].write_row((counters["tickettag"], tid, ticket_id, tag))
                counters["tickettag"] += 1
            yield (ticket_id, tid, ticket_code(ticket_id), subject, channel, status, postponed_until, priority,
                   created, updated, first_response, resolved, assignee, category, contact_id, department)

    with loader.copies({
        "ticket": ("tickets_ticket", ["id", "tenant_id", "code", "subject", "channel", "status", "postponed_until",
                                      "priority", "created_at", "updated_at", "first_response_at", "resolved_at",
                                      "assignee_id", "category_id", "contact_id", "department_id",
                                      "sla_paused_seconds"]),
        "message": ("tickets_message", ["id", "tenant_id", "ticket_id", "kind", "author_agent_id", "author_label",
                                        "body", "created_at"]),
        "event": ("tickets_ticketevent", ["id", "tenant_id", "ticket_id", "kind", "actor_type", "actor_id",
                                          "actor_label", "department_id_at_event", "assignee_id_at_event",
                                          "channel", "data", "created_at"]),
        "tickettag": ("tickets_tickettag", ["id", "tenant_id", "ticket_id", "tag_id"]),
    }) as copy_writers:
        writers.update(copy_writers)
        for n, row in enumerate(ticket_rows(), 1):
            # Seeded tickets carry no SLA policy; their paused time is zero like a new ticket's.
            writers["ticket"].write_row((*row, 0))
            if n % 100_000 == 0:
                log(f"  {n:>10,} tickets  {time.perf_counter() - started:6.1f} s")
    loader.counts.update({
        "tickets_ticket": tickets, "tickets_message": counters["message"] - message_base,
        "tickets_ticketevent": counters["event"] - event_base,
        "tickets_tickettag": counters["tickettag"] - tickettag_base,
    })
    timings["tickets_messages_events"] = time.perf_counter() - started
    log(f"  {tickets:,} tickets, {loader.counts['tickets_message']:,} messages, "
        f"{loader.counts['tickets_ticketevent']:,} events, {loader.counts['tickets_tickettag']:,} tags "
        f"in {timings['tickets_messages_events']:.1f} s")

    # --- finish ----------------------------------------------------------------------------------------------
    started = time.perf_counter()
    loader.reset_sequences()
    conn.execute("RESET session_replication_role")
    check_consistency(conn)
    timings["checks"] = time.perf_counter() - started
    started = time.perf_counter()
    log("VACUUM ANALYZE")
    for table in loader.counts:
        conn.execute(f"VACUUM (ANALYZE) {table}")
    timings["vacuum_analyze"] = time.perf_counter() - started

    _, raw_key = helpdesk_services.api_key_create(tenant=tenant, name="benchmark")
    Tenant.objects.filter(pk=tid).update(name=TENANT_NAME)
    busiest = conn.execute(
        "SELECT department_id FROM tickets_ticket WHERE tenant_id = %s AND department_id IS NOT NULL "
        "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1", [tid]).fetchone()[0]
    total = time.perf_counter() - all_started
    return {
        "tenant_id": tid, "api_key": raw_key, "login_email": LOGIN_EMAIL, "login_password": LOGIN_PASSWORD,
        "busiest_department_id": busiest, "rows": loader.counts, "timings_s": {k: round(v, 1) for k, v in
                                                                               timings.items()},
        "seconds": round(total, 1),
    }


# Foreign keys whose triggers were skipped during the load: each must find its parent.
FOREIGN_KEYS = [
    ("tickets_ticket", "contact_id", "tickets_contact"),
    ("tickets_ticket", "department_id", "departments_department"),
    ("tickets_ticket", "assignee_id", "departments_agentprofile"),
    ("tickets_ticket", "category_id", "tickets_category"),
    ("tickets_message", "ticket_id", "tickets_ticket"),
    ("tickets_message", "author_agent_id", "departments_agentprofile"),
    ("tickets_ticketevent", "ticket_id", "tickets_ticket"),
    ("tickets_tickettag", "ticket_id", "tickets_ticket"),
    ("tickets_tickettag", "tag_id", "tickets_tag"),
    ("departments_agentprofile", "membership_id", "helpdesk_membership"),
    ("departments_departmentmember", "agent_id", "departments_agentprofile"),
]


def check_consistency(conn) -> None:
    for table, column, parent in FOREIGN_KEYS:
        orphans = conn.execute(
            f"SELECT count(*) FROM {table} c WHERE c.{column} IS NOT NULL "
            f"AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.id = c.{column})"
        ).fetchone()[0]
        if orphans:
            raise SystemExit(f"{orphans} rows of {table}.{column} point to no {parent}: the seed is inconsistent.")
    log(f"  foreign keys consistent ({len(FOREIGN_KEYS)} checked)")


def api_key_only() -> dict[str, Any]:
    """A fresh admin key for an already seeded database (each measurement run makes its own)."""
    import django

    django.setup()
    from helpdesk import services as helpdesk_services
    from helpdesk.models import Tenant

    tenant = Tenant.objects.filter(slug=TENANT_SLUG).first()
    if tenant is None:
        raise SystemExit("This database is not seeded.")
    _, raw_key = helpdesk_services.api_key_create(tenant=tenant, name="benchmark")
    return {"tenant_id": tenant.pk, "api_key": raw_key, "login_email": LOGIN_EMAIL, "login_password": LOGIN_PASSWORD}


def main(argv: list[str] | None = None, *, on_result: Callable[[dict], None] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=None, help="default: a fifth of the tickets, at most 200k")
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--departments", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20261123, help="random seed, for repeatable data")
    parser.add_argument("--api-key-only", action="store_true", help="only create an API key in a seeded database")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    if args.api_key_only:
        result = api_key_only()
    else:
        contacts = args.contacts or max(100, min(200_000, args.tickets // 5))
        # Millions of long-lived tuples would only make the cyclic collector rescan them over and over.
        gc.disable()
        result = seed(tickets=args.tickets, contacts=contacts, agents=args.agents, departments=args.departments,
                      rng_seed=args.seed)
        log(f"Seeded {args.tickets:,} tickets in {result['seconds']:.1f} s")
    print(json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
