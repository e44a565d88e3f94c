"""Statistics on lower(email) for the planner: it keeps none for the expression of a partial index, guesses
hundreds of matches, and would rather scan every contact than use the unique index for a single row."""

from django.db import migrations


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE STATISTICS IF NOT EXISTS contact_email_lower_stats ON (lower(email)) FROM tickets_contact",
            params=None,
        )


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP STATISTICS IF EXISTS contact_email_lower_stats", params=None)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0004_active_load_index")]
    operations = [migrations.RunPython(forward, backward)]
