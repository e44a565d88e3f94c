"""A rule's definition checked field by field, before anything is saved. Pure: references to departments,
agents, categories, templates and SLA levels are checked against the database by the rules services.

Errors are keyed like the API's field errors: ``condition_groups[0][1].value``, ``actions[2].type``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from routing.models import RuleTrigger
from routing.rules import integrations
from routing.rules.conditions import pattern_problem
from routing.rules.fields import FIELDS, LISTED, MATCHES, OPERATOR_LABELS, VALUELESS, WATCHABLE
from tickets.models import PRIORITY_BY_NAME, Status

MAX_GROUPS = 10
MAX_CONDITIONS = 20
MAX_ACTIONS = 20
MAX_LIST = 50
MAX_TEXT_VALUE = 500
MAX_MINUTES = 60 * 24 * 60  # 60 days

TIME_TRIGGERS = frozenset({
    RuleTrigger.TIME_IN_STATUS, RuleTrigger.TIME_UNANSWERED, RuleTrigger.TIME_UNASSIGNED,
    RuleTrigger.SLA_DUE_SOON, RuleTrigger.SLA_BREACHED,
})
SLA_TRIGGERS = frozenset({RuleTrigger.SLA_DUE_SOON, RuleTrigger.SLA_BREACHED})
# Statuses a rule may set directly; postponing needs a time (its own action).
SETTABLE_STATUSES = tuple(s for s in Status.values if s != Status.POSTPONED)


@dataclass(frozen=True)
class ActionSpec:
    label: str
    # none | department | agent | category | priority | status | tags | minutes | text | template | sla
    value: str


ACTIONS: dict[str, ActionSpec] = {
    "transfer": ActionSpec("Transfer to department", "department"),
    "assign": ActionSpec("Assign to agent", "agent"),
    "unassign": ActionSpec("Unassign (leave to routing)", "none"),
    "set_priority": ActionSpec("Set priority", "priority"),
    "set_status": ActionSpec("Set status", "status"),
    "add_tags": ActionSpec("Add tags", "tags"),
    "remove_tags": ActionSpec("Remove tags", "tags"),
    "set_category": ActionSpec("Set category", "category"),
    "mark_spam": ActionSpec("Mark as spam", "none"),
    "resolve": ActionSpec("Resolve", "none"),
    "postpone": ActionSpec("Postpone for (minutes)", "minutes"),
    "add_note": ActionSpec("Add an internal note", "text"),
    "send_auto_reply": ActionSpec("Send an auto-reply from a template", "template"),
    "apply_sla": ActionSpec("Apply an SLA level", "sla"),
}
REFERENCE_KINDS = ("department", "agent", "category", "template", "sla")


@dataclass
class CleanRule:
    name: str
    note: str
    trigger: str
    trigger_options: dict[str, Any]
    condition_groups: list[list[dict[str, Any]]]
    actions: list[dict[str, Any]]
    stop_processing: bool
    active: bool
    errors: dict[str, list[str]] = field(default_factory=dict)

    def references(self) -> dict[str, set[int]]:
        """Ids this rule names, by kind (department, agent, category, template, sla)."""
        return rule_references(self.condition_groups, self.actions)


def rule_references(groups: list[list[dict[str, Any]]], actions: list[dict[str, Any]]) -> dict[str, set[int]]:
    found: dict[str, set[int]] = {kind: set() for kind in REFERENCE_KINDS}
    for group in groups:
        for condition in group:
            spec = FIELDS.get(condition.get("field"))
            value = condition.get("value")
            if spec is not None and spec.kind == "ref" and value is not None:
                found[spec.ref].update(v for v in (value if isinstance(value, list) else [value]) if isinstance(v, int))
    for action in actions:
        spec = ACTIONS.get(action.get("type"))
        if spec is not None and spec.value in REFERENCE_KINDS and isinstance(action.get("value"), int):
            found[spec.value].add(action["value"])
    return found


def _error(errors: dict[str, list[str]], key: str, message: str) -> None:
    errors.setdefault(key, []).append(message)


def _id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    return value if isinstance(value, int) and 0 < value < 2**63 else None


def _minutes(value: Any) -> int | None:
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_MINUTES:
        return None
    return value


def trigger_clean(trigger: Any, options: Any, errors: dict[str, list[str]]) -> dict[str, Any]:
    if trigger not in RuleTrigger.values:
        _error(errors, "trigger", f"Choose one of {', '.join(RuleTrigger.values)}.")
        return {}
    if options in (None, ""):
        options = {}
    if not isinstance(options, dict):
        _error(errors, "trigger_options", "Give the trigger's options as an object.")
        return {}
    clean: dict[str, Any] = {}
    allowed: set[str] = set()
    if trigger == RuleTrigger.TICKET_UPDATED:
        allowed = {"fields"}
        fields = options.get("fields") or []
        if not isinstance(fields, list) or any(f not in WATCHABLE for f in fields):
            _error(errors, "trigger_options.fields", f"Choose among {', '.join(WATCHABLE)} (none: any change).")
        else:
            clean["fields"] = sorted(set(fields))
    if trigger in TIME_TRIGGERS:
        allowed = {"minutes", "status"} if trigger == RuleTrigger.TIME_IN_STATUS else {"minutes"}
        minutes = _minutes(options.get("minutes"))
        if trigger == RuleTrigger.SLA_BREACHED and options.get("minutes") in (None, "", 0):
            minutes = 0  # at the breach itself
        if minutes is None:
            _error(errors, "trigger_options.minutes", f"A whole number of minutes from 1 to {MAX_MINUTES}.")
        else:
            clean["minutes"] = minutes
    if trigger == RuleTrigger.TIME_IN_STATUS:
        if options.get("status") not in Status.values:
            _error(errors, "trigger_options.status", f"Choose one of {', '.join(Status.values)}.")
        else:
            clean["status"] = options["status"]
    if trigger in SLA_TRIGGERS and not integrations.available("sla_apply"):
        _error(errors, "trigger", "SLA levels are not set up in this help desk yet.")
    for unknown in sorted(set(options) - allowed):
        _error(errors, f"trigger_options.{unknown}", "Unknown option for this trigger.")
    return clean


def _condition_value(spec, operator: str, value: Any, key: str, errors: dict[str, list[str]]) -> Any:
    """The stored form of a condition's value, or an error at ``key``."""
    if operator in VALUELESS:
        return None
    if operator in LISTED:
        items = value if isinstance(value, list) else [v.strip() for v in value.split(",")] if isinstance(
            value, str) else None
        if not items or len(items) > MAX_LIST:
            _error(errors, key, f"Give a list of 1 to {MAX_LIST} values.")
            return None
        cleaned = [_single_value(spec, operator, item, key, errors) for item in items]
        return None if any(v is None for v in cleaned) else cleaned
    return _single_value(spec, operator, value, key, errors)


