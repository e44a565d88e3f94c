"""The contract every routing method follows, and the stages shared by all of them.

A method is a pure function of the candidates: no database, no clock, no globals. Eligibility and the
priority tier are decided here for every method alike; a method only picks among the top tier.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

ONLINE = "online"


@dataclass(frozen=True)
class Candidate:
    agent_id: int
    name: str
    status: str
    load: int
    max_load: int | None  # None: the channel has no limit (tickets)
    priority: int  # 1 highest .. 100 lowest
    last_assigned_at: datetime | None
    in_department: bool = True
    takes_channel: bool = True
    declined_before: bool = False

    @property
    def has_free_slot(self) -> bool:
        return self.max_load is None or self.load < self.max_load


# Why a candidate lost, in the words shown to admins.
NOT_IN_DEPARTMENT = "not in department"
NOT_ONLINE = "not online ({status})"
NO_CHANNEL = "does not take this channel"
FULL = "full ({load}/{max_load})"
DECLINED_BEFORE = "declined or missed this item before"
LOWER_TIER = "lower priority tier ({priority} > {tier})"
NOT_PICKED = "not picked by {method}"
LAST_AGENT_PREFERRED = "the returning customer's last agent was preferred"


def ineligibility(candidate: Candidate) -> str | None:
    if not candidate.in_department:
        return NOT_IN_DEPARTMENT
    if candidate.status != ONLINE:
        return NOT_ONLINE.format(status=candidate.status)
    if not candidate.takes_channel:
        return NO_CHANNEL
    if candidate.declined_before:
        return DECLINED_BEFORE
    if not candidate.has_free_slot:
        return FULL.format(load=candidate.load, max_load=candidate.max_load)
    return None


@dataclass
class Selection:
    winners: list[int]
    reasons: dict[int, str] = field(default_factory=dict)  # agent id -> why they lost


def least_recent_key(candidate: Candidate) -> tuple:
    """Never-assigned agents first, then the longest since their last assignment; ids break ties."""
    stamp = candidate.last_assigned_at
    return (stamp is not None, stamp.timestamp() if stamp else 0.0, candidate.agent_id)


class RoutingMethod:
    """Picks winners among the top-tier eligible candidates (never empty when called)."""

    name: str = ""

    def pick(self, tier: Sequence[Candidate], rng: random.Random) -> list[int]:
        raise NotImplementedError


def select(
    method: RoutingMethod, candidates: Sequence[Candidate], *, rng: random.Random | None = None,
    preferred_agent_id: int | None = None,
) -> Selection:
    """Eligibility, then the highest priority tier with a free agent, then the method (or the preferred
    returning-customer agent when they are eligible)."""
    rng = rng or random.Random()
    reasons: dict[int, str] = {}
    eligible = []
    for candidate in candidates:
        reason = ineligibility(candidate)
        if reason:
            reasons[candidate.agent_id] = reason
        else:
            eligible.append(candidate)
    if not eligible:
        return Selection(winners=[], reasons=reasons)
    preferred = next((c for c in eligible if c.agent_id == preferred_agent_id), None)
    if preferred is not None:
        for candidate in eligible:
            if candidate is not preferred:
                reasons[candidate.agent_id] = LAST_AGENT_PREFERRED
        return Selection(winners=[preferred.agent_id], reasons=reasons)
    tier_priority = min(c.priority for c in eligible)
    tier = []
    for candidate in eligible:
        if candidate.priority == tier_priority:
            tier.append(candidate)
        else:
            reasons[candidate.agent_id] = LOWER_TIER.format(priority=candidate.priority, tier=tier_priority)
    winners = method.pick(tier, rng)
    for candidate in tier:
        if candidate.agent_id not in winners:
            reasons[candidate.agent_id] = NOT_PICKED.format(method=method.name)
    return Selection(winners=winners, reasons=reasons)
