"""Percentiles, rates and time series: the arithmetic of the report, pure and tested."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from itertools import pairwise
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


def cpu_over_time(
    samples: Sequence[tuple[float, Mapping[str, float]]], start: float, end: float
) -> dict[str, list[float | None]]:
    """Each process's CPU milliseconds a second in each whole second from `start` to `end`,
    from its CPU seconds used so far, sampled at moments (seconds): the interval between
    two samples counts in the second it ends in (two ending in one second are pooled); a
    second in which none ends is None, as is a process missing from either sample."""
    seconds = max(1, math.ceil(end - start))
    used: dict[str, list[float]] = {}
    spans: dict[str, list[float]] = {}
    for (before_at, before), (after_at, after) in pairwise(samples):
        if not start <= after_at < end or after_at <= before_at:
            continue
        second = int(after_at - start)
        for name in after.keys() & before.keys():
            used.setdefault(name, [0.0] * seconds)[second] += after[name] - before[name]
            spans.setdefault(name, [0.0] * seconds)[second] += after_at - before_at
    return {
        name: [
            1000 * cpu / span if span else None
            for cpu, span in zip(used[name], spans[name], strict=True)
        ]
        for name in sorted(used)
    }


def busy_share(cpu_ms_per_s: Mapping[str, Sequence[float | None]], cpus: int) -> list[float | None]:
    """The share of all `cpus` cores the processes used together in each second (None for a
    second none of them was measured in)."""
    seconds = max((len(series) for series in cpu_ms_per_s.values()), default=0)
    shares: list[float | None] = []
    for second in range(seconds):
        measured = [ms for series in cpu_ms_per_s.values() if (ms := series[second]) is not None]
        shares.append(sum(measured) / (1000 * cpus) if measured else None)
    return shares


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


def ratio(part: float, whole: float) -> float | None:
    return part / whole if whole > 0 else None
