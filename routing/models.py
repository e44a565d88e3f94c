"""Automatic distribution: per-tenant settings, the items waiting for an agent, offers that ring on agents'
screens, and every decision with the reasons behind it."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from helpdesk.tenancy import TenantOwnedModel


class RoutingChannel(models.TextChoices):
    """What is being routed; each has its own method. Tickets of every other channel route as ``ticket``."""

    CHAT = "chat", "Chats"
    CALL = "call", "Calls"
    TICKET = "ticket", "Tickets"


class Method(models.TextChoices):
    RING_ALL = "ring_all", "Ring all"
    ROUND_ROBIN = "round_robin", "Round robin"
    MAX_UTILIZATION = "max_utilization", "Maximum utilization"
    MEAN_UTILIZATION = "mean_utilization", "Mean utilization"
    RANDOM = "random", "Random"
    PRIORITY = "priority", "Priority"


class OfflineChats(models.TextChoices):
    KEEP = "keep", "Keep them with the agent"
    REQUEUE = "requeue", "Put them back in the queue"


class RoutingSettings(TenantOwnedModel):
    chat_method = models.CharField(max_length=20, choices=Method.choices, default=Method.MEAN_UTILIZATION)
    call_method = models.CharField(max_length=20, choices=Method.choices, default=Method.PRIORITY)
    ticket_method = models.CharField(max_length=20, choices=Method.choices, default=Method.ROUND_ROBIN)
    ring_seconds = models.PositiveSmallIntegerField(default=30)
    offline_grace_seconds = models.PositiveSmallIntegerField(default=60)
    offline_chats = models.CharField(max_length=10, choices=OfflineChats.choices, default=OfflineChats.KEEP)
    prefer_last_agent = models.BooleanField(default=True)
    # Tickets (email, forms, API, social) are taken from To solve by default; this routes them instead.
    auto_assign_tickets = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "routing settings"
        constraints = [models.UniqueConstraint(fields=["tenant"], name="routing_settings_one_per_tenant")]

    def method_for(self, channel: str) -> str:
        return getattr(self, f"{channel}_method")


class ItemState(models.TextChoices):
    QUEUED = "queued", "Waiting for an agent"
    RINGING = "ringing", "Ringing"
    ASSIGNED = "assigned", "Assigned"
    CANCELLED = "cancelled", "Cancelled"


class RoutingItem(TenantOwnedModel):
    """A ticket, chat or call that needs an agent. The database row is the work: a lost broker message only
    delays it until the reconciler finds it."""

    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, related_name="routing_item")
    channel = models.CharField(max_length=10, choices=RoutingChannel.choices)
    state = models.CharField(max_length=10, choices=ItemState.choices, default=ItemState.QUEUED)
    priority = models.PositiveSmallIntegerField(default=2)
    queued_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            # The waiting queue: highest priority first, then longest waiting.
            models.Index(fields=["tenant", "state", "-priority", "queued_at"], name="routing_item_queue_idx"),
            models.Index(fields=["state", "updated_at"], name="routing_item_state_idx"),
        ]


class OfferState(models.TextChoices):
    RINGING = "ringing", "Ringing"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    MISSED = "missed", "Missed"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Offer(TenantOwnedModel):
    item = models.ForeignKey(RoutingItem, on_delete=models.CASCADE, related_name="offers")
    agent = models.ForeignKey("departments.AgentProfile", on_delete=models.CASCADE, related_name="offers")
    decision = models.ForeignKey("RoutingDecision", on_delete=models.CASCADE, related_name="offers")
    state = models.CharField(max_length=10, choices=OfferState.choices, default=OfferState.RINGING)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "agent", "state"], name="offer_agent_state_idx"),
            models.Index(fields=["state", "expires_at"], name="offer_expiry_idx"),
            models.Index(fields=["tenant", "item", "agent"], name="offer_item_agent_idx"),
        ]


class RoutingDecision(TenantOwnedModel):
    """Why an item went to whom: the method, every candidate with its status, load, priority and last
    assignment, why each one that lost lost, and the winners (several for ring-all)."""

    item = models.ForeignKey(RoutingItem, on_delete=models.CASCADE, related_name="decisions")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="routing_decisions")
    channel = models.CharField(max_length=10, choices=RoutingChannel.choices)
    method = models.CharField(max_length=20, choices=Method.choices)
    department_id_at_decision = models.BigIntegerField(null=True, blank=True)
    candidates = models.JSONField(default=list)
    winner_ids = models.JSONField(default=list)
    outcome = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["tenant", "ticket", "-created_at"], name="decision_ticket_idx")]


class AgentRotation(TenantOwnedModel):
    """When an agent was last given work in a department and channel: round robin's memory, in the
    database so it survives restarts and is shared by every worker."""

    agent = models.ForeignKey("departments.AgentProfile", on_delete=models.CASCADE, related_name="+")
    department_id_key = models.BigIntegerField(default=0, help_text="0 for items without a department")
    channel = models.CharField(max_length=10, choices=RoutingChannel.choices)
    last_assigned_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "agent", "department_id_key", "channel"], name="agent_rotation_unique"
            )
        ]


class SettingsChange(TenantOwnedModel):
    """Who changed which routing setting or agent routing value, from what to what."""

    actor_label = models.CharField(max_length=200)
    subject = models.CharField(max_length=200)
    changes = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["tenant", "-created_at"], name="settings_change_idx")]


class AgentPresence(TenantOwnedModel):
    """How many browser connections an agent has open. When the last one has been gone for the tenant's grace
    period, the agent is set offline (a closed laptop must not keep ringing)."""

    agent = models.OneToOneField("departments.AgentProfile", on_delete=models.CASCADE, related_name="presence")
    open_connections = models.PositiveIntegerField(default=0)
    last_disconnected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["open_connections", "last_disconnected_at"], name="presence_gone_idx")]
