"""Routing: turning a waiting chat, call or ticket into an offer on the right agent's screen, and an accepted
offer into an assignment.

Concurrency, in short (the races each lock prevents are spelled out where they are taken):
- an item is routed by one worker at a time: its row is locked with SKIP LOCKED, so a second worker skips it;
- decisions for the same tenant are serialised by a transaction-level advisory lock, so two workers never
  both see the same agent's last free slot or the same "least recently assigned" agent;
- an agent's load counts running items and ringing offers, so ringing reserves capacity;
- accepting locks the item, then its offer, and assigns with a conditional UPDATE, so one accept wins.
The database is the queue: tasks only say "look now", and the reconciler re-derives everything pending.
"""

from __future__ import annotations

import logging
import random
import zlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from departments.models import AgentProfile, AgentStatus, DepartmentMember
from helpdesk import push
from helpdesk.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from helpdesk.principals import Actor
from helpdesk.tenancy import require_active_tenant
from routing.methods.base import Candidate, Selection, select
from routing.methods.registry import method_get
from routing.models import (
    AgentPresence,
    AgentRotation,
    ItemState,
    Method,
    Offer,
    OfferState,
    OfflineChats,
    RoutingChannel,
    RoutingDecision,
    RoutingItem,
    RoutingSettings,
    SettingsChange,
)
from tickets.models import (
    ACTIVE_STATUSES,
    ActorType,
    Channel,
    EventKind,
    Message,
    MessageKind,
    Status,
    Ticket,
)
from tickets.services import event_append, events_append

logger = logging.getLogger(__name__)

# Channel -> (agent flag that says they take it, agent field holding their max load, their priority field).
CHANNEL_PROFILE = {
    RoutingChannel.CHAT: ("takes_chats", "max_chats", "chat_priority"),
    RoutingChannel.CALL: ("takes_calls", "max_calls", "call_priority"),
    RoutingChannel.TICKET: ("takes_tickets", None, "chat_priority"),
}
SETTINGS_FIELDS = (
    "chat_method", "call_method", "ticket_method", "ring_seconds", "offline_grace_seconds", "offline_chats",
    "prefer_last_agent", "auto_assign_tickets",
)
AGENT_ROUTING_FIELDS = (
    "status", "chat_priority", "max_chats", "call_priority", "max_calls", "takes_tickets", "takes_chats",
    "takes_calls",
)


def routing_channel_of(ticket: Ticket) -> str:
    if ticket.channel == Channel.CHAT:
        return RoutingChannel.CHAT
    if ticket.channel == Channel.CALL:
        return RoutingChannel.CALL
    return RoutingChannel.TICKET


# --- settings ---------------------------------------------------------------------------------------------

def settings_get() -> RoutingSettings:
    tenant = require_active_tenant()
    found = RoutingSettings.objects.first()
    if found is None:
        RoutingSettings.objects.bulk_create([RoutingSettings(tenant=tenant)], ignore_conflicts=True)
        found = RoutingSettings.objects.get()
    return found


def settings_update(*, actor: Actor, **fields: Any) -> RoutingSettings:
    if not actor.is_admin:
        raise PermissionDenied("Only admins change routing settings.")
    unknown = set(fields) - set(SETTINGS_FIELDS)
    if unknown:
        raise ApplicationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    errors: dict[str, list[str]] = {}
    for name in ("chat_method", "call_method", "ticket_method"):
        if name in fields and fields[name] not in Method.values:
            errors[name] = [f"Choose one of {', '.join(Method.values)}."]
    if "ring_seconds" in fields and not (5 <= int(fields["ring_seconds"]) <= 600):
        errors["ring_seconds"] = ["Between 5 and 600 seconds."]
    if "offline_grace_seconds" in fields and not (0 <= int(fields["offline_grace_seconds"]) <= 3600):
        errors["offline_grace_seconds"] = ["Between 0 and 3600 seconds."]
    if "offline_chats" in fields and fields["offline_chats"] not in OfflineChats.values:
        errors["offline_chats"] = [f"Choose one of {', '.join(OfflineChats.values)}."]
    if errors:
        raise ApplicationError("The routing settings could not be saved.", fields=errors)
    with transaction.atomic():
        current = RoutingSettings.objects.select_for_update().get(pk=settings_get().pk)
        changes = {}
        for name, value in fields.items():
            before = getattr(current, name)
            if before != value:
                changes[name] = [before, value]
                setattr(current, name, value)
        if changes:
            current.updated_at = timezone.now()
            current.save()
            SettingsChange.objects.create(
                tenant=actor.tenant, actor_label=actor.label, subject="Routing settings", changes=changes
            )
    return current


# --- queueing ---------------------------------------------------------------------------------------------

