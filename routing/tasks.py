"""Celery tasks: thin, idempotent, and each re-reads the database, which holds the real state."""

from __future__ import annotations

import logging

from celery import shared_task

from helpdesk.models import Tenant
from helpdesk.tenancy import tenant_context
from routing import chats, services

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(Exception,), retry_backoff=True,
             max_retries=5)
def route_item(tenant_id: int, item_id: int) -> None:
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return
    with tenant_context(tenant):
        services.item_route(item_id=item_id)


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(Exception,), retry_backoff=True,
             max_retries=5)
def route_waiting(tenant_id: int) -> None:
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return
    with tenant_context(tenant):
        services.route_waiting()


@shared_task
def expire_offers_and_reconcile() -> None:
    """Beat, every few seconds: ring-outs move on, agents whose browsers are gone go offline, queued work whose
    message was lost is routed again, and visitors whose sockets fell silent with their server have left."""
    for tenant in Tenant.objects.only("id", "slug", "name", "time_zone"):
        try:
            with tenant_context(tenant):
                due = services.items_with_expired_offers()
            # One transaction per item: each publishes to its agents' streams, and a transaction holding several
            # agents' stream counters in the order of its items could deadlock with a decision taking them in
            # key order.
            for item_id in due:
                with tenant_context(tenant):
                    services.item_offers_expire(item_id=item_id)
            with tenant_context(tenant):
                services.agents_gone_offline()
                services.items_reconcile()
            with tenant_context(tenant):
                silent = chats.chats_with_silent_visitors()
            for chat_id in silent:  # one transaction each, like the ring-outs above
                with tenant_context(tenant):
                    chats.chat_silent_visitor_leave(chat_id=chat_id)
        except Exception:
            # One tenant's failure must not stop the others; the next beat tries again.
            logger.exception("Routing reconcile failed for tenant %s", tenant.pk)