def _single_value(spec, operator: str, value: Any, key: str, errors: dict[str, list[str]]) -> Any:
    kind = spec.kind
    if kind in ("text", "tags"):
        if not isinstance(value, str) or not value.strip():
            _error(errors, key, "Give a value.")
            return None
        if len(value) > MAX_TEXT_VALUE:
            _error(errors, key, f"At most {MAX_TEXT_VALUE} characters.")
            return None
        if operator == MATCHES:
            problem = pattern_problem(value)
            if problem:
                _error(errors, key, problem)
                return None
            return value
        return value.strip().lower() if kind == "tags" else value.strip()
    if kind == "choice":
        valid = [c for c, _ in spec.choices]
        if value not in valid:
            _error(errors, key, f"Choose one of {', '.join(valid)}.")
            return None
        return value
    if kind == "priority":
        if value not in PRIORITY_BY_NAME:
            _error(errors, key, f"Choose one of {', '.join(PRIORITY_BY_NAME)}.")
            return None
        return value
    if kind == "ref":
        pk = _id(value)
        if pk is None:
            _error(errors, key, f"Give the {spec.ref}'s id.")
        return pk
    if kind == "bool":
        if value in (True, "true", "yes"):
            return True
        if value in (False, "false", "no"):
            return False
        _error(errors, key, "Give true or false.")
        return None
    if kind == "datetime":
        try:
            moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            _error(errors, key, "Give a date and time with its offset, e.g. 2026-01-31T09:00:00+00:00.")
            return None
        return moment.isoformat()
    if kind == "time":
        try:
            if isinstance(value, str) and len(value) == 5:
                return time.fromisoformat(value).strftime("%H:%M")
        except ValueError:
            pass
        _error(errors, key, "Give a time of day as HH:MM.")
        return None
    raise AssertionError(kind)


