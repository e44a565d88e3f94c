"""Routing under real concurrency: several operating-system processes, each with its own PostgreSQL
connection, route, accept, decline and resolve the same items at once.

Guarantees: no item is ever assigned to two agents, no agent ever holds more than their maximum load through
automatic routing (checked at every step, not only at the end), and round robin stays fair.
"""

from __future__ import annotations

import multiprocessing
import random
import traceback
from collections import Counter

import pytest
from django.db import connection, connections

from departments.models import AgentProfile
from helpdesk.errors import Conflict
from helpdesk.principals import actor_for_membership
from helpdesk.tenancy import tenant_context
from routing import services
from routing.models import ItemState, Method, Offer, OfferState, RoutingItem
from tests.routing.routing_world import chat, configure, route, team
from tickets import services as ticket_services
from tickets.models import ACTIVE_STATUSES, EventKind, Ticket, TicketEvent

PROCESSES = 4


def _run_in_processes(target, argument_lists: list[tuple]) -> list:
    """Start one forked process per argument tuple, all released at once; return what each put on the queue."""
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(len(argument_lists))
    results = context.Queue()
    connections.close_all()  # children must open their own connections, not share the parent's socket
    processes = [
        context.Process(target=_child, args=(index, target, args, barrier, results))
        for index, args in enumerate(argument_lists)
    ]
    for process in processes:
        process.start()
    # In the order the processes were started, not the order they finished.
    outcomes = sorted((results.get(timeout=120) for _ in processes), key=lambda o: o["index"])
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    failures = [o["error"] for o in outcomes if "error" in o]
    assert not failures, failures[0]
    return [o["result"] for o in outcomes]


def _child(index, target, args, barrier, results) -> None:
    try:
        barrier.wait(timeout=30)
        results.put({"index": index, "result": target(*args)})
    except BaseException:
        results.put({"index": index, "error": traceback.format_exc()})
    finally:
        connections.close_all()


