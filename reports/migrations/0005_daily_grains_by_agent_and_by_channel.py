"""Daily rollups by agent alone and by channel alone, for reports grouped by one of them without other filters.

Summed here from the daily rollups by department and agent (4) and by department and channel (2) that every
rolled-up day already has, so reports find them at once; later days get them from each rollup run.
"""

from django.db import migrations, models

METRICS = (
    "tickets_created", "tickets_resolved", "answers", "first_response_count", "first_response_ms",
    "response_count", "response_ms", "incoming_messages", "chats", "incoming_chats", "finished_chats",
    "missed_chats", "chat_messages", "pickup_count", "pickup_ms", "chat_duration_count", "chat_duration_ms",
    "calls", "incoming_calls", "finished_calls", "missed_calls", "call_seconds", "sla_first_response_count",
    "sla_first_response_met", "sla_resolution_count", "sla_resolution_met", "ratings_positive",
    "ratings_negative", "not_rated",
)
# (grain, its source grain, department_id, agent_id, channel as selected, what it is grouped by)
GRAINS = ((5, 4, "0", "agent_id", "''", "agent_id"), (6, 2, "0", "0", "channel", "channel"))


def _each_tenant(schema_editor, statement: str, params) -> None:
    # Row-level security applies to the table's owner too: each tenant's rows are visible only under its id.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT id FROM helpdesk_tenant ORDER BY id")
        for (tenant_id,) in cursor.fetchall():
            cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
            cursor.execute(statement, params)
        cursor.execute("SELECT set_config('app.tenant_id', '', true)")


def sum_new_grains(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    metrics = ", ".join(METRICS)
    sums = ", ".join(f"SUM({m})" for m in METRICS)
    for grain, source, department, agent, channel, group_by in GRAINS:
        _each_tenant(schema_editor, f"""
            INSERT INTO reports_reportrollup (tenant_id, grain, bucket, department_id, agent_id, channel, {metrics})
            SELECT tenant_id, %s, bucket, {department}, {agent}, {channel}, {sums}
            FROM reports_reportrollup WHERE grain = %s
            GROUP BY tenant_id, bucket, {group_by}
            ON CONFLICT DO NOTHING""", [grain, source])


def drop_new_grains(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    _each_tenant(schema_editor, "DELETE FROM reports_reportrollup WHERE grain IN (5, 6)", [])


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0004_sla_met_counts'),
    ]

    operations = [
        migrations.AlterField(
            model_name='reportrollup',
            name='grain',
            field=models.PositiveSmallIntegerField(choices=[(0, 'UTC hour, by department, agent and channel'), (1, "Day in the tenant's time zone, by department, agent and channel"), (2, "Day in the tenant's time zone, by department and channel (agent_id 0)"), (3, "Day in the tenant's time zone, by department (agent_id 0, channel '')"), (4, "Day in the tenant's time zone, by department and agent (channel '')"), (5, "Day in the tenant's time zone, by agent (department_id 0, channel '')"), (6, "Day in the tenant's time zone, by channel (department_id 0, agent_id 0)")]),
        ),
        migrations.RunPython(sum_new_grains, drop_new_grains),
    ]
