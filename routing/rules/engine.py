"""Running a trigger's rules on one ticket, in order, the way a worker does after the triggering commit.

- Conditions of every candidate rule are evaluated on one read of the ticket; a rule that matches is applied
  in its own transaction, with the ticket locked and its conditions checked again on that locked state, so
  every firing is all-or-nothing and based on what it changes.
- A rule that raises is retried (the task is sent again for the rules not yet run, with back-off); after
  MAX_ATTEMPTS it is parked with its error and the rules after it go on.
- A rule naming a deleted department, agent, category, template or SLA level is switched off with a warning.
- Changes made by rules can trigger "ticket updated" (and message) rules: the follow-up run carries the chain
  of rules that already fired, none of which fires again in it, and chains stop at MAX_CHAIN_DEPTH.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count, Max

from helpdesk.models import Tenant
from helpdesk.tenancy import require_active_tenant, tenant_context
from routing.models import ParkedRuleRun, Rule, RuleTrigger
from routing.rules.actions import ReferenceMissing, rule_actions_apply
from routing.rules.conditions import groups_match, needed_facts
from routing.rules.facts import facts_read
from tickets.models import Ticket

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
MAX_CHAIN_DEPTH = 5
RETRY_BASE_SECONDS = 5
# Fields a "ticket updated" rule reacts to: the rest (updated_at, resolved_at) follow from these.
UPDATE_FIELDS = frozenset({"status", "priority", "department", "assignee", "category", "tags", "subject"})


@dataclass(frozen=True)
class Chain:
    """The rules that fired since a person's (or customer's) change, and how many rule runs deep we are."""

    rule_ids: tuple[int, ...] = ()
    depth: int = 0

    def as_list(self) -> list[int]:
        return [*self.rule_ids, self.depth]

    @classmethod
    def from_list(cls, value: Sequence[int] | None) -> Chain:
        if not value:
            return cls()
        return cls(rule_ids=tuple(value[:-1]), depth=value[-1])


@dataclass
class _Run:
    """What a rule's actions changed, reported by the hooks they fired, for one follow-up run."""

    changed: set[str] = field(default_factory=set)
    messages: set[str] = field(default_factory=set)


_running: ContextVar[_Run | None] = ContextVar("rules_running", default=None)


def current_run() -> _Run | None:
    """Set while a rule's actions run: hooks report to it instead of starting runs of their own."""
    return _running.get()


@dataclass
class RunResult:
    fired: list[int] = field(default_factory=list)
    parked: list[int] = field(default_factory=list)
    disabled: list[int] = field(default_factory=list)
    retry: dict[str, Any] | None = None


# Per process: (tenant, trigger) -> (version, rules). Reading 50 rules' JSON into models costs more than
# evaluating them; the version (count, last id, last change) is one small aggregate, and every write of a rule
# goes through routing.rules.services, which stamps updated_at.
_rules_cache: dict[tuple[int, str], tuple[tuple, list[Rule]]] = {}


def _active_rules(trigger: str) -> list[Rule]:
    active = Rule.objects.filter(trigger=trigger, active=True)
    version = tuple(active.aggregate(n=Count("id"), top=Max("id"), last=Max("updated_at")).values())
    key = (require_active_tenant().pk, trigger)
    cached = _rules_cache.get(key)
    if cached is not None and cached[0] == version:
        return cached[1]
    rules = list(active.order_by("position", "id"))
    _rules_cache[key] = (version, rules)
    return rules


def rules_for(*, trigger: str, changed: Sequence[str] = (), chain: Chain = Chain()) -> list[Rule]:
    """The active rules of a trigger, in order, without those already fired in this chain and, for updates,
    without those watching other fields."""
    rules = [r for r in _active_rules(trigger) if r.pk not in chain.rule_ids]
    if trigger == RuleTrigger.TICKET_UPDATED:
        changed_set = set(changed)
        rules = [r for r in rules
                 if not r.trigger_options.get("fields") or changed_set & set(r.trigger_options["fields"])]
    return rules


