"""Reads of rules for the settings page and the API (admins only: callers check)."""

from __future__ import annotations

from django.db.models import Count, Max, QuerySet

from helpdesk.errors import NotFound
from helpdesk.principals import Actor
from routing.models import ParkedRuleRun, Rule, RuleChange


def rule_list(*, actor: Actor) -> QuerySet[Rule]:
    return Rule.objects.order_by("position", "id")


def rule_list_with_parked(*, actor: Actor) -> QuerySet[Rule]:
    """Rules in order with how many runs are parked and when the last was."""
    return rule_list(actor=actor).annotate(parked_count=Count("parked_runs"),
                                           parked_last=Max("parked_runs__created_at"))


def rule_get(*, actor: Actor, rule_id: int) -> Rule:
    rule = Rule.objects.filter(pk=rule_id).first()
    if rule is None:
        raise NotFound("No such rule.")
    return rule


def rule_change_list(*, actor: Actor) -> QuerySet[RuleChange]:
    return RuleChange.objects.order_by("-created_at", "-id")


def parked_run_list(*, actor: Actor, limit: int = 20) -> list[ParkedRuleRun]:
    return list(ParkedRuleRun.objects.select_related("rule", "ticket").order_by("-created_at", "-id")[:limit])
