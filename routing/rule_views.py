"""The rules settings pages: the rules in order (move, switch on and off), the builder, and the audit.
Views parse, call a selector or service, and render; the builder's dry run calls the API."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from departments.models import AgentProfile, Department
from helpdesk.errors import ApplicationError
from helpdesk.web import admin_required
from routing.models import Rule, RuleTrigger
from routing.rule_forms import ERROR_FIELDS, RuleForm
from routing.rules import integrations, selectors, services
from routing.rules.fields import FIELDS, OPERATOR_LABELS, VALUELESS
from routing.rules.validation import ACTIONS, SETTABLE_STATUSES
from tickets.models import PRIORITY_BY_NAME, Category, Channel, Status

CHANGES_SHOWN = 30


@require_http_methods(["GET"])
@admin_required
def rule_list(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    return render(request, "routing/rules.html", {
        "rules": list(selectors.rule_list_with_parked(actor=actor)),
        "parked": selectors.parked_run_list(actor=actor),
        "changes": list(selectors.rule_change_list(actor=actor)[:CHANGES_SHOWN]),
        "settings_section": "rules",
    })


def _builder_catalog() -> dict[str, Any]:
    """What the builder's script needs to offer inputs that fit each field and action."""
    references = {
        "department": list(Department.objects.order_by("name").values_list("pk", "name")),
        "agent": list(AgentProfile.objects.order_by("display_name").values_list("pk", "display_name")),
        "category": list(Category.objects.order_by("name").values_list("pk", "name")),
    }
    for kind in ("template", "sla"):
        model = integrations.model(kind)
        if model is not None:
            label = integrations.OPTIONAL_MODELS[kind][2]
            references[kind] = list(model.objects.order_by(label, "pk").values_list("pk", label))
    return {
        "fields": [{"name": f.name, "label": f.label, "kind": f.kind, "operators": list(f.operators),
                    "choices": [list(c) for c in f.choices], "ref": f.ref}
                   for f in FIELDS.values()
                   if f.name != "in_business_hours" or integrations.available("business_hours_contains")],
        "operators": OPERATOR_LABELS, "valueless": sorted(VALUELESS),
        "actions": [{"type": name, "label": spec.label, "value": spec.value} for name, spec in ACTIONS.items()
                    if (name != "send_auto_reply" or integrations.available("template_send_auto_reply"))
                    and (name != "apply_sla" or integrations.available("sla_apply"))],
        "references": references,
        "priorities": [[name, name.capitalize()] for name in PRIORITY_BY_NAME],
        "statuses": [[s, Status(s).label] for s in SETTABLE_STATUSES],
        "channels": [list(c) for c in Channel.choices],
    }


def _render_builder(request: HttpRequest, form: RuleForm, rule: Rule | None, errors: dict[str, list[str]],
                    status: int = 200) -> HttpResponse:
    return render(request, "routing/rule_edit.html", {
        "form": form, "rule": rule, "catalog": _builder_catalog(), "rule_errors": errors,
        "settings_section": "rules",
    }, status=status)


def _save(request: HttpRequest, rule: Rule | None) -> HttpResponse:
    form = RuleForm(request.POST)
    errors: dict[str, list[str]] = {}
    if form.is_valid():
        try:
            if rule is None:
                saved = services.rule_create(actor=request.actor, data=form.definition())
            else:
                saved = services.rule_update(actor=request.actor, rule=rule, data=form.definition())
        except ApplicationError as exc:
            errors = exc.fields
            form.add_error(None, exc.message)
            for key, field_messages in exc.fields.items():
                target = ERROR_FIELDS.get(key, key)
                if target in form.fields and target not in ("condition_groups", "actions"):
                    for message in field_messages:
                        form.add_error(target, message)
        else:
            messages.success(request, f"Rule “{saved.name}” saved.")
            return redirect("rule-list")
    return _render_builder(request, form, rule, errors, status=400)


@require_http_methods(["GET", "POST"])
@admin_required
def rule_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _save(request, None)
    form = RuleForm(initial={"trigger": RuleTrigger.TICKET_CREATED, "actions": "[]", "condition_groups": "[]"})
    return _render_builder(request, form, None, {})


@require_http_methods(["GET", "POST"])
@admin_required
def rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = selectors.rule_get(actor=request.actor, rule_id=rule_id)
    if request.method == "POST":
        return _save(request, rule)
    return _render_builder(request, RuleForm(initial=RuleForm.initial_for(rule)), rule, {})


@require_POST
@admin_required
def rule_move(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = selectors.rule_get(actor=request.actor, rule_id=rule_id)
    try:
        services.rule_move(actor=request.actor, rule=rule, direction=request.POST.get("direction", ""))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("rule-list")


@require_POST
@admin_required
def rule_switch(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = selectors.rule_get(actor=request.actor, rule_id=rule_id)
    active = request.POST.get("active") == "true"
    try:
        services.rule_update(actor=request.actor, rule=rule, data={"active": active})
    except ApplicationError as exc:
        # A rule switched off for a deleted department stays off until it names one that exists.
        problems = [m for messages_ in exc.fields.values() for m in messages_]
        messages.error(request, f"“{rule.name}” cannot be switched on: {' '.join(problems) or exc.message}")
    else:
        messages.success(request, f"“{rule.name}” switched {'on' if active else 'off'}.")
    return redirect("rule-list")


@require_POST
@admin_required
def rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = selectors.rule_get(actor=request.actor, rule_id=rule_id)
    services.rule_delete(actor=request.actor, rule=rule)
    messages.success(request, f"Rule “{rule.name}” deleted.")
    return redirect("rule-list")
