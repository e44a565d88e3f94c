"""Writes of rules: create, change, move, switch on and off, delete. Admins only; every change is recorded
with who made it (RuleChange), like the routing settings' audit."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from departments.models import AgentProfile, Department
from helpdesk.errors import ApplicationError, PermissionDenied
from helpdesk.principals import Actor
from helpdesk.tenancy import require_active_tenant
from routing.models import Rule, RuleChange
from routing.rules import integrations
from routing.rules.fields import FIELDS
from routing.rules.validation import ACTIONS, CleanRule, rule_clean, rule_references
from tickets.models import Category

DEFINITION_FIELDS = ("name", "note", "active", "trigger", "trigger_options", "condition_groups", "actions",
                     "stop_processing")
_REFERENCE_MODELS = {"department": Department, "agent": AgentProfile, "category": Category}


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied("Only admins change rules.")


def definition_of(rule: Rule) -> dict[str, Any]:
    return {name: getattr(rule, name) for name in DEFINITION_FIELDS}


def reference_models() -> dict[str, Any]:
    """What each kind of id a rule may name is, where this help desk has it."""
    found = dict(_REFERENCE_MODELS)
    for kind in ("template", "sla"):
        model = integrations.model(kind)
        if model is not None:
            found[kind] = model
    return found


def _reference_errors(clean: CleanRule) -> dict[str, list[str]]:
    """Field errors for departments, agents, categories, templates and SLA levels that are not (or no longer)
    the tenant's."""
    wanted = clean.references()
    models = reference_models()
    existing = {kind: set(model.objects.filter(pk__in=wanted[kind]).values_list("pk", flat=True))
                for kind, model in models.items() if wanted[kind]}
    errors: dict[str, list[str]] = {}
    for g, group in enumerate(clean.condition_groups):
        for c, condition in enumerate(group):
            spec = FIELDS[condition["field"]]
            value = condition["value"]
            if spec.kind != "ref" or value is None:
                continue
            missing = [v for v in (value if isinstance(value, list) else [value]) if v not in existing[spec.ref]]
            if missing:
                errors[f"condition_groups[{g}][{c}].value"] = [
                    f"No such {spec.ref}: {', '.join(str(m) for m in missing)}."]
    for a, action in enumerate(clean.actions):
        kind = ACTIONS[action["type"]].value
        if kind in models and action["value"] is not None and action["value"] not in existing[kind]:
            noun = {"sla": "SLA level", "template": "template"}.get(kind, kind)
            errors[f"actions[{a}].value"] = [f"No such {noun}: {action['value']}."]
    return errors


def rule_validate(data: dict[str, Any]) -> CleanRule:
    """The cleaned definition, or ApplicationError with a message per field."""
    clean = rule_clean(data)
    errors = dict(clean.errors)
    if not errors:
        errors.update(_reference_errors(clean))
    if errors:
        raise ApplicationError("The rule could not be saved.", fields=errors)
    return clean


def _record(*, actor_label: str, rule: Rule | None, name: str, action: str, changes: dict | None = None) -> None:
    RuleChange.objects.create(tenant=require_active_tenant(), rule=rule, rule_name=name, actor_label=actor_label,
                              action=action, changes=changes or {})


def rule_create(*, actor: Actor, data: dict[str, Any]) -> Rule:
    _require_admin(actor)
    clean = rule_validate(data)
    with transaction.atomic():
        last = Rule.objects.aggregate(last=Max("position"))["last"] or 0
        now = timezone.now()
        rule = Rule.objects.create(
            tenant=require_active_tenant(), position=last + 1, created_at=now, updated_at=now,
            **{name: getattr(clean, name) for name in DEFINITION_FIELDS},
        )
        _record(actor_label=actor.label, rule=rule, name=rule.name, action="created", changes=definition_of(rule))
    return rule


