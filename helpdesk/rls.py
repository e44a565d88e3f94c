"""PostgreSQL row-level security for every tenant-owned table, applied after each migrate.

Doing it here rather than in each app's migrations means a new tenant-owned model cannot be forgotten: its
table is covered the first time ``migrate`` runs after it is added.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connections

from helpdesk.tenancy import tenant_owned_models

logger = logging.getLogger(__name__)

POLICY_NAME = "tenant_isolation"
TENANT_PREDICATE = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint"


def apply_row_level_security(using: str = "default") -> None:
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        if cursor.fetchone()[0] == settings.DATABASE_APP_ROLE:
            # post_migrate is also sent by `flush`; the application role neither can nor needs to alter tables.
            return
        for model in tenant_owned_models():
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            cursor.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            cursor.execute(f"DROP POLICY IF EXISTS {POLICY_NAME} ON {table}")
            cursor.execute(
                f"CREATE POLICY {POLICY_NAME} ON {table} USING ({TENANT_PREDICATE}) WITH CHECK ({TENANT_PREDICATE})"
            )
        grant_app_role(cursor, connection)


def grant_app_role(cursor, connection) -> None:
    role = settings.DATABASE_APP_ROLE
    cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %s)", [role])
    if not cursor.fetchone()[0]:
        logger.warning("Database role %r does not exist: no privileges granted to it.", role)
        return
    quoted = connection.ops.quote_name(role)
    cursor.execute(f"GRANT USAGE ON SCHEMA public TO {quoted}")
    cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}")
    cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}")
