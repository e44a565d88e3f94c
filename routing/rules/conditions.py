"""Pure evaluation of condition groups over a ticket's facts: no database, no clock.

Groups are alternatives (any group matches), the conditions of a group all have to hold. A rule without groups
matches every ticket of its trigger. Text compares without regard to case.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from functools import lru_cache
from typing import Any

from routing.rules.fields import (
    CONTAINS,
    GREATER,
    IN,
    IS,
    IS_EMPTY,
    IS_NOT,
    IS_NOT_EMPTY,
    LESS,
    MATCHES,
    NOT_CONTAINS,
    NOT_IN,
    PRIORITY_VALUES,
    STARTS_WITH,
)

MAX_PATTERN_LENGTH = 200
# A pattern is matched against at most this much text: even a pattern that passes the guard stays bounded.
MAX_MATCHED_TEXT = 20_000


@dataclass(frozen=True)
class TicketFacts:
    """What conditions can see of a ticket at one moment. Ids for departments, agents and categories."""

    channel: str
    subject: str
    body: str
    customer_email: str
    customer_name: str
    department: int | None
    priority: int
    status: str
    tags: frozenset[str] = field(default_factory=frozenset)
    assignee: int | None = None
    category: int | None = None
    # None: not known (asked only when a condition needs it).
    in_business_hours: bool | None = None
    created_at: datetime | None = None
    # Time of day of created_at in the tenant's zone.
    created_time: time | None = None

    @property
    def customer_domain(self) -> str:
        return self.customer_email.rpartition("@")[2] if "@" in self.customer_email else ""


# --- the guard on patterns ----------------------------------------------------------------------------------

def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` is refused, or None. Python's ``re`` has no time limit, so patterns that can backtrack
    exponentially (a repeated group that itself repeats or alternates, like ``(a+)+`` or ``(a|aa)*``) and
    backreferences are refused at save time, and the text a pattern sees is bounded."""
    if not pattern:
        return "Give a pattern."
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"At most {MAX_PATTERN_LENGTH} characters."
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"Not a valid pattern: {exc}."
    if re.search(r"\\[1-9]|\(\?P=", pattern):
        return "Backreferences are not allowed."
    # Walk the groups: a group that contains a repetition or an alternation must not itself be repeated.
    stack: list[bool] = []
    risky_closed = escaped = in_class = False
    previous = ""
    for char in pattern:
        if escaped:
            escaped = risky_closed = False
            previous = "x"
            continue
        if char == "\\":
            escaped = True
            continue
        if in_class:
            in_class = char != "]"
            previous = "x"
            continue
        if char in "*+{" and risky_closed:
            return "A repeated group may not itself contain a repetition or alternative (it can run forever)."
        if char == "(":
            stack.append(False)
        elif char == ")":
            inner = stack.pop() if stack else False
            if stack and inner:
                stack[-1] = True
            risky_closed = inner
            previous = char
            continue
        elif char == "[":
            in_class = True
        # "?" right after "(" opens a special group; anywhere else it repeats (0 or 1 times).
        elif stack and (char in "*+{|" or (char == "?" and previous != "(")):
            stack[-1] = True
        risky_closed = False
        previous = char
    return None


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# --- evaluation -------------------------------------------------------------------------------------------

def _text(value: Any) -> str:
    return (value or "").casefold()


def _text_matches(operator: str, actual: str, value: Any) -> bool:
    actual_folded = _text(actual)
    if operator == IS:
        return actual_folded == _text(value)
    if operator == IS_NOT:
        return actual_folded != _text(value)
    if operator == CONTAINS:
        return _text(value) in actual_folded
    if operator == NOT_CONTAINS:
        return _text(value) not in actual_folded
    if operator == STARTS_WITH:
        return actual_folded.startswith(_text(value))
    if operator == MATCHES:
        return _compiled(value).search((actual or "")[:MAX_MATCHED_TEXT]) is not None
    if operator == IN:
        return actual_folded in {_text(v) for v in value}
    if operator == NOT_IN:
        return actual_folded not in {_text(v) for v in value}
    if operator == IS_EMPTY:
        return not actual
    if operator == IS_NOT_EMPTY:
        return bool(actual)
    raise ValueError(f"Operator {operator} does not apply to text.")


def _plain_matches(operator: str, actual: Any, value: Any) -> bool:
    """Choices, ids, priorities (numbers), booleans and moments."""
    if operator == IS:
        return actual == value
    if operator == IS_NOT:
        return actual != value
    if operator == IN:
        return actual in value
    if operator == NOT_IN:
        return actual not in value
    if operator == IS_EMPTY:
        return actual is None
    if operator == IS_NOT_EMPTY:
        return actual is not None
    if operator == GREATER:
        return actual is not None and actual > value
    if operator == LESS:
        return actual is not None and actual < value
    raise ValueError(f"Operator {operator} does not apply here.")


def _tags_match(operator: str, tags: frozenset[str], value: Any) -> bool:
    if operator == CONTAINS:
        return _text(value) in tags
    if operator == NOT_CONTAINS:
        return _text(value) not in tags
    if operator == IN:
        return bool(tags & {_text(v) for v in value})
    if operator == NOT_IN:
        return not tags & {_text(v) for v in value}
    if operator == IS_EMPTY:
        return not tags
    if operator == IS_NOT_EMPTY:
        return bool(tags)
    raise ValueError(f"Operator {operator} does not apply to tags.")


TEXT_FIELDS = frozenset({"subject", "body", "customer_email", "customer_domain", "customer_name"})


def condition_matches(condition: dict[str, Any], facts: TicketFacts) -> bool:
    """One cleaned condition (see validation.condition_clean) against the facts."""
    name, operator, value = condition["field"], condition["operator"], condition.get("value")
    actual = getattr(facts, name)
    if name in TEXT_FIELDS:
        return _text_matches(operator, actual, value)
    if name == "tags":
        return _tags_match(operator, actual, value)
    if name == "in_business_hours" and actual is None:
        return False
    if name == "priority":
        value = [PRIORITY_VALUES[v] for v in value] if isinstance(value, list) else PRIORITY_VALUES.get(value)
    if name in ("created_at", "created_time"):
        value = _moment(name, value)
        if operator in (IN, NOT_IN):
            raise ValueError("Moments are compared with greater or less than.")
    return _plain_matches(operator, actual, value)


def _moment(name: str, value: Any) -> Any:
    if name == "created_at" and isinstance(value, str):
        return datetime.fromisoformat(value)
    if name == "created_time" and isinstance(value, str):
        return time.fromisoformat(value)
    return value


def groups_match(groups: Sequence[Sequence[dict[str, Any]]], facts: TicketFacts) -> bool:
    if not groups:
        return True
    return any(all(condition_matches(c, facts) for c in group) for group in groups)


def needed_facts(groups: Sequence[Sequence[dict[str, Any]]]) -> frozenset[str]:
    """The fields the groups look at: facts that cost a query (the body, business hours) are read only then."""
    return frozenset(c["field"] for group in groups for c in group)
