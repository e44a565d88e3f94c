"""Tickets, the customers who raise them, their conversation and their append-only system log.

Chats and calls are tickets of channel ``chat`` and ``call``; what is particular to them lives beside the
ticket, so one inbox, one log and one report cover every channel.
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from helpdesk.tenancy import TenantOwnedModel


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    CHAT = "chat", "Chat"
    CALL = "call", "Call"
    CONTACT_FORM = "contact_form", "Contact form"
    API = "api", "API"
    FACEBOOK = "facebook", "Facebook"
    TWITTER = "twitter", "Twitter"
    INSTAGRAM = "instagram", "Instagram"
    VIBER = "viber", "Viber"
    WHATSAPP = "whatsapp", "WhatsApp"
    TELEGRAM = "telegram", "Telegram"
    WEB = "web", "Created by an agent"


class Status(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    ANSWERED = "answered", "Answered"
    POSTPONED = "postponed", "Postponed"
    RESOLVED = "resolved", "Resolved"
    SPAM = "spam", "Spam"


# Statuses in which a ticket still waits for work.
ACTIVE_STATUSES = (Status.NEW, Status.OPEN, Status.ANSWERED)


class Priority(models.IntegerChoices):
    LOW = 1, "Low"
    MEDIUM = 2, "Medium"
    HIGH = 3, "High"
    URGENT = 4, "Urgent"


PRIORITY_NAMES = {p.value: p.name.lower() for p in Priority}
PRIORITY_BY_NAME = {name: value for value, name in PRIORITY_NAMES.items()}


class Contact(TenantOwnedModel):
    """A customer. Recognised again by email or phone, so their tickets form a history."""

    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    location = models.CharField(max_length=200, blank=True)
    # Given to contacts who leave no name, so agents can still tell them apart.
    visitor_id = models.CharField(max_length=16)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # On the plain column, not lower(email): under row-level security only leakproof functions may be
            # index conditions, and lower() is not, so an expression index would never be used by the app.
            models.UniqueConstraint(
                fields=["tenant", "email"], condition=~models.Q(email=""), name="contact_email_unique_per_tenant"
            ),
            models.CheckConstraint(condition=models.Q(email=Lower("email")), name="contact_email_lowercase"),
            models.UniqueConstraint(fields=["tenant", "visitor_id"], name="contact_visitor_unique_per_tenant"),
        ]
        indexes = [models.Index(fields=["tenant", "phone"], name="contact_phone_idx")]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or self.email or self.phone or self.visitor_id


class Tag(TenantOwnedModel):
    name = models.CharField(max_length=50)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="tag_name_unique_per_tenant")]

    def __str__(self) -> str:
        return self.name


class Category(TenantOwnedModel):
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="category_name_unique_per_tenant")
        ]

    def __str__(self) -> str:
        return self.name


class Ticket(TenantOwnedModel):
    code = models.CharField(max_length=12, help_text="Short public code customers and agents quote.")
    subject = models.CharField(max_length=250)
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.EMAIL)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW)
    postponed_until = models.DateTimeField(null=True, blank=True)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.MEDIUM)
    department = models.ForeignKey(
        "departments.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    assignee = models.ForeignKey(
        "departments.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="tickets")
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    tags = models.ManyToManyField(Tag, through="TicketTag", related_name="tickets")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # SLA, kept current by tickets.sla. Each target has the due time of its current episode (None: no target
    # or not running), when it was breached (None: met or still in time) and when "due soon" was announced.
    # Met or breached stays readable after the work is done, for reports.
    sla_policy = models.ForeignKey(
        "departments.SlaPolicy", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    first_response_due_soon_at = models.DateTimeField(null=True, blank=True)
    first_response_breached_at = models.DateTimeField(null=True, blank=True)
    next_response_due_at = models.DateTimeField(null=True, blank=True)
    next_response_due_soon_at = models.DateTimeField(null=True, blank=True)
    next_response_breached_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_soon_at = models.DateTimeField(null=True, blank=True)
    resolution_breached_at = models.DateTimeField(null=True, blank=True)
    # Clocks stop while the ticket waits on the customer (answered) or is postponed.
    sla_paused_since = models.DateTimeField(null=True, blank=True)
    sla_paused_seconds = models.PositiveIntegerField(default=0, help_text="Business seconds spent paused.")
    # The earliest due time of a running target: what the inbox sorts by.
    sla_due_at = models.DateTimeField(null=True, blank=True)
    # When the SLA sweep must next look at this ticket (a due-soon or breach moment); None: nothing to watch.
    sla_check_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="ticket_code_unique_per_tenant")]
        # Every inbox view and API filter walks one of these in (created_at, id) order, so any page, however
        # deep, is an index range scan.
        indexes = [
            models.Index(fields=["tenant", "-created_at", "-id"], name="ticket_created_idx"),
            models.Index(fields=["tenant", "department", "-created_at", "-id"], name="ticket_department_idx"),
            models.Index(fields=["tenant", "assignee", "-created_at", "-id"], name="ticket_assignee_idx"),
            models.Index(fields=["tenant", "status", "-created_at", "-id"], name="ticket_status_idx"),
            models.Index(fields=["tenant", "-updated_at", "-id"], name="ticket_updated_idx"),
            models.Index(fields=["tenant", "contact", "-created_at", "-id"], name="ticket_contact_idx"),
            # The inbox's "SLA due" order; tickets without a running target sort last.
            models.Index(fields=["tenant", "sla_due_at", "id"], name="ticket_sla_due_idx"),
            # The SLA sweep reads only tickets with something to announce.
            models.Index(
                fields=["tenant", "sla_check_at"], name="ticket_sla_check_idx",
                condition=models.Q(sla_check_at__isnull=False),
            ),
            # An agent's running work (routing's load count) without reading their whole history.
            models.Index(
                fields=["tenant", "assignee", "channel"], name="ticket_active_load_idx",
                condition=models.Q(status__in=["new", "open", "answered"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.subject}"

    @property
    def priority_name(self) -> str:
        return PRIORITY_NAMES[self.priority]


class TicketTag(TenantOwnedModel):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="ticket_tags")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="ticket_tags")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "ticket", "tag"], name="ticket_tag_unique")]
        indexes = [models.Index(fields=["tenant", "tag", "ticket"], name="ticket_tag_tag_idx")]


class MessageKind(models.TextChoices):
    CUSTOMER = "customer", "Customer message"
    REPLY = "reply", "Agent reply"
    NOTE = "note", "Internal note"


class Message(TenantOwnedModel):
    """One entry of a ticket's conversation. Notes are visible to agents only."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=12, choices=MessageKind.choices)
    author_agent = models.ForeignKey(
        "departments.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_label = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["tenant", "ticket", "created_at", "id"], name="message_ticket_idx")]


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{instance.tenant_id}/{timezone.now():%Y/%m}/{filename}"


class Attachment(TenantOwnedModel):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=300)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["tenant", "message"], name="attachment_message_idx")]