def _load_violations(agent_ids: list[int]) -> list[tuple]:
    """Agents whose running chats plus ringing chat offers exceed their limit, and items ringing for more than
    one agent, read in ONE statement so the answer is a single consistent snapshot of the database."""
    agent_table = AgentProfile._meta.db_table
    ticket_table = Ticket._meta.db_table
    offer_table = Offer._meta.db_table
    item_table = RoutingItem._meta.db_table
    statuses = ", ".join(f"'{s}'" for s in ACTIVE_STATUSES)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT 'load', a.id, a.max_chats, running.n, ringing.n
            FROM {agent_table} a
            CROSS JOIN LATERAL (SELECT count(*) AS n FROM {ticket_table} t
                                WHERE t.assignee_id = a.id AND t.channel = 'chat'
                                AND t.status IN ({statuses})) running
            CROSS JOIN LATERAL (SELECT count(*) AS n FROM {offer_table} o JOIN {item_table} i ON i.id = o.item_id
                                WHERE o.agent_id = a.id AND o.state = 'ringing' AND i.channel = 'chat') ringing
            WHERE a.id = ANY(%s) AND running.n + ringing.n > a.max_chats
            UNION ALL
            SELECT 'double offer', o.item_id, count(*), 0, 0 FROM {offer_table} o
            WHERE o.state IN ('ringing', 'accepted') GROUP BY o.item_id HAVING count(*) > 1
            """,
            [agent_ids],
        )
        return cursor.fetchall()


# --- ring all: many accepts race for the same items -------------------------------------------------------

def _accept_everything(tenant, agent_id: int, ticket_ids: list[int]) -> list[tuple[int, str]]:
    outcomes = []
    with tenant_context(tenant):
        agent = AgentProfile.objects.select_related("membership").get(pk=agent_id)
    actor = actor_for_membership(agent.membership)
    for ticket_id in ticket_ids:
        try:
            with tenant_context(tenant):
                offer = Offer.objects.get(item__ticket_id=ticket_id, agent_id=agent_id)
                services.offer_accept(actor=actor, offer_id=offer.pk)
            outcomes.append((ticket_id, "won"))
        except Conflict as exc:
            outcomes.append((ticket_id, exc.code))
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_racing_accepts_of_ring_all_offers_give_each_chat_to_exactly_one_agent(acme):
    configure(acme, chat_method=Method.RING_ALL)
    department, agents = team(acme, *[{"max_chats": 20} for _ in range(PROCESSES)])
    tickets = [chat(acme, department) for _ in range(15)]
    for ticket in tickets:
        assert len(route(acme, ticket).winner_ids) == PROCESSES
    ticket_ids = [t.pk for t in tickets]

    outcomes = _run_in_processes(_accept_everything, [
        (acme.tenant, agent.pk, random.Random(index).sample(ticket_ids, len(ticket_ids)))
        for index, agent in enumerate(agents)
    ])

    winners: dict[int, list[int]] = {}
    for agent, agent_outcomes in zip(agents, outcomes, strict=True):
        assert len(agent_outcomes) == len(ticket_ids)
        for ticket_id, result in agent_outcomes:
            if result == "won":
                winners.setdefault(ticket_id, []).append(agent.pk)
            else:
                assert result in ("offer_gone", "already_taken")
    assert sorted(winners) == sorted(ticket_ids)
    assert all(len(owners) == 1 for owners in winners.values()), winners
    with tenant_context(acme.tenant):
        for ticket_id, (owner,) in winners.items():
            assert Ticket.objects.get(pk=ticket_id).assignee_id == owner
            offers = Counter(Offer.objects.filter(item__ticket_id=ticket_id).values_list("state", flat=True))
            assert offers == {OfferState.ACCEPTED: 1, OfferState.WITHDRAWN: PROCESSES - 1}
            assert Offer.objects.get(item__ticket_id=ticket_id, state=OfferState.ACCEPTED).agent_id == owner
            assert RoutingItem.objects.get(ticket_id=ticket_id).state == ItemState.ASSIGNED
            assert TicketEvent.objects.filter(ticket_id=ticket_id, kind=EventKind.ASSIGNED).count() == 1


# --- routing, answering and resolving at once: capacity is never exceeded ---------------------------------

def _work_the_queue(tenant, admin, ticket_ids: list[int], agent_ids: list[int], seed: int) -> dict:
    """A routing worker that also plays the agents: route every item it sees, answer the offers it made
    (mostly accept, sometimes decline), resolve some running chats, and check the invariants after each step."""
    rng = random.Random(seed)
    with tenant_context(tenant):
        actors = {
            a.pk: actor_for_membership(a.membership)
            for a in AgentProfile.objects.select_related("membership").filter(pk__in=agent_ids)
        }
        item_ids = list(RoutingItem.objects.filter(ticket_id__in=ticket_ids).values_list("id", flat=True))
    tally = Counter()
    violations = []
    running: list[int] = []

    def check() -> None:
        with tenant_context(tenant):
            violations.extend(_load_violations(agent_ids))

    for _ in range(3):
        for item_id in rng.sample(item_ids, len(item_ids)):
            with tenant_context(tenant):
                decision = services.item_route(item_id=item_id)
            check()
            if decision is None or not decision.winner_ids:
                tally["skipped" if decision is None else "waiting"] += 1
                continue
            tally["offered"] += 1
            (agent_id,) = decision.winner_ids
            with tenant_context(tenant):
                offer = Offer.objects.get(decision=decision, agent_id=agent_id)
            try:
                with tenant_context(tenant):
                    if rng.random() < 0.15:
                        services.offer_decline(actor=actors[agent_id], offer_id=offer.pk)
                        tally["declined"] += 1
                    else:
                        services.offer_accept(actor=actors[agent_id], offer_id=offer.pk)
                        running.append(decision.ticket_id)
                        tally["accepted"] += 1
            except Conflict:
                tally["conflict"] += 1
            check()
            if running and rng.random() < 0.4:
                ticket_id = running.pop(rng.randrange(len(running)))
                with tenant_context(tenant):
                    ticket_services.ticket_update(actor=admin, ticket=Ticket.objects.get(pk=ticket_id),
                                                  status="resolved")
                tally["resolved"] += 1
                check()
    return {"tally": dict(tally), "violations": violations}


@pytest.mark.django_db(transaction=True)
def test_parallel_workers_never_offer_an_item_twice_nor_exceed_any_agents_max_load(acme):
    configure(acme, chat_method=Method.MAX_UTILIZATION)  # fills agents to their limit: the hardest case
    department, agents = team(acme, {"max_chats": 1}, {"max_chats": 2}, {"max_chats": 2}, {"max_chats": 3})
    agent_ids = [a.pk for a in agents]
    ticket_ids = [chat(acme, department).pk for _ in range(30)]

    results = _run_in_processes(_work_the_queue, [
        (acme.tenant, acme.admin, ticket_ids, agent_ids, seed) for seed in range(PROCESSES)
    ])

    for result in results:
        assert result["violations"] == []
    tally = sum((Counter(r["tally"]) for r in results), Counter())
    # The race was real: items were skipped because another worker was routing them, or already offered.
    assert tally["accepted"] >= 8 and tally["skipped"] > 0, tally
    with tenant_context(acme.tenant):
        assert _load_violations(agent_ids) == []
        max_chats = {a.pk: a.max_chats for a in agents}
        for ticket in Ticket.objects.filter(pk__in=ticket_ids):
            accepted = list(Offer.objects.filter(item__ticket=ticket, state=OfferState.ACCEPTED))
            assert len(accepted) <= 1
            assert ticket.assignee_id == (accepted[0].agent_id if accepted else None)
            assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.ASSIGNED).count() == len(accepted)
        running = Counter(
            Ticket.objects.filter(pk__in=ticket_ids, status__in=ACTIVE_STATUSES, assignee__isnull=False)
            .values_list("assignee_id", flat=True)
        )
        assert all(running[agent_id] <= max_chats[agent_id] for agent_id in agent_ids), running
        # Items are never left ringing without an offer, nor assigned without an accepted offer.
        for item in RoutingItem.objects.filter(ticket_id__in=ticket_ids):
            states = set(item.offers.values_list("state", flat=True))
            if item.state == ItemState.RINGING:
                assert OfferState.RINGING in states
            if item.state == ItemState.ASSIGNED:
                assert OfferState.ACCEPTED in states


# --- round robin stays fair under concurrent workers ------------------------------------------------------

def _route_accept_resolve(tenant, admin, ticket_ids: list[int]) -> list[int]:
    """For each item: route it, the offered agent accepts, and the chat is resolved (capacity freed)."""
    winners = []
    for ticket_id in ticket_ids:
        with tenant_context(tenant):
            item_id = RoutingItem.objects.get(ticket_id=ticket_id).pk
            decision = services.item_route(item_id=item_id)
        (agent_id,) = decision.winner_ids
        with tenant_context(tenant):
            agent = AgentProfile.objects.select_related("membership").get(pk=agent_id)
            offer = Offer.objects.get(decision=decision)
            services.offer_accept(actor=actor_for_membership(agent.membership), offer_id=offer.pk)
        with tenant_context(tenant):
            ticket_services.ticket_update(actor=admin, ticket=Ticket.objects.get(pk=ticket_id), status="resolved")
        winners.append(agent_id)
    return winners


@pytest.mark.django_db(transaction=True)
def test_round_robin_stays_fair_across_concurrent_workers(acme):
    configure(acme, chat_method=Method.ROUND_ROBIN)
    agent_count, rounds = 4, 8
    # Limits well above what can be in flight at once, so every agent is always eligible.
    department, agents = team(acme, *[{"max_chats": 10} for _ in range(agent_count)])
    ticket_ids = [chat(acme, department).pk for _ in range(agent_count * rounds)]
    per_process = len(ticket_ids) // PROCESSES

    results = _run_in_processes(_route_accept_resolve, [
        (acme.tenant, acme.admin, ticket_ids[i * per_process:(i + 1) * per_process]) for i in range(PROCESSES)
    ])

    counts = Counter(agent_id for winners in results for agent_id in winners)
    assert sum(counts.values()) == agent_count * rounds
    assert set(counts) == {a.pk for a in agents}
    assert max(counts.values()) - min(counts.values()) <= 1, counts
    with tenant_context(acme.tenant):
        accepted = Counter(Offer.objects.filter(state=OfferState.ACCEPTED).values_list("agent_id", flat=True))
    assert accepted == counts