def item_enqueue(*, ticket: Ticket) -> RoutingItem:
    """Put a ticket in the routing queue (idempotent) and ask a worker to route it once this commits."""
    item, created = RoutingItem.objects.get_or_create(
        ticket=ticket,
        defaults={"tenant_id": ticket.tenant_id, "channel": routing_channel_of(ticket), "priority": ticket.priority,
                  "queued_at": timezone.now()},
    )
    if not created and item.state in (ItemState.ASSIGNED, ItemState.CANCELLED):
        RoutingItem.objects.filter(pk=item.pk).update(
            state=ItemState.QUEUED, queued_at=timezone.now(), updated_at=timezone.now()
        )
        item.refresh_from_db()
    _route_on_commit(item.tenant_id, item.pk)
    return item


def _route_on_commit(tenant_id: int, item_id: int) -> None:
    from routing import tasks

    transaction.on_commit(lambda: tasks.route_item.delay(tenant_id, item_id))


def _route_waiting_on_commit(tenant_id: int) -> None:
    from routing import tasks

    transaction.on_commit(lambda: tasks.route_waiting.delay(tenant_id))


def _lock_rotation(tenant_id: int, department_id: int | None, channel: str) -> None:
    """Serialise decisions that share a rotation: one department and channel of one tenant (PostgreSQL;
    SQLite serialises all writers anyway).

    Without it two workers could both pick the same "least recently assigned" agent before either commits.
    Loads need more than this, since an agent can be in several departments: see _verify_winners.
    """
    if connection.vendor == "postgresql":
        key = zlib.crc32(f"routing:{tenant_id}:{department_id or 0}:{channel}".encode())
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


# --- deciding ---------------------------------------------------------------------------------------------

# The loads and candidates below are plain SQL: they run in every decision, and building these annotated
# querysets with the ORM cost more time than PostgreSQL spends running them. Every table is filtered on the
# tenant, as the ORM's scoped manager would, and row-level security still applies on PostgreSQL.

def _load_sql(channel: str, tenant_id: int) -> tuple[str, list[Any]]:
    """Select-list SQL for the running items and the ringing offers of the agent row ``a``, in one channel."""
    if channel == RoutingChannel.TICKET:
        channel_sql, channel_params = "t.channel NOT IN (%s, %s)", [Channel.CHAT, Channel.CALL]
    else:
        ticket_channel = Channel.CHAT if channel == RoutingChannel.CHAT else Channel.CALL
        channel_sql, channel_params = "t.channel = %s", [ticket_channel]
    statuses = ", ".join(["%s"] * len(ACTIVE_STATUSES))
    sql = (
        f"(SELECT COUNT(*) FROM {Ticket._meta.db_table} t WHERE t.tenant_id = %s AND t.assignee_id = a.id"
        f" AND {channel_sql} AND t.status IN ({statuses})),"
        f" (SELECT COUNT(*) FROM {Offer._meta.db_table} o JOIN {RoutingItem._meta.db_table} i ON i.id = o.item_id"
        f" WHERE o.tenant_id = %s AND o.agent_id = a.id AND o.state = %s AND i.channel = %s)"
    )
    return sql, [tenant_id, *channel_params, *ACTIVE_STATUSES, tenant_id, OfferState.RINGING, channel]


def _loads_of(agent_ids: list[int], channel: str, *, lock: bool) -> dict[int, int]:
    tenant_id = require_active_tenant().pk
    loads_sql, params = _load_sql(channel, tenant_id)
    ids = ", ".join(["%s"] * len(agent_ids))
    sql = (
        f"SELECT a.id, {loads_sql} FROM {AgentProfile._meta.db_table} a"
        f" WHERE a.tenant_id = %s AND a.id IN ({ids}) ORDER BY a.id"
    )
    if lock and connection.features.has_select_for_no_key_update:
        sql += " FOR NO KEY UPDATE OF a"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, tenant_id, *agent_ids])
        return {agent_id: running + ringing for agent_id, running, ringing in cursor.fetchall()}


def agent_loads(*, agent_ids: list[int], channel: str) -> dict[int, int]:
    """Running items plus ringing offers per agent, for one channel.

    One statement, so both counts come from one snapshot: an accept that commits in between turns a ringing
    offer into a running item, which two separate reads would count twice or not at all.
    """
    loads = dict.fromkeys(agent_ids, 0)
    if agent_ids:
        loads.update(_loads_of(agent_ids, channel, lock=False))
    return loads


def _as_aware(value: datetime | None) -> datetime | None:
    """A timestamp read by plain SQL: SQLite hands a subquery's timestamp back naive (UTC, as Django stores it);
    PostgreSQL's is already aware."""
    if value is None or timezone.is_aware(value):
        return value
    return timezone.make_aware(value, UTC)


