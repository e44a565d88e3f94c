"""Random help desk activity written straight into the log, and the report figures recomputed from raw rows.

The generator writes tickets through the ticket service (so tickets, contacts and first messages are real),
then appends the rest of each ticket's life to the log at chosen past moments, as the services would have.
The reference reads the raw tables and computes every column in plain Python, from docs/reports.md's
definitions, independently of the SQL the reports use.
"""

from __future__ import annotations

import random
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from departments import services as department_services
from helpdesk.tenancy import tenant_context
from reports.models import Rating
from tests.factories import TenantWorld
from tickets import services as ticket_services
from tickets.models import CallRecord, Channel, Tag, Ticket, TicketEvent


@dataclass
class Generated:
    departments: list[int]
    agents: list[int]
    tickets: list[int]


def generate(world: TenantWorld, *, seed: int, tickets: int = 70, days: int = 45,
             now: datetime | None = None) -> Generated:
    rng = random.Random(seed)
    # SLA draws come from their own stream, so the activity itself stays what it was for a given seed.
    sla_rng = random.Random(f"{seed}-sla")
    now = now or timezone.now()
    with tenant_context(world.tenant):
        billing = department_services.department_create(actor=world.admin, name=f"Billing {seed}",
                                                         members=[world.agents[1]])
        departments = [world.department, billing]
        agents = [*world.agents, world.admin_agent]
        ticket_ids = []
        for n in range(tickets):
            # Most history is old (rolled up), some is from the last hour (the tail).
            if rng.random() < 0.12:
                created = now - timedelta(seconds=rng.randint(60, 3000))
            else:
                created = now - timedelta(days=rng.uniform(0.1, days))
            channel = rng.choice([Channel.EMAIL, Channel.EMAIL, Channel.CHAT, Channel.CHAT, Channel.CALL,
                                  Channel.WEB])
            department = rng.choice([*departments, None])
            ticket = ticket_services.ticket_create(
                actor=None, subject=f"Generated {seed}-{n}", body="Hello", channel=channel,
                contact=ticket_services.ContactData(name=f"Customer {seed}-{n}"), department=department,
                tags=rng.sample(["vip", "bug", "refund"], rng.randint(0, 2)), created_at=created,
            )
            ticket_ids.append(ticket.pk)
            state = {"department": department.pk if department else None, "assignee": None}
            t = created

            def log(kind: str, data: dict | None = None, *, actor: int | None = None, at: datetime,
                    ticket=ticket, channel=channel, state=state) -> None:
                TicketEvent.objects.create(
                    ticket=ticket, kind=kind, data=data or {}, channel=channel, created_at=at,
                    department_id_at_event=state["department"], assignee_id_at_event=state["assignee"],
                    actor_type="agent" if actor else "system", actor_id=actor,
                )

            if channel == Channel.CHAT and rng.random() < 0.8:
                log("chat_started", {"widget": "site"}, at=t)
            if channel == Channel.CALL and rng.random() < 0.8:
                CallRecord.objects.create(ticket=ticket, caller_number="+1 555 0100", started_at=t)
            resolved = False
            # The ticket row as the SLA clocks would leave it: the current resolution episode starts at
            # creation or the last reopening; the first reply and the last resolution end the targets.
            status, episode_start, first_reply_at, resolved_at = None, created, None, None
            for _ in range(rng.randint(0, 9)):
                t = t + timedelta(seconds=rng.randint(5, 20000))
                if t >= now:
                    break
                kind = rng.choice(["agent_reply", "agent_reply", "customer_message", "assigned", "resolve",
                                   "reopen", "transfer", "chat_ended", "call", "note_added"])
                if kind == "agent_reply":
                    log("agent_reply", {"message_id": 0}, actor=rng.choice(agents).pk, at=t)
                    first_reply_at = first_reply_at or t
                elif kind == "customer_message":
                    log("customer_message", at=t)
                elif kind == "assigned":
                    state["assignee"] = rng.choice(agents).pk
                    log("assigned", {"assignee": [None, "x"]}, at=t)
                elif kind == "resolve":
                    log("status_changed", {"status": ["open", "resolved"]}, at=t)
                    resolved = True
                    status, resolved_at = "resolved", t
                elif kind == "reopen":
                    log("status_changed", {"status": ["resolved", "open"]}, at=t)
                    status, episode_start, resolved_at = "open", t, None
                elif kind == "transfer":
                    target = rng.choice([*departments, None])
                    state["department"] = target.pk if target else None
                    log("transferred", {"department": ["a", "b"]}, at=t)
                elif kind == "chat_ended" and channel == Channel.CHAT:
                    if rng.random() < 0.5:
                        log("chat_ended", {"by": "agent", "duration_seconds": rng.randint(10, 3000)}, at=t)
                    else:
                        log("chat_ended", {"by": "visitor", "answered": False}, at=t)
                elif kind == "call" and channel == Channel.CALL:
                    if rng.random() < 0.6:
                        log("call_answered", {"call_id": 0}, at=t)
                        log("call_ended", {"call_id": 0, "duration_seconds": rng.randint(1, 1800)},
                            at=t + timedelta(seconds=1))
                    else:
                        log("call_missed", {"call_id": 0}, at=t)
                else:
                    log("note_added", at=t)
            if sla_rng.random() < 0.7:
                _sla_columns_set(sla_rng, ticket.pk, now=now, status=status, created=created,
                                 episode_start=episode_start, first_reply_at=first_reply_at,
                                 resolved_at=resolved_at)
            elif status:
                Ticket.objects.filter(pk=ticket.pk).update(status=status)
            if resolved and rng.random() < 0.6:
                rated_at = min(now - timedelta(seconds=1), t + timedelta(seconds=rng.randint(1, 90000)))
                Rating.objects.create(
                    ticket=ticket, value=rng.choice(["positive", "negative"]), agent_id=state["assignee"],
                    department_id=state["department"], channel=channel, token_hash="x" * 64,
                    created_at=rated_at, updated_at=rated_at,
                )
    return Generated(departments=[d.pk for d in departments], agents=[a.pk for a in agents], tickets=ticket_ids)


