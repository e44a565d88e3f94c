"""Counts behind the SLA met percentages. Rollups written before had no such counts, so they are dropped and
the next rollup runs rebuild them from the log (reports read the log meanwhile, so figures stay exact)."""

from django.db import migrations, models

ROLLUP_TABLES = ("reports_reportrollup", "reports_dirtyhour", "reports_rollupstate")


def drop_rollups(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # TRUNCATE, as row-level security would hide every tenant's rows from a DELETE here.
        schema_editor.execute(f"TRUNCATE {', '.join(ROLLUP_TABLES)}")
    else:
        # The embedded SQLite database knows no TRUNCATE (and no row-level security).
        for table in ROLLUP_TABLES:
            schema_editor.execute(f"DELETE FROM {table}")


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0003_grain_day_agent'),
    ]

    operations = [
        migrations.RunPython(drop_rollups, migrations.RunPython.noop),
        migrations.AddField(
            model_name='reportrollup',
            name='sla_first_response_count',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='reportrollup',
            name='sla_first_response_met',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='reportrollup',
            name='sla_resolution_count',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='reportrollup',
            name='sla_resolution_met',
            field=models.IntegerField(default=0),
        ),
    ]
