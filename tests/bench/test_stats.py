"""The benchmark's arithmetic: percentiles, per-second series, rates."""

from __future__ import annotations

import pytest

from bench.stats import (
    busy_share,
    cpu_over_time,
    latency_over_time,
    per_second,
    percentile,
    rate,
    ratio,
    summarise,
)


def test_percentiles_interpolate_between_ranks_as_numpy_does() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 50) == 2.5
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(list(map(float, range(1, 101))), 99) == pytest.approx(99.01)
    assert percentile([7.0], 99) == 7.0


def test_a_percentile_of_nothing_or_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentile([1.0], 101)


def test_a_summary_has_the_reported_percentiles_and_the_maximum() -> None:
    summary = summarise([float(ms) for ms in range(1, 1001)])
    assert summary is not None
    assert summary.count == 1000
    assert summary.p50 == pytest.approx(500.5)
    assert summary.p95 == pytest.approx(950.05)
    assert summary.p99 == pytest.approx(990.01)
    assert summary.max == 1000.0
    assert summary.mean == pytest.approx(500.5)
    assert summarise([]) is None


def test_moments_are_counted_in_the_second_they_fall_in() -> None:
    start = 1000.0
    moments = [999.9, 1000.0, 1000.5, 1001.2, 1002.99, 1003.0]
    assert per_second(moments, start, 1003.0) == [2, 1, 1]


def test_latency_over_time_gives_each_second_its_own_percentile() -> None:
    samples = [(10.1, 100.0), (10.5, 300.0), (12.2, 50.0)]
    assert latency_over_time(samples, 10.0, 13.0, q=100) == [300.0, None, 50.0]


def test_rates_and_ratios_of_nothing_are_zero_or_unknown() -> None:
    assert rate(10, 2.0) == 5.0
    assert rate(10, 0.0) == 0.0
    assert ratio(1.0, 4.0) == 0.25
    assert ratio(1.0, 0.0) is None


def test_cpu_over_time_is_each_processs_use_in_the_second_an_interval_ends() -> None:
    # CPU seconds used so far, sampled about once a second; "late" starts in the second sample.
    samples = [
        (99.8, {"kafka": 1.0}),
        (100.6, {"kafka": 1.4, "late": 0.0}),
        (101.6, {"kafka": 1.9, "late": 0.3}),
        (101.9, {"kafka": 2.0, "late": 0.4}),
        (104.2, {"kafka": 2.3, "late": 0.4}),
        (106.0, {"kafka": 9.0, "late": 9.0}),
    ]
    series = cpu_over_time(samples, 100.0, 105.0)
    assert series["kafka"] == pytest.approx([500.0, 461.5, None, None, 130.4], abs=0.1)
    # Two intervals ended in the second second: pooled, (0.3 + 0.1) s of CPU in 1.3 s.
    assert series["late"] == pytest.approx([None, 307.7, None, None, 0.0], abs=0.1)
    assert cpu_over_time([], 100.0, 101.0) == {}


def test_the_busy_share_is_what_all_processes_used_of_all_cores() -> None:
    per_process = {"a": [500.0, None, 1000.0], "b": [900.0, None, None]}
    assert busy_share(per_process, cpus=2) == [0.7, None, 0.5]
    assert busy_share({}, cpus=2) == []
