"""What the API shows of tickets, their conversation and system log, and what it accepts for them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.urls import NoReverseMatch, reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from departments.api.serializers import AgentRefSerializer, DepartmentRefSerializer
from departments.models import AgentProfile, Department
from helpdesk.api.serializers import StrictInputSerializer, TenantObjectField
from tickets.models import (
    PRIORITY_BY_NAME,
    PRIORITY_NAMES,
    ActorType,
    Attachment,
    Category,
    Channel,
    EventKind,
    MessageKind,
    Status,
    Ticket,
)
from tickets.selectors import ticket_row_of


class PriorityField(serializers.ChoiceField):
    """A priority by name (low, medium, high, urgent); services take its number."""

    def __init__(self, **kwargs: Any):
        super().__init__(choices=list(PRIORITY_BY_NAME), **kwargs)

    def to_internal_value(self, data: Any) -> int:
        return PRIORITY_BY_NAME[super().to_internal_value(data)]

    def to_representation(self, value: int) -> str:
        return PRIORITY_NAMES[value]


# --- tickets ----------------------------------------------------------------------------------------------

class ContactSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.EmailField()
    phone = serializers.CharField()
    location = serializers.CharField()
    visitor_id = serializers.CharField(help_text="Tells apart customers who left no name.")


class CategoryRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class SlaTargetSerializer(serializers.Serializer):
    due_at = serializers.DateTimeField(allow_null=True, help_text="Due time of the current episode.")
    breached_at = serializers.DateTimeField(allow_null=True, help_text="When it was breached; null: in time or met.")


class TicketSlaSerializer(serializers.Serializer):
    policy_id = serializers.IntegerField(source="sla_policy_id")
    due_at = serializers.DateTimeField(source="sla_due_at", allow_null=True,
                                       help_text="The earliest due time of a running target; null while paused.")
    paused = serializers.SerializerMethodField(help_text="Waiting on the customer or postponed.")
    breached = serializers.SerializerMethodField(help_text="A target of the current episodes was breached.")
    first_response = serializers.SerializerMethodField()
    next_response = serializers.SerializerMethodField()
    resolution = serializers.SerializerMethodField()

    def get_paused(self, ticket: Ticket) -> bool:
        return ticket.sla_paused_since is not None

    def get_breached(self, ticket: Ticket) -> bool:
        return any(getattr(ticket, f"{t}_breached_at") for t in ("first_response", "next_response", "resolution"))

    def _target(self, ticket: Ticket, target: str) -> dict[str, Any]:
        return {"due_at": _iso(getattr(ticket, f"{target}_due_at")),
                "breached_at": _iso(getattr(ticket, f"{target}_breached_at"))}

    @extend_schema_field(SlaTargetSerializer)
    def get_first_response(self, ticket: Ticket) -> dict[str, Any]:
        return self._target(ticket, "first_response")

    @extend_schema_field(SlaTargetSerializer)
    def get_next_response(self, ticket: Ticket) -> dict[str, Any]:
        return self._target(ticket, "next_response")

    @extend_schema_field(SlaTargetSerializer)
    def get_resolution(self, ticket: Ticket) -> dict[str, Any]:
        return self._target(ticket, "resolution")


_datetime = serializers.DateTimeField().to_representation  # the API's format and time zone, per call


def _iso(value: Any) -> str | None:
    return _datetime(value) if value else None


class TicketSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField(help_text="Short public code customers and agents quote.")
    subject = serializers.CharField()
    channel = serializers.ChoiceField(choices=Channel.choices)
    status = serializers.ChoiceField(choices=Status.choices)
    postponed_until = serializers.DateTimeField(allow_null=True)
    priority = PriorityField()
    department = DepartmentRefSerializer(allow_null=True)
    assignee = AgentRefSerializer(allow_null=True)
    contact = ContactSerializer()
    tags = serializers.SerializerMethodField(help_text="Tag names, in alphabetical order.")
    category = CategoryRefSerializer(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    first_response_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    sla = serializers.SerializerMethodField(help_text="The ticket's SLA policy, due times and breaches.")

    def get_tags(self, ticket: Ticket) -> list[str]:
        # Sorted here as well as in the selector's prefetch: a ticket just written has no prefetch.
        return sorted(tag.name for tag in ticket.tags.all())

    @extend_schema_field(TicketSlaSerializer(allow_null=True))
    def get_sla(self, ticket: Ticket) -> dict[str, Any] | None:
        # From the ticket's own columns only, so a page of tickets costs no query more.
        if ticket.sla_policy_id is None:
            return None
        return TicketSlaSerializer(ticket).data

    def to_representation(self, ticket: Ticket) -> dict[str, Any]:
        # The declared fields above are the contract (schema, field types); this writes the same output
        # directly, because walking ~40 nested fields per ticket was most of a list page's time.
        # tests/api/test_tickets_api.py compares it with the declared fields' own output.
        return ticket_data(ticket)


def ticket_data(ticket: Ticket) -> dict[str, Any]:
    """A ticket as TicketSerializer shows it."""
    return ticket_row_data(ticket_row_of(ticket), sorted(tag.name for tag in ticket.tags.all()))


def ticket_row_data(row: Mapping[str, Any], tags: list[str]) -> dict[str, Any]:
    """A ticket read as a row (tickets.selectors.TICKET_ROW_FIELDS) with its tag names, as TicketSerializer
    shows it."""
    if row["sla_policy_id"] is None:
        sla = None
    else:
        first = row["first_response_breached_at"]
        following = row["next_response_breached_at"]
        resolution = row["resolution_breached_at"]
        sla = {
            "policy_id": row["sla_policy_id"],
            "due_at": _iso(row["sla_due_at"]),
            "paused": row["sla_paused_since"] is not None,
            "breached": bool(first or following or resolution),
            "first_response": {"due_at": _iso(row["first_response_due_at"]), "breached_at": _iso(first)},
            "next_response": {"due_at": _iso(row["next_response_due_at"]), "breached_at": _iso(following)},
            "resolution": {"due_at": _iso(row["resolution_due_at"]), "breached_at": _iso(resolution)},
        }
    department_id, assignee_id, category_id = row["department_id"], row["assignee_id"], row["category_id"]
    return {
        "id": row["id"],
        "code": row["code"],
        "subject": row["subject"],
        "channel": row["channel"],
        "status": row["status"],
        "postponed_until": _iso(row["postponed_until"]),
        "priority": PRIORITY_NAMES[row["priority"]],
        "department": None if department_id is None else {"id": department_id, "name": row["department__name"]},
        "assignee": None if assignee_id is None else {
            "id": assignee_id, "display_name": row["assignee__display_name"]},
        "contact": {
            "id": row["contact_id"], "name": row["contact__name"], "email": row["contact__email"],
            "phone": row["contact__phone"], "location": row["contact__location"],
            "visitor_id": row["contact__visitor_id"],
        },
        "tags": tags,
        "category": None if category_id is None else {"id": category_id, "name": row["category__name"]},
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
        "first_response_at": _iso(row["first_response_at"]),
        "resolved_at": _iso(row["resolved_at"]),
        "sla": sla,
    }


class ContactInputSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="",
                                   help_text="A returning customer is recognised by email, or else by phone.")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    location = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class TicketCreateSerializer(StrictInputSerializer):
    subject = serializers.CharField(max_length=250)
    body = serializers.CharField(trim_whitespace=False, help_text="The customer's first message.")
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.API)
    priority = PriorityField(required=False, help_text="Medium when not given.")
    department = TenantObjectField(model=Department, noun="department", required=False, allow_null=True,
                                   help_text="Department id.")
    assignee = TenantObjectField(model=AgentProfile, noun="agent", required=False, allow_null=True,
                                 help_text="Agent id.")
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False,
                                 help_text="Tag names; new ones are created.")
    category = TenantObjectField(model=Category, noun="category", required=False, allow_null=True,
                                 help_text="Category id.")
    contact = ContactInputSerializer(help_text="The customer: at least one of name, email or phone.")


class TicketUpdateSerializer(StrictInputSerializer):
    """A PATCH changes only the fields it sends; each change is written to the ticket's system log."""

    subject = serializers.CharField(max_length=250)
    status = serializers.ChoiceField(choices=Status.choices)
    postponed_until = serializers.DateTimeField(allow_null=True,
                                                help_text="Required with status `postponed`; in the future.")
    priority = PriorityField()
    department = TenantObjectField(model=Department, noun="department", allow_null=True,
                                   help_text="Department id; changing it transfers the ticket.")
    assignee = TenantObjectField(model=AgentProfile, noun="agent", allow_null=True, help_text="Agent id.")
    tags = serializers.ListField(child=serializers.CharField(max_length=50),
                                 help_text="Tag names; they replace the ticket's tags.")
    category = TenantObjectField(model=Category, noun="category", allow_null=True, help_text="Category id.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Without the status, a date alone would be accepted and silently have no effect.
        if attrs.get("postponed_until") is not None and attrs.get("status") != Status.POSTPONED:
            raise serializers.ValidationError(
                {"postponed_until": ["Only with status `postponed`: send both together."]}
            )
        return attrs


# --- the conversation -------------------------------------------------------------------------------------

class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    filename = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField(help_text="Bytes.")
    download_url = serializers.SerializerMethodField()

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True,
                          "description": "Where a signed-in agent downloads the file; null where not served."})
    def get_download_url(self, attachment: Attachment) -> str | None:
        try:
            path = reverse("attachment-download", kwargs={"attachment_id": attachment.pk})
        except NoReverseMatch:
            return None
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class MessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=MessageKind.choices)
    body = serializers.CharField()
    author_label = serializers.CharField(help_text="Who wrote it, as shown in the conversation.")
    author_agent = AgentRefSerializer(allow_null=True)
    created_at = serializers.DateTimeField()
    attachments = AttachmentSerializer(many=True)


class MessageCreateSerializer(StrictInputSerializer):
    kind = serializers.ChoiceField(
        choices=MessageKind.choices,
        help_text="`reply` (to the customer) or `note` (agents only). An admin key may also add a `customer` "
        "message, e.g. from an email integration.",
    )
    body = serializers.CharField(trim_whitespace=False)
    attachments = serializers.ListField(child=serializers.FileField(), required=False,
                                        help_text="Files, in a multipart/form-data request.")


# --- the system log ---------------------------------------------------------------------------------------

class TicketEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=EventKind.choices)
    actor_type = serializers.ChoiceField(choices=ActorType.choices)
    actor_id = serializers.IntegerField(allow_null=True, help_text="Agent, API key or contact id, by actor_type.")
    actor_label = serializers.CharField()
    department_id_at_event = serializers.IntegerField(allow_null=True)
    assignee_id_at_event = serializers.IntegerField(allow_null=True)
    channel = serializers.ChoiceField(choices=Channel.choices)
    data = serializers.DictField(help_text="What changed: {field: [before, after]}, or details of the event.")
    created_at = serializers.DateTimeField()
