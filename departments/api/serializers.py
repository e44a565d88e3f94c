"""What the API shows of departments and agents, and what it accepts for them."""

from __future__ import annotations

from rest_framework import serializers

from departments.models import AgentProfile, AgentStatus, SlaPolicy
from helpdesk.api.serializers import StrictInputSerializer, TenantObjectField, TenantObjectListField
from helpdesk.models import Role


class AgentRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()


class DepartmentRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


# --- departments ------------------------------------------------------------------------------------------

class DepartmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    to_solve_enabled = serializers.BooleanField(
        help_text="Unassigned tickets of the department wait in the To solve queue."
    )
    leader = AgentRefSerializer(allow_null=True)
    support_email = serializers.EmailField()
    signature = serializers.CharField()
    members = AgentRefSerializer(many=True)
    sla_policy = serializers.IntegerField(source="sla_policy_id", allow_null=True,
                                          help_text="SLA policy id of the department's tickets.")
    created_at = serializers.DateTimeField()


class DepartmentCreateSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True)
    to_solve_enabled = serializers.BooleanField(required=False)
    leader = TenantObjectField(model=AgentProfile, noun="agent", required=False, allow_null=True,
                               help_text="Agent id.")
    support_email = serializers.EmailField(required=False, allow_blank=True)
    signature = serializers.CharField(required=False, allow_blank=True)
    members = TenantObjectListField(model=AgentProfile, noun="agent", required=False,
                                    help_text="Agent ids; they become exactly the department's members.")
    sla_policy = TenantObjectField(model=SlaPolicy, noun="SLA policy", required=False, allow_null=True,
                                   help_text="SLA policy id for the department's tickets.")


class DepartmentUpdateSerializer(DepartmentCreateSerializer):
    """The same fields; a PATCH changes only those it sends."""


# --- agents -----------------------------------------------------------------------------------------------

class AgentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()
    email = serializers.EmailField(source="user.email")
    role = serializers.ChoiceField(choices=Role.choices, source="membership.role")
    status = serializers.ChoiceField(choices=AgentStatus.choices)
    status_changed_at = serializers.DateTimeField()
    chat_priority = serializers.IntegerField(help_text="1 is the highest priority, 100 the lowest.")
    max_chats = serializers.IntegerField()
    call_priority = serializers.IntegerField(help_text="1 is the highest priority, 100 the lowest.")
    max_calls = serializers.IntegerField()
    takes_tickets = serializers.BooleanField()
    takes_chats = serializers.BooleanField()
    takes_calls = serializers.BooleanField()
    departments = DepartmentRefSerializer(many=True)


class AgentProfileInputSerializer(StrictInputSerializer):
    display_name = serializers.CharField(max_length=120)
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    status = serializers.ChoiceField(choices=AgentStatus.choices, required=False)
    chat_priority = serializers.IntegerField(min_value=1, max_value=100, required=False)
    max_chats = serializers.IntegerField(min_value=0, max_value=50, required=False)
    call_priority = serializers.IntegerField(min_value=1, max_value=100, required=False)
    max_calls = serializers.IntegerField(min_value=0, max_value=10, required=False)
    takes_tickets = serializers.BooleanField(required=False)
    takes_chats = serializers.BooleanField(required=False)
    takes_calls = serializers.BooleanField(required=False)


class AgentCreateSerializer(AgentProfileInputSerializer):
    """Adds a person as an agent, creating their login if the email is new to the help desk."""

    email = serializers.EmailField()


class AgentUpdateSerializer(AgentProfileInputSerializer):
    """A PATCH changes only the fields it sends. An agent may change their own status; the rest is for admins."""