def conditions_clean(groups: Any, errors: dict[str, list[str]]) -> list[list[dict[str, Any]]]:
    if groups in (None, ""):
        return []
    if not isinstance(groups, list) or len(groups) > MAX_GROUPS:
        _error(errors, "condition_groups", f"Give a list of at most {MAX_GROUPS} groups, each a list of conditions.")
        return []
    clean_groups = []
    for g, group in enumerate(groups):
        if not isinstance(group, list) or not group or len(group) > MAX_CONDITIONS:
            _error(errors, f"condition_groups[{g}]", f"A group holds 1 to {MAX_CONDITIONS} conditions.")
            continue
        clean_group = []
        for c, condition in enumerate(group):
            key = f"condition_groups[{g}][{c}]"
            if not isinstance(condition, dict):
                _error(errors, key, "Give the condition's field, operator and value.")
                continue
            unknown = sorted(set(condition) - {"field", "operator", "value"})
            for name in unknown:
                _error(errors, f"{key}.{name}", "Unknown field.")
            spec = FIELDS.get(condition.get("field"))
            if spec is None:
                _error(errors, f"{key}.field", f"Choose one of {', '.join(FIELDS)}.")
                continue
            operator = condition.get("operator")
            if operator not in spec.operators:
                labels = ", ".join(f"{o} ({OPERATOR_LABELS[o]})" for o in spec.operators)
                _error(errors, f"{key}.operator", f"{spec.label} takes: {labels}.")
                continue
            value = _condition_value(spec, operator, condition.get("value"), f"{key}.value", errors)
            if spec.name == "in_business_hours" and not integrations.available("business_hours_contains"):
                _error(errors, f"{key}.field", "Business hours are not set up in this help desk yet.")
            clean_group.append({"field": spec.name, "operator": operator, "value": value})
        clean_groups.append(clean_group)
    return clean_groups


def actions_clean(actions: Any, errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    if not isinstance(actions, list) or not actions:
        _error(errors, "actions", "Add at least one action.")
        return []
    if len(actions) > MAX_ACTIONS:
        _error(errors, "actions", f"At most {MAX_ACTIONS} actions.")
        return []
    clean = []
    for a, action in enumerate(actions):
        key = f"actions[{a}]"
        if not isinstance(action, dict):
            _error(errors, key, "Give the action's type and value.")
            continue
        for name in sorted(set(action) - {"type", "value"}):
            _error(errors, f"{key}.{name}", "Unknown field.")
        spec = ACTIONS.get(action.get("type"))
        if spec is None:
            _error(errors, f"{key}.type", f"Choose one of {', '.join(ACTIONS)}.")
            continue
        value = action.get("value")
        vkey = f"{key}.value"
        if spec.value == "none":
            value = None
        elif spec.value in ("department", "agent", "category", "template", "sla"):
            value = _id(value)
            if value is None:
                _error(errors, vkey, f"Choose the {spec.value if spec.value != 'sla' else 'SLA level'}.")
        elif spec.value == "priority":
            if value not in PRIORITY_BY_NAME:
                _error(errors, vkey, f"Choose one of {', '.join(PRIORITY_BY_NAME)}.")
        elif spec.value == "status":
            if value not in SETTABLE_STATUSES:
                _error(errors, vkey, f"Choose one of {', '.join(SETTABLE_STATUSES)} (postpone has its own action).")
        elif spec.value == "tags":
            names = value if isinstance(value, list) else [v for v in value.split(",")] if isinstance(
                value, str) else []
            names = sorted({n.strip().lower()[:50] for n in names if isinstance(n, str) and n.strip()})
            if not names or len(names) > MAX_LIST:
                _error(errors, vkey, "Give one or more tag names.")
            value = names
        elif spec.value == "minutes":
            value = _minutes(value)
            if value is None:
                _error(errors, vkey, f"A whole number of minutes from 1 to {MAX_MINUTES}.")
        elif spec.value == "text":
            if not isinstance(value, str) or not value.strip():
                _error(errors, vkey, "Write the note.")
            elif len(value) > 5000:
                _error(errors, vkey, "At most 5000 characters.")
            else:
                value = value.strip()
        if action["type"] == "send_auto_reply" and not integrations.available("template_send_auto_reply"):
            _error(errors, f"{key}.type", "Reply templates are not set up in this help desk yet.")
        if action["type"] == "apply_sla" and not integrations.available("sla_apply"):
            _error(errors, f"{key}.type", "SLA levels are not set up in this help desk yet.")
        clean.append({"type": action["type"], "value": value})
    return clean


def rule_clean(data: dict[str, Any]) -> CleanRule:
    """Check a whole definition; ``errors`` is empty when it may be saved (references still to be checked)."""
    errors: dict[str, list[str]] = {}
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        _error(errors, "name", "Give the rule a name.")
        name = ""
    elif len(name.strip()) > 120:
        _error(errors, "name", "At most 120 characters.")
    note = data.get("note") or ""
    if not isinstance(note, str) or len(note) > 2000:
        _error(errors, "note", "At most 2000 characters of text.")
        note = ""
    trigger = data.get("trigger")
    options = trigger_clean(trigger, data.get("trigger_options"), errors)
    groups = conditions_clean(data.get("condition_groups"), errors)
    actions = actions_clean(data.get("actions"), errors)
    return CleanRule(
        name=name.strip()[:120], note=note, trigger=trigger if trigger in RuleTrigger.values else "",
        trigger_options=options, condition_groups=groups, actions=actions,
        stop_processing=bool(data.get("stop_processing", False)), active=bool(data.get("active", False)),
        errors=errors,
    )
