"""The routing methods. Each picks among top-tier, eligible candidates (see base.select)."""

from __future__ import annotations

import random
from collections.abc import Sequence

from routing.methods.base import Candidate, RoutingMethod, least_recent_key


class RingAll(RoutingMethod):
    """Every candidate rings at once; the first to accept gets the item."""

    name = "ring all"

    def pick(self, tier: Sequence[Candidate], rng: random.Random) -> list[int]:
        return [c.agent_id for c in tier]


class RoundRobin(RoutingMethod):
    """The candidate assigned least recently (in this department and channel)."""

    name = "round robin"

    def pick(self, tier: Sequence[Candidate], rng: random.Random) -> list[int]:
        return [min(tier, key=least_recent_key).agent_id]


class MaxUtilization(RoutingMethod):
    """The candidate with the most running work who still has a free slot: fills agents up one by one."""

    name = "maximum utilization"

    def pick(self, tier: Sequence[Candidate], rng: random.Random) -> list[int]:
        return [min(tier, key=lambda c: (-c.load, least_recent_key(c))).agent_id]


class MeanUtilization(RoutingMethod):
    """The candidate with the least running work: spreads the load evenly."""

    name = "mean utilization"

    def pick(self, tier: Sequence[Candidate], rng: random.Random) -> list[int]:
        return [min(tier, key=lambda c: (c.load, least_recent_key(c))).agent_id]


class Random(RoutingMethod):
    name = "random"

    def pick(self, tier: Sequence[Candidate], rng: random.Random) -> list[int]:
        return [rng.choice(sorted(tier, key=lambda c: c.agent_id)).agent_id]


class Priority(RoutingMethod):
    """Only the highest tier (already chosen by the shared stage) rings, all of it at once: the classic
    call-centre hunt group, where the best-placed agents' phones ring together."""

    name = "priority"

    def pick(self, tier: Sequence[Candidate], rng: random.Random) -> list[int]:
        return [c.agent_id for c in tier]