def _candidates(item: RoutingItem, ticket: Ticket) -> list[Candidate]:
    """The agents who could take the item: the department's members, or every agent when it has none.

    One statement: each agent with their load, their last turn in this rotation and whether they already
    refused this item. A decision is a handful of round trips, and this read was four of them.
    """
    takes_field, max_field, priority_field = CHANNEL_PROFILE[item.channel]
    tenant_id = require_active_tenant().pk
    loads_sql, load_params = _load_sql(item.channel, tenant_id)
    members = ""
    member_params: list[Any] = []
    if ticket.department_id is not None:
        members = (
            f" JOIN {DepartmentMember._meta.db_table} m ON m.agent_id = a.id AND m.tenant_id = %s"
            f" AND m.department_id = %s"
        )
        member_params = [tenant_id, ticket.department_id]
    sql = (
        f"SELECT a.id, a.display_name, a.status, a.{takes_field}, a.{priority_field},"
        f" {f'a.{max_field}' if max_field else 'NULL'}, {loads_sql},"
        f" (SELECT r.last_assigned_at FROM {AgentRotation._meta.db_table} r WHERE r.tenant_id = %s"
        f" AND r.agent_id = a.id AND r.department_id_key = %s AND r.channel = %s),"
        f" EXISTS (SELECT 1 FROM {Offer._meta.db_table} o WHERE o.tenant_id = %s AND o.item_id = %s"
        f" AND o.agent_id = a.id AND o.state IN (%s, %s))"
        f" FROM {AgentProfile._meta.db_table} a{members} WHERE a.tenant_id = %s ORDER BY a.id"
    )
    params = [
        *load_params, tenant_id, ticket.department_id or 0, item.channel,
        tenant_id, item.pk, OfferState.DECLINED, OfferState.MISSED, *member_params, tenant_id,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        Candidate(
            agent_id=agent_id, name=name, status=status, load=running + ringing, max_load=max_load,
            priority=priority, last_assigned_at=_as_aware(last_turn), in_department=True,
            takes_channel=bool(takes), declined_before=bool(refused),
        )
        for agent_id, name, status, takes, priority, max_load, running, ringing, last_turn, refused in rows
    ]


def _lock_and_count(agent_ids: list[int], channel: str) -> dict[int, int]:
    """Lock the agents' rows (in id order) and count their loads in the same statement, under the lock."""
    return _loads_of(agent_ids, channel, lock=True)


def _select_verified(
    method_name: str, candidates: list[Candidate], *, channel: str, rng: random.Random | None,
    preferred_agent_id: int | None,
) -> tuple[Selection, list[Candidate]]:
    """Select, then lock the winners' agent rows and re-count their load under the lock.

    Loads were read before the lock; a decision in another department may have given a shared agent their
    last slot meanwhile. Holding the winners' rows until commit makes such decisions take turns on that agent,
    and the re-count sees the other's committed offer. A winner found full is re-selected without.
    """
    # Each round that finds a winner full leaves that agent ineligible (their row stays locked), so this ends.
    for _ in range(len(candidates) + 1):
        selection = select(method_get(method_name), candidates, rng=rng, preferred_agent_id=preferred_agent_id)
        if not selection.winners:
            return selection, candidates
        fresh = _lock_and_count(selection.winners, channel)
        candidates = [replace(c, load=fresh[c.agent_id]) if c.agent_id in fresh else c for c in candidates]
        by_id = {c.agent_id: c for c in candidates}
        if all(by_id[agent_id].has_free_slot for agent_id in selection.winners):
            return selection, candidates
    raise RuntimeError("Routing could not settle on an agent with a free slot.")  # unreachable, see above


# How far back a returning customer's tickets are looked through for the agent who handled them last.
LAST_AGENT_LOOKBACK = 50


def _last_agent_of_customer(ticket: Ticket) -> int | None:
    """The assignee of the customer's most recent other ticket that has one (within their last few tickets).

    Filtered on the contact alone, so the only useful index is the contact's, newest first, whatever the
    planner's statistics say. With "has an assignee" in the WHERE clause, statistics taken while most tickets
    were unassigned made PostgreSQL walk every assigned ticket of the tenant instead (38 ms at 40,000 chats).
    """
    recent = (
        Ticket.objects.filter(contact_id=ticket.contact_id).exclude(pk=ticket.pk)
        .order_by("-created_at", "-id").values_list("assignee_id", flat=True)[:LAST_AGENT_LOOKBACK]
    )
    return next((agent_id for agent_id in recent if agent_id is not None), None)


def _candidate_record(candidate: Candidate, reason: str | None) -> dict:
    return {
        "agent_id": candidate.agent_id, "name": candidate.name, "status": candidate.status,
        "load": candidate.load, "max_load": candidate.max_load, "priority": candidate.priority,
        "last_assigned_at": candidate.last_assigned_at.isoformat() if candidate.last_assigned_at else None,
        "result": "offered" if reason is None else "lost", "reason": reason or "",
    }


