"""Celery tasks: thin, idempotent, and each re-reads the database, which holds the real state."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import connection

from helpdesk.models import Tenant
from helpdesk.tenancy import tenant_context
from reports import rollups

logger = logging.getLogger(__name__)


@shared_task
def rollup_reports() -> None:
    """Beat, every minute: each tenant's report rollups catch up with its system log."""
    if connection.vendor != "postgresql":
        return  # the rollups' SQL is PostgreSQL's; the embedded SQLite default has no reports
    for tenant in Tenant.objects.only("id", "slug", "name", "time_zone"):
        try:
            with tenant_context(tenant):
                rollups.rollup_run()
        except Exception:
            # One tenant's failure must not stop the others; the next beat recomputes the same buckets.
            logger.exception("Report rollup failed for tenant %s", tenant.pk)
