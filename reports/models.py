"""Report rollups, their watermark, and customers' satisfaction ratings.

Rollups hold sums and counts only (never averages), so any set of rows can be added up into a true average
or percentage. How each column is defined, and how rollups stay exact, is written in docs/reports.md.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from helpdesk.tenancy import TenantOwnedModel


class RatingValue(models.TextChoices):
    POSITIVE = "positive", "Good"
    NEGATIVE = "negative", "Bad"


class Rating(TenantOwnedModel):
    """A customer's rating of a resolved ticket or ended chat: one per ticket, changeable for a while.

    The agent, department and channel are those of the ticket when it was rated (the ones that handled it),
    kept as plain ids like the system log's, so reports never move a rating when a ticket is transferred.
    """

    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, related_name="rating")
    value = models.CharField(max_length=10, choices=RatingValue.choices)
    comment = models.TextField(blank=True)
    agent_id = models.BigIntegerField(null=True, blank=True)
    department_id = models.BigIntegerField(null=True, blank=True)
    channel = models.CharField(max_length=20)
    # SHA-256 of the link's token the rating came through; the token itself is never stored.
    token_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["tenant", "created_at"], name="rating_created_idx")]


class Grain(models.IntegerChoices):
    HOUR = 0, "UTC hour, by department, agent and channel"
    DAY = 1, "Day in the tenant's time zone, by department, agent and channel"
    DAY_DEPARTMENT = 2, "Day in the tenant's time zone, by department and channel (agent_id 0)"
    DAY_DEPARTMENT_ONLY = 3, "Day in the tenant's time zone, by department (agent_id 0, channel '')"
    DAY_AGENT = 4, "Day in the tenant's time zone, by department and agent (channel '')"
    DAY_AGENT_ONLY = 5, "Day in the tenant's time zone, by agent (department_id 0, channel '')"
    DAY_CHANNEL_ONLY = 6, "Day in the tenant's time zone, by channel (department_id 0, agent_id 0)"


# The dimensions each daily grain keeps (the others are 0 or ''), and the finer daily grain it is summed from
# (the first from the facts themselves). Sources come before the grains summed from them.
DAY_GRAINS: dict[int, tuple[frozenset[str], int | None]] = {
    Grain.DAY: (frozenset({"department", "agent", "channel"}), None),
    Grain.DAY_DEPARTMENT: (frozenset({"department", "channel"}), Grain.DAY),
    Grain.DAY_DEPARTMENT_ONLY: (frozenset({"department"}), Grain.DAY_DEPARTMENT),
    Grain.DAY_AGENT: (frozenset({"department", "agent"}), Grain.DAY),
    Grain.DAY_AGENT_ONLY: (frozenset({"agent"}), Grain.DAY_AGENT),
    Grain.DAY_CHANNEL_ONLY: (frozenset({"channel"}), Grain.DAY_DEPARTMENT),
}


METRICS = (
    "tickets_created", "tickets_resolved", "answers", "first_response_count", "first_response_ms",
    "response_count", "response_ms", "incoming_messages", "chats", "incoming_chats", "finished_chats",
    "missed_chats", "chat_messages", "pickup_count", "pickup_ms", "chat_duration_count", "chat_duration_ms",
    "calls", "incoming_calls", "finished_calls", "missed_calls", "call_seconds", "sla_first_response_count",
    "sla_first_response_met", "sla_resolution_count", "sla_resolution_met", "ratings_positive",
    "ratings_negative", "not_rated",
)


class ReportRollup(TenantOwnedModel):
    """Sums of the report's facts for one bucket and one (department, agent, channel); 0 means none."""

    grain = models.PositiveSmallIntegerField(choices=Grain.choices)
    bucket = models.DateTimeField()
    department_id = models.BigIntegerField(default=0)
    agent_id = models.BigIntegerField(default=0)
    channel = models.CharField(max_length=20)
    tickets_created = models.IntegerField(default=0)
    tickets_resolved = models.IntegerField(default=0)
    answers = models.IntegerField(default=0)
    first_response_count = models.IntegerField(default=0)
    first_response_ms = models.BigIntegerField(default=0)
    response_count = models.IntegerField(default=0)
    response_ms = models.BigIntegerField(default=0)
    incoming_messages = models.IntegerField(default=0)
    chats = models.IntegerField(default=0)
    incoming_chats = models.IntegerField(default=0)
    finished_chats = models.IntegerField(default=0)
    missed_chats = models.IntegerField(default=0)
    chat_messages = models.IntegerField(default=0)
    pickup_count = models.IntegerField(default=0)
    pickup_ms = models.BigIntegerField(default=0)
    chat_duration_count = models.IntegerField(default=0)
    chat_duration_ms = models.BigIntegerField(default=0)
    calls = models.IntegerField(default=0)
    incoming_calls = models.IntegerField(default=0)
    finished_calls = models.IntegerField(default=0)
    missed_calls = models.IntegerField(default=0)
    call_seconds = models.BigIntegerField(default=0)
    sla_first_response_count = models.IntegerField(default=0)
    sla_first_response_met = models.IntegerField(default=0)
    sla_resolution_count = models.IntegerField(default=0)
    sla_resolution_met = models.IntegerField(default=0)
    ratings_positive = models.IntegerField(default=0)
    ratings_negative = models.IntegerField(default=0)
    not_rated = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "grain", "bucket", "department_id", "agent_id", "channel"],
                name="report_rollup_unique",
            )
        ]
        # Every report reads one grain over a bucket range; department and agent filters narrow inside it.
        indexes = [models.Index(fields=["tenant", "grain", "bucket"], name="report_rollup_bucket_idx")]


class RollupState(TenantOwnedModel):
    """How far a tenant's rollups reach.

    Hours before ``rolled_until`` are in the hourly rollup; days before ``days_until`` (a midnight in the
    tenant's zone) in the daily ones. ``recent_max_ids`` are [run time, largest event id seen] pairs of recent
    runs: each run re-reads events above the id of the newest run older than the safety lag, so an event
    committed late, out of id order, or with a time in an already rolled-up hour, is still found.
    """

    rolled_until = models.DateTimeField(null=True, blank=True)
    days_until = models.DateTimeField(null=True, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    scan_from_id = models.BigIntegerField(default=0)
    recent_max_ids = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="rollup_state_one_per_tenant")]


class DirtyHour(TenantOwnedModel):
    """An hour already rolled up whose figures changed (a rating given or changed): reports read it from the
    log until the next rollup run recomputes it."""

    hour = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "hour"], name="dirty_hour_unique")]