def _sla_columns_set(rng: random.Random, ticket_id: int, *, now: datetime, status: str | None,
                     created: datetime, episode_start: datetime, first_reply_at: datetime | None,
                     resolved_at: datetime | None) -> None:
    """Due times a few minutes to a day after each target's start, so some targets are met and some
    breached; a breach is recorded when the work was late or is still undone after the due time."""
    first_due = created + timedelta(seconds=rng.randint(60, 30000))
    resolution_due = episode_start + timedelta(seconds=rng.randint(600, 60000))
    first_late = (first_reply_at or now) > first_due
    resolution_late = (resolved_at or now) > resolution_due
    Ticket.objects.filter(pk=ticket_id).update(
        status=status or "new",
        first_response_due_at=first_due, first_response_breached_at=first_due if first_late else None,
        resolution_due_at=resolution_due, resolution_breached_at=resolution_due if resolution_late else None,
    )


# --- the reference ----------------------------------------------------------------------------------------

COUNTS = ("tickets_created", "tickets_resolved", "answers", "incoming_messages", "chats", "incoming_chats",
          "finished_chats", "missed_chats", "chat_messages", "calls", "incoming_calls", "finished_calls",
          "missed_calls", "ratings_positive", "ratings_negative", "not_rated")


def _ms(later: datetime, earlier: datetime) -> int:
    delta = later - earlier
    return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000


