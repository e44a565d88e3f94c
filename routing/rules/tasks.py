"""Celery tasks of the rules: thin; the engine re-reads everything from the database."""

from __future__ import annotations

import logging

from celery import shared_task

from helpdesk.models import Tenant
from helpdesk.tenancy import tenant_context
from routing.rules import engine, timers

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(Exception,), retry_backoff=True,
             max_retries=5)
def run_rules(*, tenant_id: int, ticket_id: int, trigger: str, changed: list[str] | None = None,
              chain: list[int] | None = None, route_after: bool = False, rule_ids: list[int] | None = None,
              attempt: int = 1) -> None:
    """Rules failing one by one are retried by the engine (this task sent again for the rest); the autoretry
    only covers the run itself failing (database gone), and then running the rules again is harmless: each
    firing re-checks its conditions on the ticket as it is."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return
    result = engine.RunResult()
    try:
        result = engine.rules_run(
            tenant=tenant, ticket_id=ticket_id, trigger=trigger, changed=changed or (),
            chain=engine.Chain.from_list(chain), rule_ids=rule_ids, attempt=attempt,
        )
    finally:
        if result.retry is not None:
            run_rules.apply_async(kwargs={
                "tenant_id": tenant_id, "ticket_id": ticket_id, "trigger": trigger, "changed": changed,
                "chain": chain, "route_after": route_after, "rule_ids": result.retry["rule_ids"],
                "attempt": result.retry["attempt"],
            }, countdown=result.retry["countdown"])
        elif route_after:
            # Also when the run itself failed: a new ticket must reach routing whatever its rules did.
            _route_new(tenant, ticket_id)


def _route_new(tenant: Tenant, ticket_id: int) -> None:
    from routing import services as routing_services
    from tickets.models import Ticket

    with tenant_context(tenant):
        ticket = Ticket.objects.filter(pk=ticket_id).first()
        if ticket is not None:
            routing_services.on_ticket_created(ticket=ticket)


@shared_task
def rules_time_sweep() -> None:
    """Beat, every minute: time-based rules fire for tickets whose condition has lasted long enough."""
    for tenant in Tenant.objects.only("id", "slug", "name", "time_zone"):
        try:
            timers.time_rules_sweep(tenant=tenant)
        except Exception:
            # One tenant's failure must not stop the others; the next beat tries again.
            logger.exception("Time rules failed for tenant %s", tenant.pk)