def rule_update(*, actor: Actor, rule: Rule, data: dict[str, Any]) -> Rule:
    """Change any of DEFINITION_FIELDS (the rest stay as they are); the whole rule is validated again, so a
    rule switched off for a deleted department is switched on only once it names one that exists."""
    _require_admin(actor)
    unknown = set(data) - set(DEFINITION_FIELDS)
    if unknown:
        raise ApplicationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        locked = Rule.objects.select_for_update().get(pk=rule.pk)
        before = definition_of(locked)
        clean = rule_validate({**before, **data})
        after = {name: getattr(clean, name) for name in DEFINITION_FIELDS}
        changes = {name: [before[name], after[name]] for name in DEFINITION_FIELDS if before[name] != after[name]}
        if not changes:
            return locked
        for name, value in after.items():
            setattr(locked, name, value)
        locked.warning = ""
        locked.updated_at = timezone.now()
        locked.save()
        action = "changed"
        if set(changes) == {"active"}:
            action = "switched on" if locked.active else "switched off"
        _record(actor_label=actor.label, rule=locked, name=locked.name, action=action, changes=changes)
    return locked


def rule_delete(*, actor: Actor, rule: Rule) -> None:
    _require_admin(actor)
    with transaction.atomic():
        _record(actor_label=actor.label, rule=None, name=rule.name, action="deleted",
                changes=definition_of(rule))
        Rule.objects.filter(pk=rule.pk).delete()


def rule_move(*, actor: Actor, rule: Rule, direction: str) -> Rule:
    """Swap the rule with the one above or below it in the order every trigger's rules run in."""
    _require_admin(actor)
    if direction not in ("up", "down"):
        raise ApplicationError("Move up or down.", fields={"direction": ["Choose up or down."]})
    with transaction.atomic():
        # All of the tenant's rules are locked, in id order, so two admins reordering at once cannot leave
        # two rules on the same position.
        rules = list(Rule.objects.select_for_update().order_by("id"))
        ordered = sorted(rules, key=lambda r: (r.position, r.pk))
        index = next(i for i, r in enumerate(ordered) if r.pk == rule.pk)
        other = index - 1 if direction == "up" else index + 1
        if not 0 <= other < len(ordered):
            return ordered[index]
        ordered[index], ordered[other] = ordered[other], ordered[index]
        now = timezone.now()
        for position, item in enumerate(ordered, start=1):
            if item.position != position:
                item.position = position
                Rule.objects.filter(pk=item.pk).update(position=position, updated_at=now)
        moved = ordered[other]
        _record(actor_label=actor.label, rule=moved, name=moved.name, action="moved",
                changes={"position": [index + 1, other + 1]})
    return moved


def rule_switch_off(*, rule_id: int, warning: str) -> None:
    """Switch a rule off by the system, with the reason shown on the rules page."""
    with transaction.atomic():
        rule = Rule.objects.select_for_update().filter(pk=rule_id).first()
        if rule is None or (not rule.active and rule.warning == warning):
            return
        was_active = rule.active
        rule.active = False
        rule.warning = warning[:300]
        rule.updated_at = timezone.now()
        rule.save(update_fields=["active", "warning", "updated_at"])
        _record(actor_label="System", rule=rule, name=rule.name, action="switched off",
                changes={"active": [was_active, False], "warning": warning[:300]})


def rules_switch_off_referencing(*, kind: str, pk: int, label: str) -> list[int]:
    """A department, agent, category, template or SLA level is being deleted: every rule naming it is switched
    off with a warning, instead of failing (or doing something else) when it next runs."""
    affected = [rule.pk for rule in Rule.objects.all() if pk in rule_references(rule.condition_groups,
                                                                                  rule.actions)[kind]]
    for rule_id in affected:
        noun = {"sla": "SLA level"}.get(kind, kind)
        rule_switch_off(rule_id=rule_id, warning=f"Switched off: the {noun} “{label}” it names was deleted.")
    return affected
