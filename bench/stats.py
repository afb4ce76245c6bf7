"""Percentiles, rates and time series: the arithmetic of the report, pure and tested."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), interpolated between the closest ranks (as numpy's
    default), so p50 of [1, 2, 3, 4] is 2.5."""
    if not values:
        raise ValueError("no values")
    if not 0 <= q <= 100:
        raise ValueError("q is between 0 and 100")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Latency:
    """Milliseconds."""

    count: int
    p50: float
    p95: float
    p99: float
    max: float
    mean: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarise(values_ms: Sequence[float]) -> Latency | None:
    if not values_ms:
        return None
    return Latency(
        count=len(values_ms),
        p50=percentile(values_ms, 50),
        p95=percentile(values_ms, 95),
        p99=percentile(values_ms, 99),
        max=max(values_ms),
        mean=sum(values_ms) / len(values_ms),
    )


def per_second(moments: Iterable[float], start: float, end: float) -> list[int]:
    """How many of `moments` (seconds) fall in each whole second from `start` to `end`."""
    buckets = [0] * max(1, math.ceil(end - start))
    for moment in moments:
        if start <= moment < end:
            buckets[int(moment - start)] += 1
    return buckets


def latency_over_time(
    samples: Iterable[tuple[float, float]], start: float, end: float, q: float = 99
) -> list[float | None]:
    """The q-th percentile of the latencies (moment, ms) that ended in each second, None for
    a second with none."""
    buckets: list[list[float]] = [[] for _ in range(max(1, math.ceil(end - start)))]
    for moment, value in samples:
        if start <= moment < end:
            buckets[int(moment - start)].append(value)
    return [percentile(bucket, q) if bucket else None for bucket in buckets]


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


def ratio(part: float, whole: float) -> float | None:
    return part / whole if whole > 0 else None
