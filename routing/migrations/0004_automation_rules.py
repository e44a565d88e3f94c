# Automation rules: rules, their audit, parked runs and time-trigger firings.

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('helpdesk', '0002_push_streams'),
        ('routing', '0003_live_chat_widgets_and_chats'),
        ('tickets', '0006_chat_event_kinds'),
    ]

    operations = [
        migrations.CreateModel(
            name='Rule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=120)),
                ('note', models.TextField(blank=True)),
                ('active', models.BooleanField(default=False)),
                ('position', models.PositiveIntegerField(default=0)),
                ('trigger', models.CharField(choices=[('ticket_created', 'Ticket created'), ('ticket_updated', 'Ticket updated'), ('customer_message', 'Customer message received'), ('agent_reply', 'Agent reply sent'), ('time_in_status', 'In a status for a while'), ('time_unanswered', 'Unanswered for a while'), ('time_unassigned', 'Without an assignee for a while'), ('sla_due_soon', 'SLA due soon'), ('sla_breached', 'SLA breached')], max_length=20)),
                ('trigger_options', models.JSONField(blank=True, default=dict)),
                ('condition_groups', models.JSONField(blank=True, default=list)),
                ('actions', models.JSONField(default=list)),
                ('stop_processing', models.BooleanField(default=False, help_text='Later rules do not run after this one fires.')),
                ('warning', models.CharField(blank=True, max_length=300)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('updated_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('tenant', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='helpdesk.tenant')),
            ],
            options={
                'ordering': ['position', 'id'],
            },
        ),
        migrations.CreateModel(
            name='ParkedRuleRun',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('trigger', models.CharField(choices=[('ticket_created', 'Ticket created'), ('ticket_updated', 'Ticket updated'), ('customer_message', 'Customer message received'), ('agent_reply', 'Agent reply sent'), ('time_in_status', 'In a status for a while'), ('time_unanswered', 'Unanswered for a while'), ('time_unassigned', 'Without an assignee for a while'), ('sla_due_soon', 'SLA due soon'), ('sla_breached', 'SLA breached')], max_length=20)),
                ('error', models.TextField()),
                ('attempts', models.PositiveSmallIntegerField()),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('tenant', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='helpdesk.tenant')),
                ('ticket', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tickets.ticket')),
                ('rule', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='parked_runs', to='routing.rule')),
            ],
        ),
        migrations.CreateModel(
            name='RuleChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('rule_name', models.CharField(max_length=120)),
                ('actor_label', models.CharField(max_length=200)),
                ('action', models.CharField(max_length=20)),
                ('changes', models.JSONField(blank=True, default=dict)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('rule', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='changes', to='routing.rule')),
                ('tenant', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='helpdesk.tenant')),
            ],
        ),
        migrations.CreateModel(
            name='RuleTimeFiring',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('episode_start', models.DateTimeField()),
                ('fired_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('rule', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='routing.rule')),
                ('tenant', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='helpdesk.tenant')),
                ('ticket', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tickets.ticket')),
            ],
        ),
        migrations.AddIndex(
            model_name='rule',
            index=models.Index(fields=['tenant', 'trigger', 'active', 'position'], name='rule_trigger_idx'),
        ),
        migrations.AddIndex(
            model_name='parkedrulerun',
            index=models.Index(fields=['tenant', 'rule', '-created_at'], name='parked_rule_run_idx'),
        ),
        migrations.AddIndex(
            model_name='rulechange',
            index=models.Index(fields=['tenant', '-created_at'], name='rule_change_idx'),
        ),
        migrations.AddConstraint(
            model_name='ruletimefiring',
            constraint=models.UniqueConstraint(fields=('tenant', 'rule', 'ticket', 'episode_start'), name='rule_firing_once'),
        ),
    ]
