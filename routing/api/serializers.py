"""What the API shows of calls, routing decisions, offers and routing settings, and what it accepts for them."""

from __future__ import annotations

from rest_framework import serializers

from departments.api.serializers import AgentRefSerializer, DepartmentRefSerializer
from departments.models import Department
from helpdesk.api.serializers import StrictInputSerializer, TenantObjectField
from routing.calls import MAX_DURATION_SECONDS, CallEvent
from routing.models import Method, OfferState, OfflineChats, RoutingChannel
from tickets.models import CallState, Status


class TicketRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField(help_text="Short public code customers and agents quote.")


# --- calls ------------------------------------------------------------------------------------------------

class CallSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    ticket = TicketRefSerializer(help_text="The call's ticket (channel `call`).")
    caller_number = serializers.CharField()
    line = serializers.CharField()
    state = serializers.ChoiceField(choices=CallState.choices)
    agent = AgentRefSerializer(allow_null=True, help_text="Who talked to the caller, once answered.")
    started_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    duration_seconds = serializers.IntegerField(allow_null=True)


class CallCreateSerializer(StrictInputSerializer):
    caller_number = serializers.CharField(max_length=40, help_text="The caller's number; a returning caller is "
                                          "recognised by it.")
    line = serializers.CharField(max_length=60, required=False, allow_blank=True, default="",
                                 help_text="The number or name of the line that was called.")
    department = TenantObjectField(model=Department, noun="department", required=False, allow_null=True,
                                   help_text="Department id the line belongs to.")


class CallEventSerializer(StrictInputSerializer):
    event = serializers.ChoiceField(
        choices=list(CallEvent.values),
        help_text="`answered` or `missed` while ringing; `ended` once answered.",
    )
    duration_seconds = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=MAX_DURATION_SECONDS,
        help_text="Required with `ended`: how long the conversation lasted.",
    )


# --- decisions --------------------------------------------------------------------------------------------

class CandidateSerializer(serializers.Serializer):
    agent_id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.CharField(help_text="The agent's presence when the decision was made.")
    load = serializers.IntegerField(help_text="Running items plus ringing offers of this channel.")
    max_load = serializers.IntegerField(allow_null=True, help_text="Null where the channel has no limit.")
    priority = serializers.IntegerField(help_text="1 is the highest, 100 the lowest.")
    last_assigned_at = serializers.DateTimeField(allow_null=True)
    result = serializers.ChoiceField(choices=["offered", "lost"])
    reason = serializers.CharField(help_text="Why the candidate lost; empty for those offered the item.")


class DecisionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    ticket = TicketRefSerializer()
    channel = serializers.ChoiceField(choices=RoutingChannel.choices)
    method = serializers.ChoiceField(choices=Method.choices)
    department_id = serializers.IntegerField(source="department_id_at_decision", allow_null=True,
                                             help_text="The ticket's department when the decision was made.")
    outcome = serializers.CharField()
    winner_ids = serializers.ListField(child=serializers.IntegerField(), help_text="Agents who were offered it.")
    candidates = CandidateSerializer(many=True, help_text="Every agent considered, winners and losers.")
    created_at = serializers.DateTimeField()


# --- offers -----------------------------------------------------------------------------------------------

class OfferTicketSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    subject = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    customer = serializers.CharField(source="contact.display_name")
    department = DepartmentRefSerializer(allow_null=True)


class OfferSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=OfferState.choices)
    channel = serializers.ChoiceField(source="item.channel", choices=RoutingChannel.choices)
    ticket = OfferTicketSerializer(source="item.ticket")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(help_text="When the offer rings out and moves on.")


# --- settings ---------------------------------------------------------------------------------------------

class RoutingSettingsSerializer(serializers.Serializer):
    chat_method = serializers.ChoiceField(choices=Method.choices)
    call_method = serializers.ChoiceField(choices=Method.choices)
    ticket_method = serializers.ChoiceField(choices=Method.choices)
    ring_seconds = serializers.IntegerField(help_text="How long an offer rings before it moves on.")
    offline_grace_seconds = serializers.IntegerField()
    offline_chats = serializers.ChoiceField(choices=OfflineChats.choices,
                                            help_text="What happens to an agent's running chats when they go "
                                            "offline.")
    prefer_last_agent = serializers.BooleanField(help_text="Offer a returning customer to their last agent "
                                                 "when that agent is free.")
    auto_assign_tickets = serializers.BooleanField(help_text="Route tickets of other channels too, instead of "
                                                   "leaving them in To solve.")
    updated_at = serializers.DateTimeField()


class RoutingSettingsUpdateSerializer(StrictInputSerializer):
    """A PATCH changes only the fields it sends; every change is recorded with who made it."""

    chat_method = serializers.ChoiceField(choices=Method.choices)
    call_method = serializers.ChoiceField(choices=Method.choices)
    ticket_method = serializers.ChoiceField(choices=Method.choices)
    ring_seconds = serializers.IntegerField(min_value=5, max_value=600)
    offline_grace_seconds = serializers.IntegerField(min_value=0, max_value=3600)
    offline_chats = serializers.ChoiceField(choices=OfflineChats.choices)
    prefer_last_agent = serializers.BooleanField()
    auto_assign_tickets = serializers.BooleanField()


class SettingsChangeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    actor_label = serializers.CharField(help_text="Who made the change.")
    subject = serializers.CharField(help_text="`Routing settings`, or `Agent <name>` for an agent's values.")
    changes = serializers.DictField(help_text="{field: [before, after]}")
    created_at = serializers.DateTimeField()
