"""Counts behind the SLA met percentages. Rollups written before had no such counts, so they are dropped and
the next rollup runs rebuild them from the log (reports read the log meanwhile, so figures stay exact)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0003_grain_day_agent'),
    ]

    operations = [
        migrations.RunSQL(
            # TRUNCATE, as row-level security would hide every tenant's rows from a DELETE here.
            "TRUNCATE reports_reportrollup, reports_dirtyhour, reports_rollupstate",
            migrations.RunSQL.noop,
        ),
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
