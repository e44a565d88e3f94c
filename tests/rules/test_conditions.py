"""Condition evaluation is pure: groups are alternatives, conditions in a group all hold, operators fit
their fields, and patterns that could run forever are refused before they are saved."""

from __future__ import annotations

from datetime import UTC, datetime, time

from hypothesis import given
from hypothesis import strategies as st

from routing.rules.conditions import TicketFacts, condition_matches, groups_match, pattern_problem
from routing.rules.validation import rule_clean
from tests.rules.helpers import act, cond


def facts(**overrides) -> TicketFacts:
    values = {
        "channel": "twitter", "subject": "Refund for order 42", "body": "I want my money back",
        "customer_email": "ann@example.com", "customer_name": "Ann Lee", "department": 7, "priority": 2,
        "status": "new", "tags": frozenset({"vip"}), "assignee": None, "category": None,
        "created_at": datetime(2026, 3, 1, 9, 30, tzinfo=UTC), "created_time": time(9, 30),
    }
    values.update(overrides)
    return TicketFacts(**values)


def test_channel_in_list_matches_either_source():
    twitter_or_facebook = cond("channel", "in", ["twitter", "facebook"])
    assert condition_matches(twitter_or_facebook, facts(channel="facebook"))
    assert not condition_matches(twitter_or_facebook, facts(channel="email"))


def test_text_operators_ignore_case():
    assert condition_matches(cond("subject", "contains", "REFUND"), facts())
    assert condition_matches(cond("subject", "starts_with", "refund for"), facts())
    assert not condition_matches(cond("subject", "starts_with", "order"), facts())
    assert condition_matches(cond("customer_domain", "is", "EXAMPLE.com"), facts())
    assert condition_matches(cond("body", "matches", r"money\s+back"), facts())


def test_empty_operators_and_references():
    assert condition_matches(cond("assignee", "is_empty"), facts())
    assert not condition_matches(cond("assignee", "is_empty"), facts(assignee=3))
    assert condition_matches(cond("department", "is_not", 8), facts())
    assert condition_matches(cond("tags", "is_empty"), facts(tags=frozenset()))


def test_priority_compares_by_rank():
    assert condition_matches(cond("priority", "gt", "low"), facts(priority=2))
    assert not condition_matches(cond("priority", "gt", "medium"), facts(priority=2))
    assert condition_matches(cond("priority", "in", ["medium", "urgent"]), facts(priority=2))


def test_created_time_of_day():
    assert condition_matches(cond("created_time", "lt", "10:00"), facts())
    assert not condition_matches(cond("created_time", "gt", "10:00"), facts())


def test_unknown_business_hours_never_match():
    assert not condition_matches(cond("in_business_hours", "is", True), facts(in_business_hours=None))
    assert condition_matches(cond("in_business_hours", "is", False), facts(in_business_hours=False))


def test_groups_are_or_of_ands():
    twitter_vip = [cond("channel", "is", "twitter"), cond("tags", "contains", "vip")]
    email = [cond("channel", "is", "email")]
    assert groups_match([twitter_vip, email], facts())
    assert not groups_match([twitter_vip, email], facts(tags=frozenset()))
    assert groups_match([twitter_vip, email], facts(channel="email", tags=frozenset()))
    assert groups_match([], facts())


@given(st.text(max_size=30), st.text(min_size=1, max_size=5))
def test_does_not_contain_is_the_opposite_of_contains(subject, needle):
    f = facts(subject=subject)
    assert condition_matches(cond("subject", "contains", needle), f) != condition_matches(
        cond("subject", "not_contains", needle), f)


@given(st.sampled_from(["email", "chat", "twitter", "facebook", "api"]),
       st.lists(st.sampled_from(["email", "chat", "twitter", "facebook", "api"]), min_size=1))
def test_in_and_not_in_partition_every_channel(channel, chosen):
    f = facts(channel=channel)
    assert condition_matches(cond("channel", "in", chosen), f) == (channel in chosen)
    assert condition_matches(cond("channel", "not_in", chosen), f) == (channel not in chosen)


conditions = st.sampled_from([
    cond("channel", "is", "twitter"), cond("channel", "is", "email"), cond("tags", "contains", "vip"),
    cond("priority", "gt", "low"), cond("status", "in", ["new", "open"]), cond("subject", "contains", "refund"),
])


@given(st.lists(st.lists(conditions, min_size=1, max_size=4), max_size=4),
       st.sampled_from(["twitter", "email"]), st.booleans(), st.integers(1, 4))
def test_groups_match_any_group_whose_conditions_all_hold(groups, channel, vip, priority):
    f = facts(channel=channel, tags=frozenset({"vip"} if vip else set()), priority=priority)
    expected = not groups or any(all(condition_matches(c, f) for c in g) for g in groups)
    assert groups_match(groups, f) == expected


def test_catastrophic_and_invalid_patterns_are_refused():
    for pattern in ["(a+)+$", "(x|xx)*y", "((ab)*)+", "(a?)*", r"(\w+)\1", "x" * 201, "("]:
        assert pattern_problem(pattern), pattern
    for pattern in [r"^re:\s", r"order \d{3,}", "(refund|money back)", "[a-z]+@example\\.com"]:
        assert pattern_problem(pattern) is None, pattern


def test_operator_that_does_not_fit_the_field_is_a_field_error():
    clean = rule_clean({
        "name": "Bad", "trigger": "ticket_created", "actions": [act("resolve")],
        "condition_groups": [[cond("priority", "contains", "high"), cond("subject", "matches", "(a+)+")],
                             [cond("colour", "is", "red"), cond("channel", "is", "pigeon")]],
    })
    assert set(clean.errors) == {
        "condition_groups[0][0].operator", "condition_groups[0][1].value", "condition_groups[1][0].field",
        "condition_groups[1][1].value",
    }
    assert "Priority takes" in clean.errors["condition_groups[0][0].operator"][0]


def test_actions_and_trigger_options_are_checked():
    clean = rule_clean({
        "name": "", "trigger": "time_in_status", "trigger_options": {"minutes": 0, "colour": 1},
        "actions": [act("set_status", "postponed"), act("assign", "bob"), act("fly")],
    })
    assert set(clean.errors) == {
        "name", "trigger_options.minutes", "trigger_options.status", "trigger_options.colour",
        "actions[0].value", "actions[1].value", "actions[2].type",
    }