def reference_facts(tenant_id: int) -> list[dict[str, Any]]:
    """Every counted item, from the raw tables, by the definitions in docs/reports.md."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT id, ticket_id, kind, actor_type, actor_id, department_id_at_event, assignee_id_at_event,
                      channel, data, created_at FROM tickets_ticketevent WHERE tenant_id = %s ORDER BY id""",
            [tenant_id])
        events = cursor.fetchall()
        cursor.execute("SELECT DISTINCT ticket_id FROM tickets_callrecord WHERE tenant_id = %s", [tenant_id])
        with_call_record = {r[0] for r in cursor.fetchall()}
        cursor.execute("SELECT ticket_id, value, agent_id, department_id, channel, created_at FROM reports_rating "
                       "WHERE tenant_id = %s", [tenant_id])
        ratings = cursor.fetchall()
        cursor.execute("""SELECT id, status, first_response_due_at, first_response_breached_at, resolution_due_at,
                                 resolution_breached_at FROM tickets_ticket WHERE tenant_id = %s""", [tenant_id])
        sla = {r[0]: r[1:] for r in cursor.fetchall()}
    rated = {r[0] for r in ratings}
    # Each ticket's latest resolution: the one that ended its current resolution episode.
    last_resolution = {e[1]: e[0] for e in events
                       if e[2] == "status_changed" and _new_status(e[8]) == "resolved"}
    history: dict[int, list[tuple]] = defaultdict(list)
    facts = []
    for event in events:
        _id, ticket_id, kind, actor_type, actor_id, department, assignee, channel, data, at = event
        if isinstance(data, str):
            import json

            data = json.loads(data)
        before = history[ticket_id]
        fact: dict[str, Any] = defaultdict(int)
        fact.update(at=at, ticket_id=ticket_id, department_id=department or 0, channel=channel,
                    agent_id=(actor_id if kind == "agent_reply" and actor_type == "agent" else assignee) or 0)
        if kind == "created":
            fact["tickets_created"] = 1
            fact["chats"] = int(channel == "chat")
            fact["calls"] = int(channel == "call")
            fact["incoming_calls"] = int(channel == "call" and ticket_id in with_call_record)
        elif kind == "status_changed" and data.get("status", [None, None])[1] == "resolved":
            fact["tickets_resolved"] = 1
            fact["not_rated"] = int(ticket_id not in rated)
            status, _, _, resolution_due, resolution_breached = sla[ticket_id]
            if status == "resolved" and resolution_due is not None and last_resolution[ticket_id] == _id:
                fact["sla_resolution_count"] = 1
                fact["sla_resolution_met"] = int(resolution_breached is None and at <= resolution_due)
        elif kind == "agent_reply":
            fact["answers"] = 1
            fact["chat_messages"] = int(channel == "chat")
            replies = [e for e in before if e[2] == "agent_reply"]
            _, first_due, first_breached, _, _ = sla[ticket_id]
            if not replies and first_due is not None:
                fact["sla_first_response_count"] = 1
                fact["sla_first_response_met"] = int(first_breached is None and at <= first_due)
            if not replies:
                created = [e for e in before if e[2] == "created"]
                if created:
                    fact["first_response_count"] = 1
                    fact["first_response_ms"] = _ms(at, created[0][9])
            else:
                last_reply_id = replies[-1][0]
                waiting = [e for e in before if e[2] == "customer_message" and e[0] > last_reply_id]
                if waiting:
                    fact["response_count"] = 1
                    fact["response_ms"] = _ms(at, waiting[0][9])
        elif kind == "customer_message":
            fact["incoming_messages"] = 1
            fact["chat_messages"] = int(channel == "chat")
        elif kind == "assigned" and channel == "chat":
            if not any(e[2] == "assigned" for e in before):
                started = [e for e in before if e[2] == "chat_started"]
                if started:
                    fact["pickup_count"] = 1
                    fact["pickup_ms"] = _ms(at, started[0][9])
        elif kind == "chat_started":
            fact["incoming_chats"] = 1
        elif kind == "chat_ended":
            if data.get("answered") is False:
                fact["missed_chats"] = 1
            else:
                fact["finished_chats"] = 1
            if "duration_seconds" in data:
                fact["chat_duration_count"] = 1
                fact["chat_duration_ms"] = data["duration_seconds"] * 1000
        elif kind == "call_ended":
            fact["finished_calls"] = 1
            fact["call_seconds"] = data.get("duration_seconds", 0)
        elif kind == "call_missed":
            fact["missed_calls"] = 1
        before.append(event)
        facts.append(fact)
    for ticket_id, value, agent_id, department_id, channel, at in ratings:
        fact = defaultdict(int)
        fact.update(at=at, ticket_id=ticket_id, department_id=department_id or 0, agent_id=agent_id or 0,
                    channel=channel)
        fact["ratings_positive" if value == "positive" else "ratings_negative"] = 1
        facts.append(fact)
    return facts


def _new_status(data: Any) -> str | None:
    if isinstance(data, str):
        import json

        data = json.loads(data)
    return (data.get("status") or [None, None])[1]