class EventKind(models.TextChoices):
    CREATED = "created", "Created"
    CUSTOMER_MESSAGE = "customer_message", "Customer message"
    AGENT_REPLY = "agent_reply", "Agent reply"
    NOTE_ADDED = "note_added", "Internal note"
    ASSIGNED = "assigned", "Assigned"
    TRANSFERRED = "transferred", "Transferred"
    STATUS_CHANGED = "status_changed", "Status changed"
    PRIORITY_CHANGED = "priority_changed", "Priority changed"
    POSTPONED = "postponed", "Postponed"
    TAGS_CHANGED = "tags_changed", "Tags changed"
    CATEGORY_CHANGED = "category_changed", "Category changed"
    SUBJECT_CHANGED = "subject_changed", "Subject changed"
    ROUTED = "routed", "Routing decision"
    OFFER_DECLINED = "offer_declined", "Offer declined"
    OFFER_MISSED = "offer_missed", "Offer missed"
    OFFER_WITHDRAWN = "offer_withdrawn", "Offer withdrawn"
    CALL_ANSWERED = "call_answered", "Call answered"
    CALL_ENDED = "call_ended", "Call ended"
    CALL_MISSED = "call_missed", "Call missed"
    CHAT_STARTED = "chat_started", "Chat started"
    CHAT_ENDED = "chat_ended", "Chat ended"
    CHAT_TRANSFERRED = "chat_transferred", "Chat transferred"
    VISITOR_LEFT = "visitor_left", "Visitor left"
    VISITOR_RETURNED = "visitor_returned", "Visitor returned"
    SLA_APPLIED = "sla_applied", "SLA applied"
    SLA_DUE_SOON = "sla_due_soon", "SLA due soon"
    SLA_BREACHED = "sla_breached", "SLA breached"
    AUTO_REPLY_SENT = "auto_reply_sent", "Automatic email"
    EMAIL_FAILED = "email_failed", "Email not delivered"
    RULE_APPLIED = "rule_applied", "Rule applied"


class ActorType(models.TextChoices):
    AGENT = "agent", "Agent"
    API = "api", "API key"
    CUSTOMER = "customer", "Customer"
    SYSTEM = "system", "System"


class TicketEvent(TenantOwnedModel):
    """An entry of a ticket's system log. Append-only: a database trigger refuses UPDATE and DELETE.

    The department and assignee at the time of the event are kept as plain ids rather than foreign keys, so
    deleting a department or agent never has to touch (and could never change) the log; reports read them.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=24, choices=EventKind.choices)
    actor_type = models.CharField(max_length=12, choices=ActorType.choices)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=200, blank=True)
    department_id_at_event = models.BigIntegerField(null=True, blank=True)
    assignee_id_at_event = models.BigIntegerField(null=True, blank=True)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    # {"field": [before, after], ...} for changes; details for other kinds.
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "ticket", "id"], name="event_ticket_idx"),
            models.Index(fields=["tenant", "created_at", "id"], name="event_created_idx"),
        ]


class CallState(models.TextChoices):
    RINGING = "ringing", "Ringing"
    ANSWERED = "answered", "Answered"
    ENDED = "ended", "Ended"
    MISSED = "missed", "Missed"


class CallRecord(TenantOwnedModel):
    """A phone call, as reported by the telephony provider; its ticket (channel ``call``) holds the rest."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="calls")
    caller_number = models.CharField(max_length=40)
    line = models.CharField(max_length=60, blank=True)
    state = models.CharField(max_length=10, choices=CallState.choices, default=CallState.RINGING)
    agent = models.ForeignKey(
        "departments.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "ticket"], name="call_ticket_idx")]


class EmailStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class OutgoingEmail(TenantOwnedModel):
    """One email to a customer, written in the transaction that decided to send it and sent after commit by
    a task (tickets.tasks.email_send), which retries and finally records a failure on the ticket's log."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="emails")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # A departments.models.TemplateKind value: what made us write.
    kind = models.CharField(max_length=20)
    from_email = models.CharField(max_length=254)
    to_email = models.EmailField()
    subject = models.CharField(max_length=250)
    body = models.TextField()
    status = models.CharField(max_length=8, choices=EmailStatus.choices, default=EmailStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "ticket", "id"], name="outgoing_email_ticket_idx")]
