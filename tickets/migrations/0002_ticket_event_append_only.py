"""The system log is append-only in the database itself: no role, however privileged its code, may UPDATE or
DELETE a ticket event."""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION ticket_event_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The ticket system log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER ticket_event_append_only
    BEFORE UPDATE OR DELETE ON tickets_ticketevent
    FOR EACH ROW EXECUTE FUNCTION ticket_event_refuse_change();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS ticket_event_append_only ON tickets_ticketevent;
DROP FUNCTION IF EXISTS ticket_event_refuse_change();
"""
SQLITE_FORWARD = [
    "CREATE TRIGGER ticket_event_no_update BEFORE UPDATE ON tickets_ticketevent "
    "BEGIN SELECT RAISE(ABORT, 'The ticket system log is append-only: UPDATE refused'); END;",
    "CREATE TRIGGER ticket_event_no_delete BEFORE DELETE ON tickets_ticketevent "
    "BEGIN SELECT RAISE(ABORT, 'The ticket system log is append-only: DELETE refused'); END;",
]
SQLITE_BACKWARD = ["DROP TRIGGER IF EXISTS ticket_event_no_update;", "DROP TRIGGER IF EXISTS ticket_event_no_delete;"]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