def item_route(*, item_id: int, rng: random.Random | None = None) -> RoutingDecision | None:
    """Decide who is offered a queued item, and ring them. Does nothing for an item that is not queued (so a
    repeated or late task is harmless) or that another worker is routing right now."""
    now = timezone.now()
    # No savepoint: the caller's transaction (a task's tenant_context) ends with this work either way.
    with transaction.atomic(savepoint=False):
        item = (
            RoutingItem.objects.select_for_update(skip_locked=True)
            .filter(pk=item_id, state=ItemState.QUEUED).first()
        )
        if item is None:
            return None
        ticket = (
            Ticket.objects.select_related("contact", "department")
            .annotate(first_message=Subquery(_first_customer_message(OuterRef("pk"))))
            .get(pk=item.ticket_id)
        )
        if ticket.assignee_id is not None or ticket.status not in ACTIVE_STATUSES:
            item.state = ItemState.ASSIGNED if ticket.assignee_id else ItemState.CANCELLED
            item.updated_at = now
            item.save(update_fields=["state", "updated_at"])
            return None
        _lock_rotation(item.tenant_id, ticket.department_id, item.channel)
        # The clock is read once the lock is held, so round robin's stamps follow the order decisions are made:
        # a stamp taken before waiting for the lock could be older than a decision made meanwhile, and the
        # agent just chosen would look least recently assigned and be chosen again.
        now = timezone.now()
        config = settings_get()
        method_name = config.method_for(item.channel)
        candidates = _candidates(item, ticket)
        preferred = _last_agent_of_customer(ticket) if config.prefer_last_agent else None
        selection, candidates = _select_verified(
            method_name, candidates, channel=item.channel, rng=rng, preferred_agent_id=preferred,
        )
        records = [_candidate_record(c, selection.reasons.get(c.agent_id)) for c in candidates]
        if not selection.winners and _last_decision_found_nobody(item):
            # Still nobody: each time capacity frees elsewhere the queue is tried again, and repeating the same
            # "waiting" entry every time would bury the ticket's log.
            item.attempts += 1
            item.updated_at = now
            item.save(update_fields=["attempts", "updated_at"])
            return None
        if selection.winners:
            outcome = f"offered to {len(selection.winners)} agent(s) by {method_get(method_name).name}"
        else:
            outcome = "no eligible agent: waiting in the queue"
        decision = RoutingDecision.objects.create(
            tenant_id=item.tenant_id, item=item, ticket=ticket, channel=item.channel, method=method_name,
            department_id_at_decision=ticket.department_id, candidates=records, winner_ids=selection.winners,
            outcome=outcome, created_at=now,
        )
        item.attempts += 1
        item.updated_at = now
        if selection.winners:
            expires = now + timedelta(seconds=config.ring_seconds)
            offers = Offer.objects.bulk_create([
                Offer(tenant_id=item.tenant_id, item=item, agent_id=agent_id, decision=decision, expires_at=expires,
                      created_at=now)
                for agent_id in selection.winners
            ])
            _push_offers(ticket, offers, item.channel)
            item.state = ItemState.RINGING
            if len(selection.winners) == 1:
                _rotation_touch(agent_id=selection.winners[0], ticket=ticket, channel=item.channel, at=now)
        item.save(update_fields=["state", "attempts", "updated_at"])
        winners = [r["name"] for r in records if r["result"] == "offered"]
        event_append(
            ticket=ticket, kind=EventKind.ROUTED, actor=None, at=now,
            data={"decision_id": decision.pk, "method": method_name, "outcome": outcome, "offered_to": winners},
        )
    return decision


def _last_decision_found_nobody(item: RoutingItem) -> bool:
    last = RoutingDecision.objects.filter(item=item).order_by("-created_at", "-id").values_list(
        "winner_ids", flat=True
    ).first()
    return last is not None and not last


def _rotation_touch(*, agent_id: int, ticket: Ticket, channel: str, at: datetime) -> None:
    if connection.vendor != "postgresql":
        AgentRotation.objects.update_or_create(
            agent_id=agent_id, department_id_key=ticket.department_id or 0, channel=channel,
            defaults={"tenant_id": ticket.tenant_id, "last_assigned_at": at},
        )
        return
    # One statement instead of update_or_create's savepoint, read, and write.
    table = AgentRotation._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (tenant_id, agent_id, department_id_key, channel, last_assigned_at) "
            f"VALUES (%s, %s, %s, %s, %s) ON CONFLICT (tenant_id, agent_id, department_id_key, channel) "
            f"DO UPDATE SET last_assigned_at = EXCLUDED.last_assigned_at",
            [ticket.tenant_id, agent_id, ticket.department_id or 0, channel, at],
        )


def _first_customer_message(ticket_id: Any) -> QuerySet[Message]:
    return (
        Message.objects.filter(ticket_id=ticket_id, kind=MessageKind.CUSTOMER).order_by("created_at", "id")
        .values("body")[:1]
    )


def _offer_payload(ticket: Ticket, channel: str) -> dict:
    """What a ringing offer shows. ``ticket`` as item_route reads it (department and first message with it)."""
    if "first_message" in ticket.__dict__:
        first = ticket.first_message
    else:
        first = _first_customer_message(ticket.pk).values_list("body", flat=True).first()
    department = ticket.department.name if ticket.department_id else None
    return {"ticket_id": ticket.pk, "ticket": ticket.code, "subject": ticket.subject, "channel": channel,
            "customer": ticket.contact.display_name, "department": department,
            "first_message": (first or "")[:300]}


