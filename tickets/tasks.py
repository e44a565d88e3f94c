"""Celery tasks for tickets: thin, idempotent, each re-reading the database, which holds the real state."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from helpdesk.models import Tenant
from helpdesk.tenancy import tenant_context
from tickets import mail, sla

logger = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def email_send(self, tenant_id: int, email_id: int) -> None:
    """Send one queued email; retried with backoff, then recorded as failed on the ticket's log.

    The attempt is counted before sending, so a worker that dies mid-send does not retry forever; an email a
    redelivered task finds sent already is not sent again.
    """
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return
    with tenant_context(tenant):
        email = mail.email_claim(email_id=email_id)
    if email is None:
        return
    try:
        mail.email_deliver(email)
    except Exception as exc:  # noqa: BLE001 - any refusal by the backend is worth a retry
        final = email.attempts + 1 >= settings.EMAIL_SEND_ATTEMPTS
        logger.warning("Email %s not sent (attempt %s): %s", email_id, email.attempts + 1, exc)
        with tenant_context(tenant):
            mail.email_mark_error(email_id=email_id, error=f"{type(exc).__name__}: {exc}", final=final)
        if not final:
            countdown = settings.EMAIL_RETRY_SECONDS * 2 ** email.attempts
            if self.request.is_eager:
                # Run in the caller's process (the embedded default): retry at once, and never fail the caller.
                self.apply(args=(tenant_id, email_id))
                return
            raise self.retry(exc=exc, countdown=countdown) from exc
        return
    with tenant_context(tenant):
        mail.email_mark_sent(email_id=email_id)


@shared_task
def sla_sweep() -> None:
    """Beat, every minute: targets that became due soon or breached are announced on their tickets."""
    for tenant in Tenant.objects.only("id", "slug", "name", "time_zone"):
        try:
            with tenant_context(tenant):
                sla.sla_sweep()
        except Exception:
            # One tenant's failure must not stop the others; the next sweep tries again.
            logger.exception("SLA sweep failed for tenant %s", tenant.pk)
