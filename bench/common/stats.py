"""Latency statistics."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values (0 for none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass(frozen=True)
class Summary:
    name: str
    requests: int
    errors: int
    concurrency: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    # CPU used by processes other than the benchmark's while it ran, as a share of all cores.
    other_cpu: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)

    def line(self) -> str:
        return (
            f"{self.name:<34} n={self.requests:<6} c={self.concurrency:<3} {self.rps:8.1f} req/s  "
            f"p50 {self.p50_ms:7.2f} ms  p90 {self.p90_ms:7.2f} ms  p99 {self.p99_ms:7.2f} ms  "
            f"max {self.max_ms:7.2f} ms  errors {self.errors}  others' CPU {self.other_cpu:4.0%}"
        )


def summarize(name: str, latencies_s: Sequence[float], *, errors: int, concurrency: int, seconds: float) -> Summary:
    values = sorted(v * 1000 for v in latencies_s)
    return Summary(
        name=name, requests=len(values), errors=errors, concurrency=concurrency, seconds=round(seconds, 3),
        rps=round(len(values) / seconds, 1) if seconds > 0 else 0.0,
        p50_ms=round(percentile(values, 0.50), 2), p90_ms=round(percentile(values, 0.90), 2),
        p99_ms=round(percentile(values, 0.99), 2), max_ms=round(values[-1], 2) if values else 0.0,
    )
