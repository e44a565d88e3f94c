"""Nothing pending is ever lost: the database is the queue, tasks are idempotent and acknowledged late, and the
periodic reconciler re-derives pending work from the database, even after a worker died mid-decision."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

from helpdesk.tenancy import tenant_context
from routing import services, tasks
from routing.models import ItemState, Offer, OfferState, RoutingDecision, RoutingItem
from tests.routing.routing_world import accept, chat, item_of, ringing, route, team
from tickets.models import EventKind, TicketEvent

REPO = Path(__file__).resolve().parents[2]


def _age(world, ticket, seconds: int) -> None:
    """Pretend nobody has looked at the ticket's item for ``seconds``."""
    with tenant_context(world.tenant):
        RoutingItem.objects.filter(ticket_id=ticket.pk).update(
            updated_at=timezone.now() - timedelta(seconds=seconds)
        )


def test_the_reconciler_routes_queued_items_nobody_looked_at_for_a_while(acme):
    department, (agent,) = team(acme, {})
    forgotten = chat(acme, department)
    fresh = chat(acme, department)
    _age(acme, forgotten, 120)

    with tenant_context(acme.tenant):
        assert services.items_reconcile(stale_after=timedelta(seconds=60)) == 1

    assert set(ringing(acme, forgotten)) == {agent.pk}
    assert item_of(acme, fresh).state == ItemState.QUEUED
    assert ringing(acme, fresh) == {}


def test_the_reconciler_leaves_ringing_and_assigned_items_alone(acme):
    department, (first, second) = team(acme, {}, {})
    rings = chat(acme, department)
    assigned = chat(acme, department)
    route(acme, rings)
    route(acme, assigned)
    accept(acme, second, assigned)
    _age(acme, rings, 120)
    _age(acme, assigned, 120)

    with tenant_context(acme.tenant):
        assert services.items_reconcile(stale_after=timedelta(seconds=60)) == 0
        assert RoutingDecision.objects.filter(ticket_id__in=[rings.pk, assigned.pk]).count() == 2
    assert set(ringing(acme, rings)) == {first.pk}
    assert item_of(acme, assigned).state == ItemState.ASSIGNED


def test_a_repeated_route_task_routes_the_item_once(acme):
    department, _ = team(acme, {}, {})
    ticket = chat(acme, department)
    item = item_of(acme, ticket)

    tasks.route_item.run(acme.tenant.pk, item.pk)
    tasks.route_item.run(acme.tenant.pk, item.pk)

    with tenant_context(acme.tenant):
        assert RoutingDecision.objects.filter(item=item).count() == 1
        assert Offer.objects.filter(item=item).count() == 1
        assert TicketEvent.objects.filter(ticket_id=ticket.pk, kind=EventKind.ROUTED).count() == 1


def test_a_route_task_for_a_deleted_tenant_or_item_does_nothing(acme):
    department, _ = team(acme, {})
    ticket = chat(acme, department)

    tasks.route_item.run(987654, item_of(acme, ticket).pk)
    tasks.route_item.run(acme.tenant.pk, 987654)

    assert item_of(acme, ticket).state == ItemState.QUEUED


def test_routing_tasks_are_acknowledged_only_after_they_ran():
    for task in (tasks.route_item, tasks.route_waiting):
        assert task.acks_late is True
        assert task.reject_on_worker_lost is True


def test_the_periodic_task_expires_ring_outs_and_reconciles_every_tenant(acme, globex):
    acme_department, (acme_agent,) = team(acme, {})
    globex_department, (globex_agent,) = team(globex, {})
    rang_out = chat(acme, acme_department)
    route(acme, rang_out)
    with tenant_context(acme.tenant):
        Offer.objects.filter(item__ticket_id=rang_out.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    forgotten = chat(globex, globex_department)
    _age(globex, forgotten, 120)

    tasks.expire_offers_and_reconcile.run()

    with tenant_context(acme.tenant):
        assert list(Offer.objects.filter(item__ticket_id=rang_out.pk).values_list("state", flat=True)) == [
            OfferState.MISSED
        ]
    # The ring-out is queued again; the only agent missed it, so it waits for someone else.
    assert item_of(acme, rang_out).state == ItemState.QUEUED
    assert set(ringing(globex, forgotten)) == {globex_agent.pk}


# --- a worker killed in the middle of a decision ----------------------------------------------------------

def _decide_and_hang(tenant, item_id: int, deciding) -> None:
    """A routing worker that stops dead while it holds the item (and the tenant's routing lock)."""
    real_candidates = services._candidates

    def candidates_then_hang(item, ticket):
        found = real_candidates(item, ticket)
        deciding.set()
        time.sleep(60)
        return found

    services._candidates = candidates_then_hang
    with tenant_context(tenant):
        services.item_route(item_id=item_id)
    os._exit(0)  # never reached: the test kills this process


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_decision_loses_nothing_and_the_reconciler_routes_the_item(acme):
    department, (agent,) = team(acme, {})
    ticket = chat(acme, department)
    item_id = item_of(acme, ticket).pk

    context = multiprocessing.get_context("fork")
    deciding = context.Event()
    connections.close_all()
    worker = context.Process(target=_decide_and_hang, args=(acme.tenant, item_id, deciding))
    worker.start()
    try:
        assert deciding.wait(timeout=30), "the worker never started deciding"
        # Meanwhile another worker skips the item rather than deciding it twice.
        with tenant_context(acme.tenant):
            assert services.item_route(item_id=item_id) is None
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.join(timeout=10)
    assert worker.exitcode == -signal.SIGKILL

    # Its transaction died with it: still queued, never attempted, no half-written decision or offers.
    item = item_of(acme, ticket)
    assert (item.state, item.attempts) == (ItemState.QUEUED, 0)
    with tenant_context(acme.tenant):
        assert not Offer.objects.filter(item_id=item_id).exists()
        assert not RoutingDecision.objects.filter(item_id=item_id).exists()

    deadline = time.monotonic() + 10
    while not ringing(acme, ticket) and time.monotonic() < deadline:
        # PostgreSQL releases the dead worker's locks as soon as it notices the connection is gone.
        with tenant_context(acme.tenant):
            services.items_reconcile(stale_after=timedelta(0))
        time.sleep(0.1)
    assert set(ringing(acme, ticket)) == {agent.pk}
    with tenant_context(acme.tenant):
        assert RoutingDecision.objects.filter(item_id=item_id).count() == 1


# --- a real Celery worker -----------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_a_celery_worker_routes_items_whose_tasks_it_receives(acme):
    from helpdesk.celery import app

    department, agents = team(acme, {}, {}, {})
    tickets = [chat(acme, department) for _ in range(3)]
    app.control.purge()  # drop the tasks queued on commit, by this test and earlier ones
    assert all(ringing(acme, t) == {} for t in tickets)

    database = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{settings.DATABASE_APP_ROLE}@{database['HOST'] or '127.0.0.1'}:"
                        f"{database['PORT'] or 5432}/{database['NAME']}",
        "DB_CONN_MAX_AGE": "0",
    }
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "helpdesk", "worker", "-P", "solo", "-Q", "celery",
         "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        for ticket in tickets:
            tasks.route_item.delay(acme.tenant.pk, item_of(acme, ticket).pk)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not all(ringing(acme, t) for t in tickets):
            assert worker.poll() is None, worker.stderr.read().decode()
            time.sleep(0.2)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=5)

    offered = [set(ringing(acme, t)) for t in tickets]
    assert all(len(agent_ids) == 1 for agent_ids in offered), offered
    # Mean utilization spreads three chats over three idle agents.
    assert set().union(*offered) == {a.pk for a in agents}
