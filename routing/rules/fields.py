"""What a rule's conditions may look at, and the operators and values that fit each field. Pure data."""

from __future__ import annotations

from dataclasses import dataclass

from tickets.models import PRIORITY_BY_NAME, Channel, Status

IS, IS_NOT, IN, NOT_IN = "is", "is_not", "in", "not_in"
CONTAINS, NOT_CONTAINS, STARTS_WITH, MATCHES = "contains", "not_contains", "starts_with", "matches"
GREATER, LESS, IS_EMPTY, IS_NOT_EMPTY = "gt", "lt", "is_empty", "is_not_empty"

OPERATOR_LABELS = {
    IS: "is", IS_NOT: "is not", IN: "is one of", NOT_IN: "is none of", CONTAINS: "contains",
    NOT_CONTAINS: "does not contain", STARTS_WITH: "starts with", MATCHES: "matches pattern",
    GREATER: "is after / greater than", LESS: "is before / less than", IS_EMPTY: "is empty",
    IS_NOT_EMPTY: "is not empty",
}
# Operators that take no value.
VALUELESS = frozenset({IS_EMPTY, IS_NOT_EMPTY})
# Operators whose value is a list.
LISTED = frozenset({IN, NOT_IN})

TEXT_OPERATORS = (IS, IS_NOT, CONTAINS, NOT_CONTAINS, STARTS_WITH, MATCHES, IN, NOT_IN, IS_EMPTY, IS_NOT_EMPTY)
CHOICE_OPERATORS = (IS, IS_NOT, IN, NOT_IN)
REF_OPERATORS = (IS, IS_NOT, IN, NOT_IN, IS_EMPTY, IS_NOT_EMPTY)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    # choice | text | ref | priority | tags | bool | datetime | time
    kind: str
    operators: tuple[str, ...]
    choices: tuple[tuple[str, str], ...] = ()
    # For kind "ref": what the id names (department, agent, category).
    ref: str = ""


PRIORITY_VALUES = dict(PRIORITY_BY_NAME)
PRIORITY_CHOICES = tuple((name, name.capitalize()) for name in PRIORITY_BY_NAME)

FIELDS: dict[str, FieldSpec] = {f.name: f for f in (
    FieldSpec("channel", "Channel (source)", "choice", CHOICE_OPERATORS, tuple(Channel.choices)),
    FieldSpec("subject", "Subject", "text", TEXT_OPERATORS),
    FieldSpec("body", "Customer's message", "text", TEXT_OPERATORS),
    FieldSpec("customer_email", "Customer email", "text", TEXT_OPERATORS),
    FieldSpec("customer_domain", "Customer email domain", "text", TEXT_OPERATORS),
    FieldSpec("customer_name", "Customer name", "text", TEXT_OPERATORS),
    FieldSpec("department", "Department", "ref", REF_OPERATORS, ref="department"),
    FieldSpec("priority", "Priority", "priority", (IS, IS_NOT, IN, NOT_IN, GREATER, LESS), PRIORITY_CHOICES),
    FieldSpec("status", "Status", "choice", CHOICE_OPERATORS, tuple(Status.choices)),
    FieldSpec("tags", "Tags", "tags", (CONTAINS, NOT_CONTAINS, IN, NOT_IN, IS_EMPTY, IS_NOT_EMPTY)),
    FieldSpec("assignee", "Assignee", "ref", REF_OPERATORS, ref="agent"),
    FieldSpec("category", "Category", "ref", REF_OPERATORS, ref="category"),
    FieldSpec("in_business_hours", "Inside business hours", "bool", (IS,)),
    FieldSpec("created_at", "Created (date and time)", "datetime", (GREATER, LESS)),
    FieldSpec("created_time", "Created (time of day)", "time", (GREATER, LESS)),
)}

# Fields a "ticket updated" trigger may watch.
WATCHABLE = ("status", "priority", "department", "assignee", "category", "tags", "subject")
