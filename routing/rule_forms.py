"""The rule builder's form. It parses input (the builder's script sends conditions and actions as JSON);
routing.rules.services decides what a valid rule is."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from routing.models import Rule, RuleTrigger
from routing.rules.fields import WATCHABLE
from tickets.models import Status


class RuleForm(forms.Form):
    # Lenient here: the rules services check every field, so a page shows all of a rule's problems at once.
    name = forms.CharField(label="Name", required=False)
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}),
                           help_text="For the other admins: why this rule exists.")
    trigger = forms.ChoiceField(label="When", choices=RuleTrigger.choices)
    watched_fields = forms.MultipleChoiceField(
        label="Changed fields", required=False, choices=[(f, f.capitalize()) for f in WATCHABLE],
        widget=forms.CheckboxSelectMultiple, help_text="For “Ticket updated”: none ticked means any change.",
    )
    minutes = forms.IntegerField(label="After (minutes)", required=False,
                                 help_text="For the time-based triggers.")
    status = forms.ChoiceField(label="Status", required=False, choices=[("", "—"), *Status.choices],
                               help_text="For “In a status for a while”.")
    condition_groups = forms.CharField(label="Conditions (JSON)", required=False, widget=forms.Textarea(
        attrs={"rows": 4, "class": "rule-json", "data-builder": "conditions"}))
    actions = forms.CharField(label="Actions (JSON)", widget=forms.Textarea(
        attrs={"rows": 3, "class": "rule-json", "data-builder": "actions"}))
    stop_processing = forms.BooleanField(label="Stop processing further rules when this one fires", required=False)
    active = forms.BooleanField(label="Active", required=False)

    def _json(self, name: str, default: Any) -> Any:
        raw = (self.cleaned_data.get(name) or "").strip()
        if not raw:
            return default
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise forms.ValidationError({name: f"Not valid JSON: {exc}."}) from exc

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        cleaned["condition_groups_data"] = self._json("condition_groups", [])
        cleaned["actions_data"] = self._json("actions", [])
        return cleaned

    def definition(self) -> dict[str, Any]:
        data = self.cleaned_data
        trigger = data["trigger"]
        options: dict[str, Any] = {}
        if trigger == RuleTrigger.TICKET_UPDATED and data.get("watched_fields"):
            options["fields"] = data["watched_fields"]
        if trigger.startswith("time_") or trigger.startswith("sla_"):
            options["minutes"] = data.get("minutes")
        if trigger == RuleTrigger.TIME_IN_STATUS:
            options["status"] = data.get("status")
        return {
            "name": data.get("name", ""), "note": data.get("note", ""), "trigger": trigger, "trigger_options": options,
            "condition_groups": data["condition_groups_data"], "actions": data["actions_data"],
            "stop_processing": data.get("stop_processing", False), "active": data.get("active", False),
        }

    @classmethod
    def initial_for(cls, rule: Rule) -> dict[str, Any]:
        return {
            "name": rule.name, "note": rule.note, "trigger": rule.trigger,
            "watched_fields": rule.trigger_options.get("fields", []), "minutes": rule.trigger_options.get("minutes"),
            "status": rule.trigger_options.get("status", ""), "condition_groups": json.dumps(rule.condition_groups),
            "actions": json.dumps(rule.actions), "stop_processing": rule.stop_processing, "active": rule.active,
        }


# Service error keys (trigger_options.minutes) that belong to one of this form's fields.
ERROR_FIELDS = {"trigger_options.minutes": "minutes", "trigger_options.status": "status",
                "trigger_options.fields": "watched_fields"}
