"""The second wall: PostgreSQL itself keeps tenants apart, whatever the Python code does."""

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from helpdesk.tenancy import set_database_tenant, tenant_context, tenant_owned_models
from tickets.models import Ticket


def test_every_tenant_table_has_row_level_security_enabled_and_forced(db):
    tables = {model._meta.db_table for model in tenant_owned_models()}
    assert {"tickets_ticket", "tickets_ticketevent", "departments_department"} <= tables
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
            "WHERE relname = ANY(%s) AND relkind = 'r'",
            [list(tables)],
        )
        rows = {name: (enabled, forced) for name, enabled, forced in cursor.fetchall()}
        cursor.execute("SELECT tablename FROM pg_policies WHERE policyname = 'tenant_isolation'")
        with_policy = {row[0] for row in cursor.fetchall()}
    assert set(rows) == tables
    missing = sorted(t for t, (enabled, forced) in rows.items() if not (enabled and forced))
    assert missing == [], f"tables without forced row-level security: {missing}"
    assert tables <= with_policy


def test_every_table_with_a_tenant_column_is_a_tenant_owned_model(db):
    """A table holding tenant_id outside TenantOwnedModel would escape both walls; only the tenancy tables
    themselves (read before a tenant is known, holding no customer data) may."""
    # routing_chatwidgetkey: a public widget key -> tenant lookup, read before the tenant is known.
    allowed_without_rls = {"helpdesk_membership", "helpdesk_apikey", "routing_chatwidgetkey"}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.relrowsecurity FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE a.attname = 'tenant_id' AND c.relkind = 'r' AND n.nspname = 'public'"
        )
        unprotected = {name for name, rls in cursor.fetchall() if not rls}
    assert unprotected == allowed_without_rls


def test_application_connects_as_a_role_that_row_level_security_applies_to(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        user, superuser, bypass = cursor.fetchone()
        cursor.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'tickets_ticket'")
        owner = cursor.fetchone()[0]
    assert user == settings.DATABASE_APP_ROLE
    assert not superuser and not bypass
    assert owner != user


def test_raw_sql_without_the_tenant_setting_sees_no_rows(acme, globex):
    acme.ticket()
    globex.ticket()
    with transaction.atomic():
        set_database_tenant(None)
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM tickets_ticket")
            assert cursor.fetchone()[0] == 0
            cursor.execute("SELECT count(*) FROM tickets_ticketevent")
            assert cursor.fetchone()[0] == 0


def test_raw_sql_in_one_tenant_sees_only_that_tenants_rows(acme, globex):
    acme.ticket()
    acme.ticket()
    globex.ticket()
    with tenant_context(acme.tenant), connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT tenant_id FROM tickets_ticket")
        assert [row[0] for row in cursor.fetchall()] == [acme.tenant.pk]


def test_writing_a_row_for_another_tenant_is_refused_by_the_database(acme, globex):
    ticket = acme.ticket()
    with tenant_context(globex.tenant):
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO tickets_tag (tenant_id, name) VALUES (%s, 'smuggled')", [acme.tenant.pk]
                )
        with connection.cursor() as cursor:
            cursor.execute("UPDATE tickets_ticket SET subject = 'hijacked' WHERE id = %s", [ticket.pk])
            assert cursor.rowcount == 0
    with tenant_context(acme.tenant):
        assert Ticket.objects.get(pk=ticket.pk).subject != "hijacked"
