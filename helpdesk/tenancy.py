"""The active tenant of a unit of work (request, task, command) and the two walls that keep tenants apart.

The first wall is in Python: tenant-owned models' default manager filters by the active tenant and refuses to
run without one. The second is PostgreSQL row-level security, whose policies read the transaction-local
setting ``app.tenant_id`` written here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from django.db import connection, models, transaction
from django.db.models import Q, sql

if TYPE_CHECKING:
    from helpdesk.models import Tenant

_active_tenant: ContextVar[Tenant | None] = ContextVar("active_tenant", default=None)


class NoActiveTenant(RuntimeError):
    """A tenant-owned table was queried outside of ``tenant_context``."""


def get_active_tenant() -> Tenant | None:
    return _active_tenant.get()


def require_active_tenant() -> Tenant:
    tenant = _active_tenant.get()
    if tenant is None:
        raise NoActiveTenant("No tenant is active: wrap the work in helpdesk.tenancy.tenant_context(tenant).")
    return tenant


def set_database_tenant(tenant_id: int | None) -> None:
    """Write the row-level security setting for the current transaction (PostgreSQL only)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        # is_local=true: the setting ends with the transaction, so a pooled connection never carries a
        # tenant over to the next unit of work.
        cursor.execute("SELECT set_config('app.tenant_id', %s, true)", ["" if tenant_id is None else str(tenant_id)])


@contextmanager
def tenant_context(tenant: Tenant) -> Iterator[Tenant]:
    """Run a block as ``tenant``: one transaction, with both walls set for it."""
    token = _active_tenant.set(tenant)
    try:
        with transaction.atomic():
            set_database_tenant(tenant.pk)
            yield tenant
    finally:
        _active_tenant.reset(token)


class TenantScopedQuery(sql.Query):
    """A query that is limited to the active tenant when it is compiled, not when it is built.

    Binding late lets querysets be declared where no tenant is active (a form field's choices, a class
    attribute) and still run as the tenant of the request that evaluates them; evaluating one with no tenant
    active raises instead of returning every tenant's rows.
    """

    tenant_pending = False

    def _bind_tenant(self) -> None:
        if self.tenant_pending:
            self.add_q(Q(tenant_id=require_active_tenant().pk))
            self.tenant_pending = False

    def chain(self, klass=None):
        if klass is not None and klass is not self.__class__:
            # UPDATE/DELETE/aggregate queries are other Query classes: bind before the class changes.
            self._bind_tenant()
        return super().chain(klass)

    def get_compiler(self, using=None, connection=None, elide_empty=True):
        self._bind_tenant()
        return super().get_compiler(using, connection, elide_empty)


class TenantScopedManager(models.Manager):
    """Default manager of tenant-owned models: only the active tenant's rows, and an error without one."""

    def get_queryset(self) -> models.QuerySet:
        query = TenantScopedQuery(self.model)
        query.tenant_pending = True
        return models.QuerySet(model=self.model, query=query, using=self._db, hints=self._hints)


class TenantOwnedModel(models.Model):
    """Base of every model that holds a tenant's data; its table gets row-level security on migrate."""

    tenant = models.ForeignKey("helpdesk.Tenant", on_delete=models.CASCADE, related_name="+")

    objects = TenantScopedManager()
    # Across tenants, for seeding and maintenance commands; row-level security still applies on PostgreSQL.
    unscoped = models.Manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.tenant_id is None:
            self.tenant = require_active_tenant()
        super().save(*args, **kwargs)


def tenant_owned_models() -> list[type[models.Model]]:
    from django.apps import apps

    return [m for m in apps.get_models() if issubclass(m, TenantOwnedModel)]