def rules_run(
    *, tenant: Tenant, ticket_id: int, trigger: str, changed: Sequence[str] = (), chain: Chain = Chain(),
    rule_ids: Sequence[int] | None = None, attempt: int = 1,
) -> RunResult:
    """Run the rules (all of the trigger's, or ``rule_ids`` in that order) on the ticket. Opens its own
    transactions: call it outside of one (a worker), or accept that they become savepoints."""
    result = RunResult()
    with tenant_context(tenant):
        if rule_ids is None:
            rules = rules_for(trigger=trigger, changed=changed, chain=chain)
        else:
            by_id = {r.pk: r for r in Rule.objects.filter(pk__in=rule_ids, active=True)}
            rules = [by_id[pk] for pk in rule_ids if pk in by_id and pk not in chain.rule_ids]
        if not rules:
            return result
        needed = frozenset().union(*(needed_facts(r.condition_groups) for r in rules))
        facts = facts_read(ticket_id, needed=needed)
    if facts is None:
        return result
    follow_up = _Run()
    for index, rule in enumerate(rules):
        if facts is None:
            with tenant_context(tenant):
                facts = facts_read(ticket_id, needed=needed)
            if facts is None:
                break
        if not groups_match(rule.condition_groups, facts):
            continue
        try:
            fired = _rule_fire(tenant=tenant, rule=rule, ticket_id=ticket_id, trigger=trigger, needed=needed,
                               report=follow_up)
        except ReferenceMissing as exc:
            from routing.rules.services import rule_switch_off

            with tenant_context(tenant):
                rule_switch_off(rule_id=rule.pk, warning=str(exc))
            result.disabled.append(rule.pk)
            continue
        except Exception as exc:  # noqa: BLE001 - any failure of one rule is retried, then parked
            if attempt < MAX_ATTEMPTS:
                logger.warning("Rule %s failed on ticket %s (attempt %s); retrying", rule.pk, ticket_id, attempt,
                               exc_info=True)
                result.retry = {"rule_ids": [r.pk for r in rules[index:]], "attempt": attempt + 1,
                                "countdown": RETRY_BASE_SECONDS * 2 ** (attempt - 1)}
                break
            logger.error("Rule %s failed on ticket %s %s times; parked", rule.pk, ticket_id, attempt, exc_info=True)
            with tenant_context(tenant):
                ParkedRuleRun.objects.create(rule_id=rule.pk, ticket_id=ticket_id, trigger=trigger,
                                             error=f"{type(exc).__name__}: {exc}"[:2000], attempts=attempt)
            result.parked.append(rule.pk)
            attempt = 1
            continue
        attempt = 1
        if not fired:
            continue
        result.fired.append(rule.pk)
        facts = None
        if rule.stop_processing:
            break
    if result.fired:
        _follow_up(tenant=tenant, ticket_id=ticket_id, chain=chain, fired=result.fired, run=follow_up)
    return result


def _rule_fire(*, tenant: Tenant, rule: Rule, ticket_id: int, trigger: str, needed: frozenset[str],
               report: _Run) -> bool:
    """One rule, in one transaction: lock the ticket, check the conditions again, apply the actions."""
    token = _running.set(report)
    try:
        with tenant_context(tenant):
            facts = facts_read(ticket_id, needed=needed, lock=True)
            if facts is None or not groups_match(rule.condition_groups, facts):
                return False
            ticket = Ticket.objects.select_related("contact", "department", "assignee", "category").get(
                pk=ticket_id)
            rule_actions_apply(rule=rule, ticket=ticket, trigger=trigger)
            return True
    finally:
        _running.reset(token)


def _follow_up(*, tenant: Tenant, ticket_id: int, chain: Chain, fired: list[int], run: _Run) -> None:
    """Rules' own changes are triggers too: one follow-up run per trigger, carrying the chain."""
    next_chain = Chain(rule_ids=(*chain.rule_ids, *fired), depth=chain.depth + 1)
    if next_chain.depth > MAX_CHAIN_DEPTH:
        logger.warning("Rule chain on ticket %s stopped at depth %s", ticket_id, MAX_CHAIN_DEPTH)
        return
    triggers: list[tuple[str, list[str]]] = []
    changed = sorted(run.changed & UPDATE_FIELDS)
    if changed:
        triggers.append((RuleTrigger.TICKET_UPDATED, changed))
    triggers.extend((trigger, []) for trigger in sorted(run.messages))
    if not triggers:
        return
    with tenant_context(tenant):
        for trigger, fields in triggers:
            if rules_for(trigger=trigger, changed=fields, chain=next_chain):
                enqueue(tenant_id=tenant.pk, ticket_id=ticket_id, trigger=trigger, changed=fields, chain=next_chain)


def enqueue(*, tenant_id: int, ticket_id: int, trigger: str, changed: Sequence[str] = (), chain: Chain = Chain(),
            route_after: bool = False, rule_ids: Sequence[int] | None = None) -> None:
    """Ask a worker to run the rules once the current transaction commits."""
    from routing.rules import tasks

    kwargs = {"tenant_id": tenant_id, "ticket_id": ticket_id, "trigger": trigger, "changed": list(changed),
              "chain": chain.as_list(), "route_after": route_after,
              "rule_ids": list(rule_ids) if rule_ids is not None else None}
    transaction.on_commit(lambda: tasks.run_rules.apply_async(kwargs=kwargs))
