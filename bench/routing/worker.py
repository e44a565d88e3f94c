"""One routing worker process: decides, accepts and ends chats through the product's services.

Each worker plays what a Celery worker and the agents' browsers do in production, on its own database
connection as the application role (row-level security applies):

- **decide**: one unit of work as the ``route_item`` task runs it — ``tenant_context`` (BEGIN and the
  row-level security setting), ``routing.services.item_route``, COMMIT with its on-commit push. This is what
  the decision latency measures.
- **accept**: the offered agent accepts with ``offer_accept``; then, in a new transaction, the agent's load
  is read back with ``agent_loads`` and compared with their ``max_chats`` (over-capacity seen at decision time).
- **end**: once the worker holds more running chats than its share, the oldest is resolved with
  ``ticket_update(status="resolved")``, which frees the agent's slot.
- **wait**: an item with no eligible agent stays queued; after each chat it ends, the worker routes its
  oldest waiting item again (as ``route_waiting`` would), and at the end it drains them all.

The "route now" Celery messages the services queue on commit are counted, not sent: this process is the
worker that routes every item, so a second router would only compete with it for the same rows.
"""

from __future__ import annotations

import os
import time
import traceback
from collections import deque
from typing import Any

DECIDE, ACCEPT, CHECK, END = "decide", "accept", "check", "end"


def run(index: int, item_ids: list[int], config: dict[str, Any], start, results) -> None:
    try:
        results.put(_run(index, item_ids, config, start))
    except BaseException:
        results.put({"worker": index, "error": traceback.format_exc()})


def _run(index: int, item_ids: list[int], config: dict[str, Any], start) -> dict[str, Any]:
    os.environ.update(config["env"])
    import django

    django.setup()
    from django.db import connection

    from departments.models import AgentProfile
    from helpdesk.models import Tenant
    from helpdesk.principals import Actor
    from helpdesk.tenancy import tenant_context
    from routing import services
    from routing.models import Offer, RoutingChannel
    from tickets.models import Status
    from tickets.services import ticket_update

    published = {"route_item": 0, "route_waiting": 0}

    def count_route_item(tenant_id: int, item_id: int) -> None:
        published["route_item"] += 1

    def count_route_waiting(tenant_id: int) -> None:
        published["route_waiting"] += 1

    services._route_on_commit = count_route_item
    services._route_waiting_on_commit = count_route_waiting

    tenant = Tenant.objects.get(pk=config["tenant_id"])
    with tenant_context(tenant):
        profiles = list(AgentProfile.objects.select_related("membership"))
    actors = {}
    max_chats = {}
    for profile in profiles:
        membership = profile.membership
        membership.tenant = tenant
        membership.agent = profile  # the reverse one-to-one cache: Actor.agent needs no query
        actors[profile.pk] = Actor(tenant=tenant, role=membership.role, membership=membership)
        max_chats[profile.pk] = profile.max_chats
    connection.ensure_connection()
    backend_pid = connection.connection.info.backend_pid

    keep = config["keep_running"]
    latencies: list[float] = []
    spent = dict.fromkeys((DECIDE, ACCEPT, CHECK, END), 0.0)
    counts = {"decisions": 0, "offered": 0, "no_agent": 0, "skipped": 0, "accepted": 0, "accept_conflicts": 0,
              "ended": 0, "over_capacity": 0, "retries": 0}
    running: deque = deque()
    waiting: deque[int] = deque()

    def decide(item_id: int) -> None:
        began = time.perf_counter()
        with tenant_context(tenant):
            decision = services.item_route(item_id=item_id)
        took = time.perf_counter() - began
        spent[DECIDE] += took
        if decision is None:
            counts["skipped"] += 1  # not queued any more, or another worker holds it
            return
        latencies.append(took)
        counts["decisions"] += 1
        if not decision.winner_ids:
            counts["no_agent"] += 1
            waiting.append(item_id)
            return
        counts["offered"] += 1
        accept(decision)

    def accept(decision) -> None:
        began = time.perf_counter()
        with tenant_context(tenant):
            offer_id, agent_id = Offer.objects.filter(decision_id=decision.pk).values_list("id", "agent_id")[0]
        try:
            with tenant_context(tenant):
                ticket = services.offer_accept(actor=actors[agent_id], offer_id=offer_id)
        except Exception as exc:  # a Conflict here would be a routing bug: count it, keep going
            counts["accept_conflicts"] += 1
            counts.setdefault("accept_errors", []).append(repr(exc)[:200])
            spent[ACCEPT] += time.perf_counter() - began
            return
        counts["accepted"] += 1
        running.append(ticket)
        checked = time.perf_counter()
        spent[ACCEPT] += checked - began
        with tenant_context(tenant):
            load = services.agent_loads(agent_ids=[agent_id], channel=RoutingChannel.CHAT)[agent_id]
        if load > max_chats[agent_id]:
            counts["over_capacity"] += 1
        spent[CHECK] += time.perf_counter() - checked

    def end_oldest() -> None:
        ticket = running.popleft()
        began = time.perf_counter()
        with tenant_context(tenant):
            ticket_update(actor=actors[ticket.assignee_id], ticket=ticket, status=Status.RESOLVED)
        spent[END] += time.perf_counter() - began
        counts["ended"] += 1

    def retry_waiting(limit: int) -> None:
        for _ in range(min(limit, len(waiting))):
            counts["retries"] += 1
            decide(waiting.popleft())

    start.wait()
    began = time.perf_counter()
    for item_id in item_ids:
        decide(item_id)
        while len(running) > keep:
            end_oldest()
            retry_waiting(1)
    # Drain: end chats until every waiting item of this worker found an agent.
    rounds = 0
    while waiting and rounds < 10_000:
        rounds += 1
        if running:
            end_oldest()
        else:
            time.sleep(0.01)  # other workers' chats hold the slots: give them a moment
        retry_waiting(len(waiting))
    finished = time.perf_counter()
    return {
        "worker": index, "backend_pid": backend_pid, "items": len(item_ids), "started": began,
        "finished": finished, "latencies": latencies, "spent": spent, "counts": counts, "published": published,
        "still_waiting": list(waiting), "running_at_end": len(running),
    }