def _push_offers(ticket: Ticket, offers: list[Offer], channel: str) -> None:
    payload = _offer_payload(ticket, channel)
    push.publish(
        push.Push(push.agent_stream(offer.agent_id), push.OFFER_RINGING,
                  {**payload, "offer_id": offer.pk, "expires_at": offer.expires_at.isoformat()})
        for offer in offers
    )


def _withdrawn_pushes(item: RoutingItem, offers: list[Offer], state: str) -> list[push.Push]:
    return [
        push.Push(push.agent_stream(offer.agent_id), push.OFFER_WITHDRAWN,
                  {"offer_id": offer.pk, "ticket_id": item.ticket_id, "reason": state})
        for offer in offers
    ]


def route_waiting(*, limit: int = 100) -> int:
    """Offer queued items, highest priority then longest waiting first, while agents have room. Returns how
    many were offered."""
    offered = 0
    item_ids = list(
        RoutingItem.objects.filter(state=ItemState.QUEUED).order_by("-priority", "queued_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    for item_id in item_ids:
        decision = item_route(item_id=item_id)
        if decision is not None and decision.winner_ids:
            offered += 1
    return offered


# --- answering offers -------------------------------------------------------------------------------------

def _offer_for_agent(actor: Actor, offer_id: int) -> Offer:
    """The actor's own offer, with its item's ticket id (read in the same statement)."""
    agent = actor.agent
    offer = Offer.objects.annotate(ticket_id=F("item__ticket_id")).filter(pk=offer_id).first()
    if agent is None or offer is None or offer.agent_id != agent.pk:
        raise NotFound("No such offer.")
    return offer


def offer_accept(*, actor: Actor, offer_id: int) -> Ticket:
    """The agent takes the ringing item. With ring-all, the first to accept wins and the others' offers are
    withdrawn."""
    offer = _offer_for_agent(actor, offer_id)
    now = timezone.now()
    with transaction.atomic():
        # Lock order everywhere: ticket, then routing item, then offers. A manual change of the ticket locks the
        # ticket and then (through its hook) the item; taking them in the other order here could deadlock.
        # The ticket is read with its lock, with what the log and the pushes show of it: its status is the
        # "before" of the status change logged below, and nothing else can change it until this commits.
        ticket = (
            Ticket.objects.select_for_update(no_key=True, of=("self",)).select_related("department", "contact")
            .filter(pk=offer.ticket_id).first()
        )
        if ticket is None:
            raise NotFound("No such offer.")
        item = RoutingItem.objects.select_for_update().get(pk=offer.item_id)
        offer = (
            Offer.objects.select_for_update(of=("self",)).annotate(winner_ids=F("decision__winner_ids"))
            .get(pk=offer.pk)
        )
        if offer.state != OfferState.RINGING or item.state != ItemState.RINGING:
            raise Conflict("This offer is no longer ringing.", code="offer_gone")
        rang_out = offer.expires_at <= now
        if rang_out:
            _offers_close(item, [offer], OfferState.MISSED, now)
            _requeue_if_silent(item, now)
        else:
            _offer_take(actor=actor, item=item, offer=offer, ticket=ticket, now=now)
            counters_hint(department_ids=[ticket.department_id])
    if rang_out:
        # Raised after the block so the ring-out is recorded (outside a request's own transaction).
        raise Conflict("This offer rang out before it was accepted.", code="offer_gone")
    return ticket


def _offer_take(*, actor: Actor, item: RoutingItem, offer: Offer, ticket: Ticket, now: datetime) -> None:
    """``offer`` as offer_accept locks it, with its decision's ``winner_ids``; ``ticket`` as it read it under
    the ticket's row lock (with its department and contact), brought up to date here."""
    # The agent row is not locked: the ringing offer already holds their slot, and going offline locks the
    # agent and then items, so locking an agent here, after the item, could deadlock with it.
    agent = actor.agent
    assigned = Ticket.objects.filter(pk=item.ticket_id, assignee__isnull=True, status__in=ACTIVE_STATUSES).update(
        assignee=agent, updated_at=now, status=Status.OPEN,
    )
    if assigned != 1:
        raise Conflict("Someone else already has this item, or it was closed.", code="already_taken")
    previous_status = ticket.status
    ticket.assignee, ticket.status, ticket.updated_at = agent, Status.OPEN, now
    offer.state = OfferState.ACCEPTED
    offer.answered_at = now
    offer.save(update_fields=["state", "answered_at"])
    others = list(Offer.objects.filter(item=item, state=OfferState.RINGING).exclude(pk=offer.pk))
    pushes = _offers_close(item, others, OfferState.WITHDRAWN, now, announce=False)
    item.state = ItemState.ASSIGNED
    item.updated_at = now
    item.save(update_fields=["state", "updated_at"])
    # A single-agent offer took the agent's turn when it was decided (under the routing lock); stamping it
    # again now, outside that lock, would push them behind agents chosen since and break the rotation.
    # Only an offer rung on several agents at once (ring all, priority) records the turn on acceptance.
    if offer.winner_ids != [agent.pk]:
        _rotation_touch(agent_id=agent.pk, ticket=ticket, channel=item.channel, at=now)
    changes = [(EventKind.ASSIGNED, {"assignee": [None, agent.display_name], "via": "routing"})]
    if previous_status != Status.OPEN:
        changes.append((EventKind.STATUS_CHANGED, {"status": [previous_status, Status.OPEN]}))
    events_append(ticket=ticket, changes=changes, actor=actor, at=now)
    kind = push.CHAT_ASSIGNED if item.channel == RoutingChannel.CHAT else push.TICKET_ASSIGNED
    pushes.append(push.Push(push.agent_stream(agent.pk), kind,
                            {"offer_id": offer.pk, "ticket_id": ticket.pk, "ticket": ticket.code,
                             "subject": ticket.subject, "channel": ticket.channel,
                             "customer": ticket.contact.display_name, "via": "routing"}))
    if item.channel == RoutingChannel.CHAT:
        from routing.chats import chat_accepted  # chats builds on this module

        pushes.extend(chat_accepted(ticket=ticket, agent=agent, now=now))
    push.publish(pushes)


def offer_decline(*, actor: Actor, offer_id: int) -> None:
    offer = _offer_for_agent(actor, offer_id)
    now = timezone.now()
    with transaction.atomic():
        item = RoutingItem.objects.select_for_update().get(pk=offer.item_id)
        offer = Offer.objects.select_for_update().get(pk=offer.pk)
        if offer.state != OfferState.RINGING:
            raise Conflict("This offer is no longer ringing.", code="offer_gone")
        _offers_close(item, [offer], OfferState.DECLINED, now)
        _requeue_if_silent(item, now)


def _offers_close(
    item: RoutingItem, offers: list[Offer], state: str, now: datetime, *, announce: bool = True
) -> list[push.Push]:
    """Close ``offers`` and tell their agents; with ``announce=False`` the pushes are returned for the caller to
    publish with its own (a transaction publishes once, so stream locks are always taken in one order)."""
    if not offers:
        return []
    Offer.objects.filter(pk__in=[o.pk for o in offers]).update(state=state, answered_at=now)
    ticket = Ticket.objects.get(pk=item.ticket_id)
    kind = {OfferState.DECLINED: EventKind.OFFER_DECLINED, OfferState.MISSED: EventKind.OFFER_MISSED,
            OfferState.WITHDRAWN: EventKind.OFFER_WITHDRAWN}[state]
    names = dict(AgentProfile.objects.filter(pk__in=[o.agent_id for o in offers]).values_list("id", "display_name"))
    for offer in offers:
        event_append(ticket=ticket, kind=kind, at=now, actor=None,
                     actor_fields={"actor_type": ActorType.AGENT if state == OfferState.DECLINED else ActorType.SYSTEM,
                                   "actor_id": offer.agent_id, "actor_label": names.get(offer.agent_id, "")},
                     data={"agent_id": offer.agent_id, "agent": names.get(offer.agent_id, "")})
    pushes = _withdrawn_pushes(item, offers, state)
    if announce:
        push.publish(pushes)
    return pushes


def _requeue(item: RoutingItem, now: datetime) -> None:
    item.state = ItemState.QUEUED
    item.updated_at = now
    item.save(update_fields=["state", "updated_at"])
    _route_on_commit(item.tenant_id, item.pk)


def _requeue_if_silent(item: RoutingItem, now: datetime) -> None:
    """Once no offer of the item rings any more, it goes back to the queue and on to the next candidate."""
    if not Offer.objects.filter(item=item, state=OfferState.RINGING).exists():
        _requeue(item, now)


def items_with_expired_offers(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    now = now or timezone.now()
    return list(
        Offer.objects.filter(state=OfferState.RINGING, expires_at__lte=now)
        .values_list("item_id", flat=True).distinct()[:limit]
    )


def item_offers_expire(*, item_id: int, now: datetime | None = None) -> int:
    """The item's ringing offers past their time become missed, and it moves on. Returns how many expired."""
    now = now or timezone.now()
    with transaction.atomic():
        item = RoutingItem.objects.select_for_update(skip_locked=True).filter(pk=item_id).first()
        if item is None:
            return 0  # someone is accepting or routing it right now
        overdue = list(Offer.objects.filter(item=item, state=OfferState.RINGING, expires_at__lte=now))
        _offers_close(item, overdue, OfferState.MISSED, now)
        if item.state == ItemState.RINGING:
            _requeue_if_silent(item, now)
    return len(overdue)


def offers_expire(*, now: datetime | None = None) -> int:
    """Every ring-out at once, in the caller's transaction. Returns how many expired. (The beat task gives each
    item its own transaction instead.)"""
    now = now or timezone.now()
    return sum(item_offers_expire(item_id=item_id, now=now) for item_id in items_with_expired_offers(now=now))


def items_reconcile(*, stale_after: timedelta = timedelta(seconds=60)) -> int:
    """Re-derive pending work from the database: queued items nobody has looked at for a while (their task was
    lost, or a worker died mid-decision) are routed again. Returns how many were looked at."""
    cutoff = timezone.now() - stale_after
    item_ids = list(
        RoutingItem.objects.filter(state=ItemState.QUEUED, updated_at__lte=cutoff)
        .order_by("-priority", "queued_at").values_list("id", flat=True)[:200]
    )
    for item_id in item_ids:
        item_route(item_id=item_id)
    return len(item_ids)


# --- reacting to tickets and agents (hooks fired by lower apps) ---------------------------------------------

def counters_hint(*, department_ids: list[int | None]) -> None:
    """Tell the departments' agents who have the app open that their inbox counts changed (once this commits).

    A hint, not an event: the counts are read fresh when it arrives, so it is not persisted, and only agents
    with an open socket are looked up (one query), never the whole department.
    """
    wanted = {department_id for department_id in department_ids if department_id is not None}
    if not wanted:
        return
    agent_ids = set(
        AgentPresence.objects.filter(
            open_connections__gt=0, agent__department_memberships__department_id__in=wanted,
        ).values_list("agent_id", flat=True)
    )
    if agent_ids:
        push.send_transient(tenant_id=require_active_tenant().pk, streams=[push.agent_stream(a) for a in agent_ids],
                            type=push.COUNTERS_CHANGED, payload={"departments": sorted(wanted)})


def on_ticket_created(*, ticket: Ticket) -> None:
    counters_hint(department_ids=[ticket.department_id])
    _enqueue_unassigned(ticket)


def _enqueue_unassigned(ticket: Ticket) -> None:
    channel = routing_channel_of(ticket)
    if ticket.assignee_id is not None or ticket.status not in ACTIVE_STATUSES:
        return
    if channel == RoutingChannel.TICKET and not settings_get().auto_assign_tickets:
        return  # taken from the To solve queue instead
    item_enqueue(ticket=ticket)


def on_ticket_updated(
    *, ticket: Ticket, changed: set[str], previous_assignee_id: int | None,
    previous_department_id: int | None = None, pushes: list[push.Push] | None = None,
) -> None:
    if changed & {"assignee", "status", "department"}:
        counters_hint(department_ids=[ticket.department_id, previous_department_id])
    released = previous_assignee_id is not None and (
        ticket.assignee_id != previous_assignee_id or ticket.status not in ACTIVE_STATUSES
    )
    if released:
        _route_waiting_on_commit(ticket.tenant_id)  # capacity freed
    if "assignee" in changed and ticket.assignee_id is None and ticket.status in ACTIVE_STATUSES:
        _enqueue_unassigned(ticket)  # unassigned: leave it to routing
    elif "assignee" in changed and ticket.assignee_id is not None:
        item_close(ticket=ticket, state=ItemState.ASSIGNED, pushes=pushes)
    elif "status" in changed and ticket.status not in ACTIVE_STATUSES:
        item_close(ticket=ticket, pushes=pushes)  # resolved, spam or postponed while waiting: nobody should be rung
    if "status" in changed and ticket.channel == Channel.CHAT and ticket.status in (Status.RESOLVED, Status.SPAM):
        from routing.chats import chat_close_with_ticket  # chats builds on this module

        own = pushes is None
        pushes = [] if own else pushes
        chat_close_with_ticket(ticket=ticket, pushes=pushes)
        if own:
            push.publish(pushes)


def item_close(*, ticket: Ticket, state: str = ItemState.CANCELLED, pushes: list[push.Push] | None = None) -> None:
    """Take a ticket out of routing (assigned by hand, closed, or a call that ended): its ringing offers are
    withdrawn and its item stops waiting. The caller holds the ticket's row lock (lock order: ticket, item).
    With ``pushes`` the withdrawals are added to the caller's list, which it publishes itself."""
    item = RoutingItem.objects.select_for_update().filter(ticket=ticket).first()
    if item is None or item.state in (ItemState.ASSIGNED, ItemState.CANCELLED):
        return
    now = timezone.now()
    withdrawn = _offers_close(item, list(Offer.objects.filter(item=item, state=OfferState.RINGING)),
                              OfferState.WITHDRAWN, now, announce=pushes is None)
    if pushes is not None:
        pushes.extend(withdrawn)
    item.state = state
    item.updated_at = now
    item.save(update_fields=["state", "updated_at"])


def on_agent_updated(
    *, actor: Actor, agent: AgentProfile, changed: set[str], previous: dict, pushes: list[push.Push] | None = None,
) -> None:
    routing_changes = {name: [previous[name], getattr(agent, name)] for name in changed
                       if name in AGENT_ROUTING_FIELDS and name != "status"}
    if routing_changes:
        SettingsChange.objects.create(tenant_id=agent.tenant_id, actor_label=actor.label,
                                      subject=f"Agent {agent.display_name}", changes=routing_changes)
    if "status" in changed and agent.status != AgentStatus.ONLINE:
        agent_withdraw(agent=agent, pushes=pushes)
    if changed & set(AGENT_ROUTING_FIELDS):
        _route_waiting_on_commit(agent.tenant_id)  # coming online or raising a limit may free capacity


def agent_withdraw(*, agent: AgentProfile, pushes: list[push.Push] | None = None) -> None:
    """An agent who is no longer online: their ringing offers move on; their running chats stay or return to
    the queue, as the tenant chose. With ``pushes`` the withdrawals are added to the caller's list."""
    now = timezone.now()
    ringing = list(Offer.objects.filter(agent=agent, state=OfferState.RINGING).values_list("item_id", flat=True))
    for item_id in ringing:
        item = RoutingItem.objects.select_for_update().get(pk=item_id)
        # Re-read under the item lock: the agent may have accepted it in the meantime.
        still_ringing = list(Offer.objects.filter(item=item, agent=agent, state=OfferState.RINGING))
        withdrawn = _offers_close(item, still_ringing, OfferState.WITHDRAWN, now, announce=pushes is None)
        if pushes is not None:
            pushes.extend(withdrawn)
        if item.state == ItemState.RINGING:
            _requeue_if_silent(item, now)
    if settings_get().offline_chats == OfflineChats.REQUEUE:
        running = Ticket.objects.filter(assignee=agent, channel=Channel.CHAT, status__in=ACTIVE_STATUSES)
        for ticket in running:
            Ticket.objects.filter(pk=ticket.pk).update(assignee=None, updated_at=now)
            ticket.assignee = None
            event_append(ticket=ticket, kind=EventKind.ASSIGNED, actor=None, at=now,
                         data={"assignee": [agent.display_name, None], "via": "agent went offline"})
            item_enqueue(ticket=ticket)



# --- presence ---------------------------------------------------------------------------------------------

def agent_connected(*, agent_id: int) -> None:
    """A browser tab of the agent opened its socket."""
    tenant = require_active_tenant()
    presence, _ = AgentPresence.objects.get_or_create(agent_id=agent_id, defaults={"tenant": tenant})
    AgentPresence.objects.filter(pk=presence.pk).update(
        open_connections=F("open_connections") + 1, seen_at=timezone.now(),
    )


def agents_seen(*, agent_ids: list[int]) -> None:
    """A server's heartbeat for the agents it has sockets open for. It proves each has at least one live
    connection, so a count taken as gone during a long silence (a stalled server) is brought back to one."""
    AgentPresence.objects.filter(agent_id__in=agent_ids).update(
        seen_at=timezone.now(),
        open_connections=Case(When(open_connections=0, then=Value(1)), default=F("open_connections"),
                              output_field=AgentPresence._meta.get_field("open_connections")),
    )


def agent_disconnected(*, agent_id: int) -> None:
    """A tab closed its socket; with the last one gone the offline grace period starts."""
    AgentPresence.objects.filter(agent_id=agent_id, open_connections__gt=0).update(
        open_connections=F("open_connections") - 1, last_disconnected_at=timezone.now(),
    )


def presence_silence_limit() -> timedelta:
    """How long open sockets may go unheard before they count as gone: three missed heartbeats."""
    return timedelta(seconds=3 * settings.PRESENCE_HEARTBEAT_SECONDS)


def _silent_connections_close(now: datetime) -> None:
    """Sockets on a server that died never disconnect: a count not heard from within the silence limit is set
    to none, as of the last heartbeat (the last moment a connection was known to be alive)."""
    AgentPresence.objects.filter(
        Q(seen_at__lt=now - presence_silence_limit()) | Q(seen_at__isnull=True), open_connections__gt=0,
    ).update(open_connections=0, last_disconnected_at=Coalesce(F("seen_at"), Value(now)))


def agents_gone_offline(*, now: datetime | None = None) -> int:
    """Set offline every online agent whose last connection has been gone longer than the grace period, which
    withdraws their ringing offers (through the agent hook). Returns how many."""
    from departments.services import agent_update

    now = now or timezone.now()
    _silent_connections_close(now)
    cutoff = now - timedelta(seconds=settings_get().offline_grace_seconds)
    gone = AgentPresence.objects.filter(
        open_connections=0, last_disconnected_at__lte=cutoff, agent__status=AgentStatus.ONLINE,
    ).select_related("agent__membership")
    system = Actor(tenant=require_active_tenant(), role="admin")
    count = 0
    # Each agent_update publishes to that agent's stream (agent.status_changed, so their other devices' tabs
    # show it, and any withdrawn offers), all in the caller's one transaction: taking the agents in stream-key
    # order keeps the stream counter locks in the order every other publisher uses.
    for presence in sorted(gone, key=lambda p: push.agent_stream(p.agent_id)):
        agent_update(actor=system, agent=presence.agent, status=AgentStatus.OFFLINE)
        count += 1
    return count
