"""What the API shows of automation rules and dry runs, and what it accepts for them.

Conditions and actions are checked by routing.rules.validation, which knows which operators and values fit
each field; its messages come back keyed like ``condition_groups[0][1].value``.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from helpdesk.api.serializers import StrictInputSerializer
from routing.models import RuleTrigger
from routing.rules.fields import FIELDS, OPERATOR_LABELS
from routing.rules.validation import ACTIONS

_CONDITION_DOC = (
    "Alternatives: the rule applies when all conditions of any one group hold. A condition is "
    '`{"field", "operator", "value"}`; fields: ' + ", ".join(f"`{name}`" for name in FIELDS)
    + "; operators: " + ", ".join(f"`{op}` ({label})" for op, label in OPERATOR_LABELS.items())
    + ". Departments, agents and categories by id, priorities by name, lists for `in`/`not_in`."
)
_ACTION_DOC = (
    'Applied in order, in one transaction. An action is `{"type", "value"}`; types: '
    + ", ".join(f"`{name}` ({spec.label.lower()})" for name, spec in ACTIONS.items()) + "."
)
_TRIGGER_OPTIONS_DOC = (
    "`ticket_updated`: `fields` (the fields watched; none: any). Time triggers: `minutes`; "
    "`time_in_status` also `status`."
)


class ConditionSerializer(serializers.Serializer):
    field = serializers.ChoiceField(choices=list(FIELDS))
    operator = serializers.ChoiceField(choices=list(OPERATOR_LABELS))
    value = serializers.JSONField(allow_null=True, help_text="A string, number, boolean or list, as fits.")


class ActionSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=list(ACTIONS))
    value = serializers.JSONField(allow_null=True)


@extend_schema_field({"type": "array", "items": {"type": "array", "items": {
    "type": "object", "properties": {"field": {"type": "string", "enum": list(FIELDS)},
                                     "operator": {"type": "string", "enum": list(OPERATOR_LABELS)},
                                     "value": {}}, "required": ["field", "operator"]}}})
class ConditionGroupsField(serializers.JSONField):
    pass


@extend_schema_field({"type": "array", "items": {
    "type": "object", "properties": {"type": {"type": "string", "enum": list(ACTIONS)}, "value": {}},
    "required": ["type"]}})
class ActionsField(serializers.JSONField):
    pass


class RuleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    note = serializers.CharField()
    active = serializers.BooleanField()
    position = serializers.IntegerField(help_text="Rules run in this order (1 first).")
    trigger = serializers.ChoiceField(choices=RuleTrigger.choices)
    trigger_options = serializers.DictField(help_text=_TRIGGER_OPTIONS_DOC)
    condition_groups = serializers.ListField(child=serializers.ListField(child=ConditionSerializer()),
                                             help_text=_CONDITION_DOC)
    actions = ActionSerializer(many=True, help_text=_ACTION_DOC)
    stop_processing = serializers.BooleanField(help_text="Later rules do not run after this one fires.")
    warning = serializers.CharField(help_text="Why the system switched the rule off (a department, agent or "
                                    "template it names was deleted); empty otherwise.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class RuleInputSerializer(StrictInputSerializer):
    """A POST gives the whole rule; a PATCH only what changes (the rule is checked again as a whole)."""

    name = serializers.CharField(max_length=120)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    active = serializers.BooleanField(required=False)
    trigger = serializers.ChoiceField(choices=RuleTrigger.choices)
    trigger_options = serializers.JSONField(required=False, help_text=_TRIGGER_OPTIONS_DOC)
    condition_groups = ConditionGroupsField(required=False, help_text=_CONDITION_DOC)
    actions = ActionsField(help_text=_ACTION_DOC)
    stop_processing = serializers.BooleanField(required=False)


class RuleMoveSerializer(StrictInputSerializer):
    direction = serializers.ChoiceField(choices=["up", "down"])


class DryRunRangeSerializer(StrictInputSerializer):
    start = serializers.DateTimeField(help_text="Tickets created from this moment...")
    end = serializers.DateTimeField(help_text="...until this one (at most a year later).")


class DryRunUnsavedSerializer(DryRunRangeSerializer):
    rule = RuleInputSerializer(help_text="The rule to try, as it would be created; nothing is saved.")


class DryRunTicketSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    subject = serializers.CharField()
    created_at = serializers.DateTimeField()
    changes = serializers.DictField(help_text="{field: [now, after the rule]}")
    also = serializers.ListField(child=serializers.CharField(), help_text="What else it would do (notes, "
                                 "auto-replies, SLA levels).")


class DryRunSerializer(serializers.Serializer):
    matched = serializers.IntegerField(help_text="Tickets of the range the rule matches (as they are now).")
    complete = serializers.BooleanField(help_text="False when conditions only Python can decide were checked on "
                                        "the newest tickets only: `matched` is then a lower bound.")
    scanned = serializers.IntegerField()
    tickets = DryRunTicketSerializer(many=True, help_text="The newest matches, at most 50.")


class RuleChangeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    rule_id = serializers.IntegerField(allow_null=True)
    rule_name = serializers.CharField()
    actor_label = serializers.CharField(help_text="Who made the change (`System` for rules switched off).")
    action = serializers.CharField()
    changes = serializers.DictField()
    created_at = serializers.DateTimeField()
