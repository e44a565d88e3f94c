"""Two agents opening the same To solve ticket at once: exactly one owns it, the other is told.

Real operating-system processes, each with its own PostgreSQL connection, race for the same tickets.
"""

from __future__ import annotations

import multiprocessing
import random

import pytest
from django.db import connections

from helpdesk.errors import Conflict
from helpdesk.principals import actor_for_membership
from helpdesk.tenancy import tenant_context
from tickets.models import EventKind, Ticket, TicketEvent
from tickets.services import ticket_take

PROCESSES = 4
TICKETS = 25


def _race(tenant, agent, ticket_ids, barrier, results) -> None:
    outcomes = []
    try:
        barrier.wait(timeout=30)
        for ticket_id in ticket_ids:
            with tenant_context(tenant):
                ticket = Ticket.objects.get(pk=ticket_id)
                try:
                    taken = ticket_take(actor=actor_for_membership(agent.membership), ticket=ticket)
                    outcomes.append((ticket_id, "won", taken.assignee_id))
                except Conflict as exc:
                    outcomes.append((ticket_id, "told", str(exc)))
    finally:
        connections.close_all()
        results.put((agent.pk, outcomes))


@pytest.mark.django_db(transaction=True)
def test_concurrent_takes_give_each_ticket_exactly_one_owner(acme):
    with tenant_context(acme.tenant):
        agents = [acme.admin_agent, *acme.agents]
        from departments import services as department_services

        extra = department_services.agent_create(
            actor=acme.admin, email="agent3@acme.test", display_name="Acme Agent 3"
        )
        agents.append(extra)
    ticket_ids = [acme.ticket(department=None).pk for _ in range(TICKETS)]

    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    connections.close_all()  # children must open their own connections, not share the parent's socket
    processes = []
    for index, agent in enumerate(agents[:PROCESSES]):
        order = ticket_ids[:]
        random.Random(index).shuffle(order)
        process = context.Process(target=_race, args=(acme.tenant, agent, order, barrier, results))
        process.start()
        processes.append(process)
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0

    winners: dict[int, list[int]] = {}
    told = 0
    for agent_id, agent_outcomes in outcomes:
        assert len(agent_outcomes) == TICKETS
        for ticket_id, result, detail in agent_outcomes:
            if result == "won":
                assert detail == agent_id
                winners.setdefault(ticket_id, []).append(agent_id)
            else:
                told += 1
                assert "has already taken ticket" in detail
    assert sorted(winners) == sorted(ticket_ids)
    assert all(len(owners) == 1 for owners in winners.values()), winners
    assert told == TICKETS * (PROCESSES - 1)

    with tenant_context(acme.tenant):
        for ticket_id, owners in winners.items():
            assert Ticket.objects.get(pk=ticket_id).assignee_id == owners[0]
            assignments = TicketEvent.objects.filter(ticket_id=ticket_id, kind=EventKind.ASSIGNED)
            assert assignments.count() == 1