def _round(value: Decimal, places: int) -> float:
    return float(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def _avg_s(total_ms: int, count: int) -> float | None:
    return None if count == 0 else _round(Decimal(total_ms) / count / 1000, 1)


def _pct(part: int, whole: int) -> float | None:
    return None if whole == 0 else _round(Decimal(100) * part / whole, 1)


def _period(at: datetime, tz: zoneinfo.ZoneInfo, interval: str, date_from: date) -> datetime:
    local = at.astimezone(tz).replace(tzinfo=None)
    if interval == "range":
        start = datetime.combine(date_from, datetime.min.time())
    elif interval == "day":
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    elif interval == "week":
        day = local.date() - timedelta(days=local.weekday())
        start = datetime.combine(day, datetime.min.time())
    elif interval == "month":
        start = datetime(local.year, local.month, 1)
    else:
        start = datetime(local.year, 1, 1)
    return start.replace(tzinfo=tz)


def reference_report(facts: list[dict], *, tenant_id: int, date_from: date, date_to: date, tz_name: str,
                     interval: str, group_by: str, departments: tuple[int, ...] = (),
                     channels: tuple[str, ...] = (), tags: tuple[str, ...] = ()) -> dict[tuple, dict]:
    """(period_start ISO, group_id) -> row of the public columns, for rows that count anything."""
    tz = zoneinfo.ZoneInfo(tz_name)
    start = datetime.combine(date_from, datetime.min.time()).replace(tzinfo=tz).astimezone(UTC)
    end = datetime.combine(date_to + timedelta(days=1), datetime.min.time()).replace(tzinfo=tz).astimezone(UTC)
    ticket_tags: dict[int, list[tuple[int, str]]] = defaultdict(list)
    with tenant_context_for(tenant_id):
        for tag in Tag.objects.prefetch_related("ticket_tags"):
            for link in tag.ticket_tags.all():
                ticket_tags[link.ticket_id].append((tag.pk, tag.name))
    sums: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for fact in facts:
        if not (start <= fact["at"] < end):
            continue
        if departments and fact["department_id"] not in departments:
            continue
        if channels and fact["channel"] not in channels:
            continue
        own_tags = ticket_tags.get(fact["ticket_id"], [])
        if tags and not any(name in tags for _, name in own_tags):
            continue
        period = _period(fact["at"], tz, interval, date_from).isoformat()
        if group_by == "tag":
            chosen = [tag_id for tag_id, name in own_tags if not tags or name in tags]
            keys = chosen or [None]
        else:
            value = {"department": fact["department_id"], "agent": fact["agent_id"],
                     "channel": fact["channel"]}[group_by]
            keys = [value if value != 0 else None]
        for key in keys:
            bucket = sums[(period, key)]
            for name, value in fact.items():
                if name not in ("at", "ticket_id", "department_id", "agent_id", "channel"):
                    bucket[name] += value
    rows = {}
    for key, s in sums.items():
        if not any(s[c] for c in COUNTS):
            continue
        rated = s["ratings_positive"] + s["ratings_negative"] + s["not_rated"]
        row = {c: s[c] for c in COUNTS}
        row.update(
            avg_first_response_s=_avg_s(s["first_response_ms"], s["first_response_count"]),
            avg_response_s=_avg_s(s["response_ms"], s["response_count"]),
            avg_chat_pickup_s=_avg_s(s["pickup_ms"], s["pickup_count"]),
            avg_chat_duration_s=_avg_s(s["chat_duration_ms"], s["chat_duration_count"]),
            call_minutes=_round(Decimal(s["call_seconds"]) / 60, 2),
            ratings_positive_pct=_pct(s["ratings_positive"], rated),
            ratings_negative_pct=_pct(s["ratings_negative"], rated),
            not_rated_pct=_pct(s["not_rated"], rated),
            sla_first_response_met_pct=_pct(s["sla_first_response_met"], s["sla_first_response_count"]),
            sla_resolution_met_pct=_pct(s["sla_resolution_met"], s["sla_resolution_count"]),
        )
        rows[key] = row
    return rows


def tenant_context_for(tenant_id: int):
    from helpdesk.models import Tenant

    return tenant_context(Tenant.objects.get(pk=tenant_id))
