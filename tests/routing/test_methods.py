"""The routing methods are pure functions of the candidates: whatever the loads, priorities, statuses and
rotation, the choice obeys the method's definition, and every candidate who lost is told why."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.methods import base
from routing.methods.base import Candidate, ineligibility, least_recent_key, select
from routing.methods.registry import METHODS, method_get
from routing.models import Method

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
STATUSES = ["online", "online", "online", "away", "break", "offline"]


@st.composite
def candidate_lists(draw, min_size: int = 0, max_size: int = 8) -> list[Candidate]:
    ids = draw(st.lists(st.integers(1, 10_000), min_size=min_size, max_size=max_size, unique=True))
    candidates = []
    for agent_id in ids:
        max_load = draw(st.one_of(st.none(), st.integers(0, 5)))
        candidates.append(Candidate(
            agent_id=agent_id, name=f"Agent {agent_id}", status=draw(st.sampled_from(STATUSES)),
            load=draw(st.integers(0, 6)), max_load=max_load, priority=draw(st.integers(1, 4)),
            last_assigned_at=draw(st.one_of(
                st.none(), st.integers(0, 50).map(lambda minutes: EPOCH + timedelta(minutes=minutes))
            )),
            in_department=draw(st.booleans()) or draw(st.booleans()),
            takes_channel=draw(st.booleans()) or draw(st.booleans()),
            declined_before=draw(st.booleans()) and draw(st.booleans()),
        ))
    return candidates


def eligible_of(candidates: list[Candidate]) -> list[Candidate]:
    return [c for c in candidates if ineligibility(c) is None]


def top_tier_of(candidates: list[Candidate]) -> list[Candidate]:
    eligible = eligible_of(candidates)
    best = min(c.priority for c in eligible)
    return [c for c in eligible if c.priority == best]


def online_free(agent_id: int, **fields) -> Candidate:
    values = {"name": f"Agent {agent_id}", "status": "online", "load": 0, "max_load": 3, "priority": 1,
              "last_assigned_at": None}
    values.update(fields)
    return Candidate(agent_id=agent_id, **values)


# --- every method alike -----------------------------------------------------------------------------------

@pytest.mark.parametrize("method_name", Method.values)
@settings(max_examples=60, deadline=None)
@given(candidates=candidate_lists(), seed=st.integers(0, 2**32))
def test_every_method_offers_only_to_eligible_agents_of_the_highest_free_tier(method_name, candidates, seed):
    selection = select(method_get(method_name), candidates, rng=random.Random(seed))

    eligible = eligible_of(candidates)
    if not eligible:
        assert selection.winners == []
    else:
        tier_ids = {c.agent_id for c in top_tier_of(candidates)}
        assert selection.winners, "an eligible agent exists, so someone is offered the item"
        assert set(selection.winners) <= tier_ids
        assert len(selection.winners) == len(set(selection.winners))
        for candidate in candidates:
            if candidate.agent_id in selection.winners:
                assert candidate.status == "online"
                assert candidate.in_department and candidate.takes_channel and not candidate.declined_before
                assert candidate.max_load is None or candidate.load < candidate.max_load


@pytest.mark.parametrize("method_name", Method.values)
@settings(max_examples=50, deadline=None)
@given(candidates=candidate_lists(), seed=st.integers(0, 2**32))
def test_every_candidate_either_wins_or_is_told_why_they_lost(method_name, candidates, seed):
    method = method_get(method_name)
    selection = select(method, candidates, rng=random.Random(seed))

    winners = set(selection.winners)
    assert winners.isdisjoint(selection.reasons)
    assert winners | set(selection.reasons) == {c.agent_id for c in candidates}
    for candidate in candidates:
        if candidate.agent_id in winners:
            continue
        reason = selection.reasons[candidate.agent_id]
        cause = ineligibility(candidate)
        if cause is not None:
            assert reason == cause
        elif candidate.priority > min(c.priority for c in eligible_of(candidates)):
            assert reason.startswith("lower priority tier")
        else:
            assert reason == base.NOT_PICKED.format(method=method.name)


@settings(max_examples=100, deadline=None)
@given(candidate=candidate_lists(min_size=1, max_size=1).map(lambda cs: cs[0]))
def test_ineligibility_names_the_first_rule_the_agent_breaks(candidate):
    reason = ineligibility(candidate)
    if not candidate.in_department:
        assert reason == "not in department"
    elif candidate.status != "online":
        assert reason == f"not online ({candidate.status})"
    elif not candidate.takes_channel:
        assert reason == "does not take this channel"
    elif candidate.declined_before:
        assert reason == "declined or missed this item before"
    elif candidate.max_load is not None and candidate.load >= candidate.max_load:
        assert reason == f"full ({candidate.load}/{candidate.max_load})"
    else:
        assert reason is None


def test_a_higher_tier_without_a_free_agent_leaves_the_item_to_the_next_tier():
    candidates = [
        online_free(1, priority=1, load=2, max_load=2),
        online_free(2, priority=1, status="away"),
        online_free(3, priority=2, load=1),
        online_free(4, priority=3),
    ]

    selection = select(method_get(Method.PRIORITY), candidates)

    assert selection.winners == [3]
    assert selection.reasons[1] == "full (2/2)"
    assert selection.reasons[2] == "not online (away)"
    assert selection.reasons[4] == "lower priority tier (3 > 2)"


# --- the preferred agent of a returning customer ----------------------------------------------------------

@pytest.mark.parametrize("method_name", Method.values)
@settings(max_examples=50, deadline=None)
@given(candidates=candidate_lists(min_size=1), pick=st.integers(0, 7), seed=st.integers(0, 2**32))
def test_the_returning_customers_last_agent_wins_whenever_eligible(method_name, candidates, pick, seed):
    preferred = candidates[pick % len(candidates)]

    selection = select(method_get(method_name), candidates, rng=random.Random(seed),
                       preferred_agent_id=preferred.agent_id)

    if ineligibility(preferred) is None:
        assert selection.winners == [preferred.agent_id]
        for candidate in eligible_of(candidates):
            if candidate is not preferred:
                assert selection.reasons[candidate.agent_id] == base.LAST_AGENT_PREFERRED
    else:
        assert preferred.agent_id not in selection.winners
        assert selection.reasons[preferred.agent_id] == ineligibility(preferred)
        assert selection.winners == select(method_get(method_name), candidates, rng=random.Random(seed)).winners


# --- each method's own rule -------------------------------------------------------------------------------

@pytest.mark.parametrize("method_name", [Method.RING_ALL, Method.PRIORITY])
@settings(max_examples=50, deadline=None)
@given(candidates=candidate_lists(min_size=1))
def test_ring_all_and_priority_ring_the_whole_top_tier_at_once(method_name, candidates):
    selection = select(method_get(method_name), candidates)

    expected = {c.agent_id for c in top_tier_of(candidates)} if eligible_of(candidates) else set()
    assert set(selection.winners) == expected


@settings(max_examples=100, deadline=None)
@given(candidates=candidate_lists(min_size=1))
def test_round_robin_offers_to_the_agent_assigned_least_recently(candidates):
    selection = select(method_get(Method.ROUND_ROBIN), candidates)

    if eligible_of(candidates):
        tier = top_tier_of(candidates)
        (winner_id,) = selection.winners
        winner = next(c for c in tier if c.agent_id == winner_id)
        for other in tier:
            if winner.last_assigned_at is not None:
                assert other.last_assigned_at is not None, "an agent never assigned goes first"
                assert winner.last_assigned_at <= other.last_assigned_at


@settings(max_examples=100, deadline=None)
@given(candidates=candidate_lists(min_size=1))
def test_maximum_utilization_offers_to_the_busiest_agent_with_a_free_slot(candidates):
    selection = select(method_get(Method.MAX_UTILIZATION), candidates)

    if eligible_of(candidates):
        tier = top_tier_of(candidates)
        (winner_id,) = selection.winners
        winner = next(c for c in tier if c.agent_id == winner_id)
        assert winner.has_free_slot
        assert winner.load == max(c.load for c in tier)


@settings(max_examples=100, deadline=None)
@given(candidates=candidate_lists(min_size=1))
def test_mean_utilization_offers_to_the_least_busy_agent(candidates):
    selection = select(method_get(Method.MEAN_UTILIZATION), candidates)

    if eligible_of(candidates):
        tier = top_tier_of(candidates)
        (winner_id,) = selection.winners
        winner = next(c for c in tier if c.agent_id == winner_id)
        assert winner.load == min(c.load for c in tier)


@pytest.mark.parametrize("method_name", [Method.MAX_UTILIZATION, Method.MEAN_UTILIZATION])
def test_equally_loaded_agents_are_chosen_least_recently_assigned_first(method_name):
    candidates = [
        online_free(1, load=1, last_assigned_at=EPOCH + timedelta(minutes=5)),
        online_free(2, load=1, last_assigned_at=EPOCH + timedelta(minutes=1)),
        online_free(3, load=1, last_assigned_at=EPOCH + timedelta(minutes=9)),
    ]

    assert select(method_get(method_name), candidates).winners == [2]


@settings(max_examples=100, deadline=None)
@given(candidates=candidate_lists(min_size=1), seed=st.integers(0, 2**32))
def test_random_offers_to_exactly_one_agent_of_the_top_tier(candidates, seed):
    selection = select(method_get(Method.RANDOM), candidates, rng=random.Random(seed))

    if eligible_of(candidates):
        assert len(selection.winners) == 1
        assert selection.winners[0] in {c.agent_id for c in top_tier_of(candidates)}


def test_random_chooses_uniformly_among_eligible_agents():
    candidates = [online_free(i) for i in (11, 12, 13, 14)] + [online_free(15, status="offline")]
    rng = random.Random(20260101)
    draws = 8000

    counts = Counter(select(method_get(Method.RANDOM), candidates, rng=rng).winners[0] for _ in range(draws))

    assert set(counts) == {11, 12, 13, 14}
    # Each of the four expects 2000 (standard deviation about 39): 1850..2150 is nearly four deviations.
    assert all(1850 <= n <= 2150 for n in counts.values()), counts


@settings(max_examples=50, deadline=None)
@given(candidates=candidate_lists(min_size=1), seed=st.integers(0, 2**32))
def test_the_same_random_seed_gives_the_same_choice_whatever_the_candidates_order(candidates, seed):
    method = method_get(Method.RANDOM)

    forward = select(method, candidates, rng=random.Random(seed)).winners
    backward = select(method, list(reversed(candidates)), rng=random.Random(seed)).winners

    assert forward == backward


def test_least_recent_key_puts_never_assigned_agents_first_then_the_longest_waiting():
    never = online_free(9)
    long_ago = online_free(3, last_assigned_at=EPOCH)
    recently = online_free(1, last_assigned_at=EPOCH + timedelta(hours=1))

    assert sorted([recently, long_ago, never], key=least_recent_key) == [never, long_ago, recently]


def test_every_configurable_method_has_an_implementation():
    assert set(METHODS) == set(Method.values)
