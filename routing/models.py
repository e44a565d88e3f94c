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
    period, the agent is set offline (a closed laptop must not keep ringing).

    The count is kept by the sockets' connect and disconnect, and ``seen_at`` by their heartbeats: a server that
    dies never runs its sockets' disconnect, so a count that has not been heard from for three heartbeats is
    taken as gone (see routing.services.agents_gone_offline)."""

    agent = models.OneToOneField("departments.AgentProfile", on_delete=models.CASCADE, related_name="presence")
    open_connections = models.PositiveIntegerField(default=0)
    last_disconnected_at = models.DateTimeField(null=True, blank=True)
    seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["open_connections", "last_disconnected_at"], name="presence_gone_idx")]


# --- live chat --------------------------------------------------------------------------------------------

class ChatWidget(TenantOwnedModel):
    """A chat box a tenant embeds on its website: which department it serves and which sites may host it."""

    name = models.CharField(max_length=100)
    department = models.ForeignKey(
        "departments.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # One origin per entry, e.g. "https://www.example.com": only pages served from these may open chats.
    allowed_origins = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    # Public (it is in the page's snippet): it identifies the widget, it grants nothing beyond starting a chat.
    key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class ChatWidgetKey(models.Model):
    """Which tenant a widget key belongs to, read before any tenant is active (a visitor's socket or request
    carries only the key). Holds no customer data, so it has no row-level security, like ApiKey."""

    key = models.CharField(max_length=40, unique=True)
    tenant = models.ForeignKey("helpdesk.Tenant", on_delete=models.CASCADE, related_name="+")
    widget_id = models.BigIntegerField(unique=True)

    def __str__(self) -> str:
        return self.key


class ChatEndedBy(models.TextChoices):
    AGENT = "agent", "Agent"
    VISITOR = "visitor", "Visitor"


class Chat(TenantOwnedModel):
    """What is particular to a chat ticket: its visitor's secret and the moments reports measure (pickup time
    is accepted_at - started_at, duration ended_at - accepted_at)."""

    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, related_name="chat")
    widget = models.ForeignKey(ChatWidget, null=True, blank=True, on_delete=models.SET_NULL, related_name="chats")
    # SHA-256 of the token the visitor's browser keeps; the token itself is never stored.
    visitor_token_hash = models.CharField(max_length=64)
    started_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.CharField(max_length=10, choices=ChatEndedBy.choices, blank=True)
    visitor_left_at = models.DateTimeField(null=True, blank=True)
    # The visitor's open sockets (tabs); when the last one closes the agent is told the visitor left. Their
    # heartbeats keep visitor_seen_at: sockets of a server that died never close, but they fall silent.
    open_sockets = models.PositiveIntegerField(default=0)
    visitor_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "ended_at", "started_at"], name="chat_running_idx"),
            # The sweep's look for silent visitors: running chats with sockets counted open.
            models.Index(fields=["tenant", "visitor_seen_at"], name="chat_visitor_open_idx",
                         condition=models.Q(ended_at__isnull=True, open_sockets__gt=0)),
        ]

    @property
    def is_ended(self) -> bool:
        return self.ended_at is not None


# --- automation rules -------------------------------------------------------------------------------------

class RuleTrigger(models.TextChoices):
    TICKET_CREATED = "ticket_created", "Ticket created"
    TICKET_UPDATED = "ticket_updated", "Ticket updated"
    CUSTOMER_MESSAGE = "customer_message", "Customer message received"
    AGENT_REPLY = "agent_reply", "Agent reply sent"
    TIME_IN_STATUS = "time_in_status", "In a status for a while"
    TIME_UNANSWERED = "time_unanswered", "Unanswered for a while"
    TIME_UNASSIGNED = "time_unassigned", "Without an assignee for a while"
    SLA_DUE_SOON = "sla_due_soon", "SLA due soon"
    SLA_BREACHED = "sla_breached", "SLA breached"


class Rule(TenantOwnedModel):
    """An automation rule: when ``trigger`` happens and any condition group matches (all conditions of the
    group), apply ``actions`` in one transaction. Rules of a trigger run in ``position`` order.

    Conditions and actions are JSON in the shape routing.rules.validation checks on every save:
    ``condition_groups`` is ``[[{"field", "operator", "value"}, ...], ...]``, ``actions`` is
    ``[{"type", "value"}, ...]``, ``trigger_options`` holds ``minutes``, ``status`` or ``fields``.
    """

    name = models.CharField(max_length=120)
    note = models.TextField(blank=True)
    active = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)
    trigger = models.CharField(max_length=20, choices=RuleTrigger.choices)
    trigger_options = models.JSONField(default=dict, blank=True)
    condition_groups = models.JSONField(default=list, blank=True)
    actions = models.JSONField(default=list)
    stop_processing = models.BooleanField(default=False, help_text="Later rules do not run after this one fires.")
    # Why the rule was switched off by the system (a department, agent or template it names was deleted).
    warning = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["tenant", "trigger", "active", "position"], name="rule_trigger_idx")]

    def __str__(self) -> str:
        return self.name


class RuleChange(TenantOwnedModel):
    """Who changed which rule, and how: created, changed (with before/after), moved, switched, deleted."""

    rule = models.ForeignKey(Rule, null=True, blank=True, on_delete=models.SET_NULL, related_name="changes")
    rule_name = models.CharField(max_length=120)
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=20)
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["tenant", "-created_at"], name="rule_change_idx")]


class ParkedRuleRun(TenantOwnedModel):
    """A rule that kept failing on a ticket after its retries: kept with the error for an admin to see, while
    the other rules and tickets went on."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="parked_runs")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    trigger = models.CharField(max_length=20, choices=RuleTrigger.choices)
    error = models.TextField()
    attempts = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["tenant", "rule", "-created_at"], name="parked_rule_run_idx")]


class RuleTimeFiring(TenantOwnedModel):
    """A time rule fired for a ticket in one condition episode (e.g. unassigned since 10:02): it fires again
    only when a new episode starts."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    episode_start = models.DateTimeField()
    fired_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "rule", "ticket", "episode_start"], name="rule_firing_once"),
        ]
