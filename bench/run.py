"""One measurement on a running stack: warm up, drive the timed load, drain, check, compare."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench import stats
from bench.baseline import plain_kafka
from bench.checks import (
    Credentials,
    assessment_to_credential,
    check,
    hops,
    last_component_to_stacked,
)
from bench.journeys import Driver, Load, Tally, make_learners, wait_until_known
from bench.memory import compiling_seconds, cpu_seconds, family_cpu_seconds
from bench.observe import Observer
from bench.stack import Stack, log
from bench.statements import counted, gather_statistics, service_databases, start_counting
from bench.verify import verify_all

WARMUP_LEARNERS = 10
# The broker's JIT compiler keeps compiling through its first minutes of load: after a
# 10-learner warm-up it used 4.7 of the broker's 9.6 CPU seconds in a timed run of 600
# learners at 25/s (2026-12-06), which measured the JVM's start rather than the system.
# Rounds of this many seconds of load go on until it uses under a tenth of a core (it
# stays near that for minutes), as on a broker that has been up a while.
WARMUP_ROUND_S = 5.0
WARMUP_ROUNDS = 8
JIT_QUIET_SHARE = 0.1
# A journey that shows no progress for this long is taken as stuck (the run is reported as
# incomplete rather than waiting forever).
STALL_S = 30.0
QUIET_S = 1.0
# Each process's CPU over the timed run, so a run that falls behind shows whether the
# machine was full and which process grew: under 2 ms of the driver's CPU a sample.
CPU_SAMPLE_S = 1.0


@dataclass(frozen=True)
class Options:
    load: Load
    verify: bool = True
    baseline: bool = True


async def _settle(observer: Observer, quiet_s: float, limit_s: float = 60.0) -> None:
    """Until the observer has read everything and nothing new came for `quiet_s`."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        before = observer.records
        await asyncio.sleep(quiet_s)
        if observer.records == before and await observer.caught_up():
            return


def cpu_snapshot(stack: Stack) -> dict[str, float]:
    """CPU seconds used so far by each process of the stack and by this driver."""
    used = {name: c for name, pid in stack.service_pids().items() if (c := cpu_seconds(pid))}
    if (pid := stack.kafka_pid()) is not None:
        used["kafka"] = cpu_seconds(pid) or 0.0
    if (pid := stack.postgres_pid()) is not None:
        used["postgresql"] = family_cpu_seconds(pid)
    used["benchmark driver"] = cpu_seconds(os.getpid()) or 0.0
    return used


async def _sample_cpu(stack: Stack, samples: list[tuple[float, dict[str, float]]]) -> None:
    """Appends (moment, `cpu_snapshot`) every CPU_SAMPLE_S until cancelled."""
    while True:
        samples.append((time.time(), cpu_snapshot(stack)))
        await asyncio.sleep(CPU_SAMPLE_S)


def _compiling(stack: Stack) -> float:
    pid = stack.kafka_pid()
    return compiling_seconds(pid) if pid is not None else 0.0


def _round_size(round_: int, load: Load) -> int:
    """Learners in warm-up round `round_` (from 0): a few, then the run's rate for a while."""
    return WARMUP_LEARNERS if round_ == 0 else max(1, round(load.rate * WARMUP_ROUND_S))


async def _warm_up(driver: Driver, stack: Stack, load: Load) -> dict[str, Any]:
    """Journeys until the broker's JIT compiler is quiet: a first round of a few learners,
    then rounds of the run's rate; what it took, for the report."""
    learners, share = 0, 1.0
    for round_ in range(WARMUP_ROUNDS):
        size = _round_size(round_, load)
        compiled, started = _compiling(stack), time.monotonic()
        warm = make_learners(driver.run, f"w{round_}", size, driver.offerings, load.components)
        tally = Tally()
        await driver.run_learners(warm, tally)
        warmed = await driver.drain(tally, STALL_S * 2, limit_s=180)
        learners += size
        share = (_compiling(stack) - compiled) / (time.monotonic() - started)
        log(
            f"warm-up round {round_ + 1}: {len(tally.completed)}/{size} journeys complete, "
            f"the broker's JIT compiler at {share:.0%} of a core"
            + ("" if warmed else " (the rest did not finish; measuring what the system does)")
        )
        if share < JIT_QUIET_SHARE or not warmed:
            break
    return {"learners": learners, "rounds": round_ + 1, "kafka_jit_share": share}


async def measure(stack: Stack, options: Options) -> dict[str, Any]:
    load = options.load
    bootstrap = stack.profile.bootstrap_servers
    most = sum(_round_size(round_, load) for round_ in range(WARMUP_ROUNDS))
    driver = Driver(bootstrap, stack.gateways(), load, warm_up_learners=most)
    observer = Observer(bootstrap, on_event=driver.observe)
    await observer.start()
    try:
        async with driver:
            await driver.publish_alliance()
            await wait_until_known(stack.url("enrolment"), driver.offerings)
            warm_up = await _warm_up(driver, stack, load)
            await _settle(observer, QUIET_S)
            await gather_statistics(service_databases(stack.profile))
            learners = make_learners(
                driver.run, "l", load.learners, driver.offerings, load.components
            )
            await start_counting(stack.profile)
            cpu_before = cpu_snapshot(stack)
            compiled_before = _compiling(stack)
            records_before, bytes_before = observer.records, observer.bytes
            seen_before = len(observer.kept)
            tally = Tally()
            log(
                f"load: {load.learners} learners at {load.rate:g}/s, {load.components} courses each"
            )
            cpu_samples: list[tuple[float, dict[str, float]]] = []
            sampling = asyncio.create_task(_sample_cpu(stack, cpu_samples))
            try:
                await driver.run_learners(learners, tally)
                complete = await driver.drain(tally, STALL_S, limit_s=600)
                await _settle(observer, QUIET_S)
            finally:
                sampling.cancel()
            cpu = {
                name: seconds - cpu_before.get(name, 0.0)
                for name, seconds in cpu_snapshot(stack).items()
            }
            warm_up["kafka_jit_s_in_run"] = _compiling(stack) - compiled_before
            statements = await counted(stack.profile)
            log(f"load: {len(tally.completed)}/{load.learners} journeys complete")
        seen = observer.kept[seen_before:]
        records = observer.records - records_before
        size = (observer.bytes - bytes_before) // max(1, records)
        result = summarise(driver, tally, observer, seen, records, size, complete, cpu_samples)
        result["cpu_s"] = cpu
        result["warm_up"] = warm_up
        result["statements"] = statements.statements
        result["deferrals"] = statements.deferrals
        result["costliest_statements"] = [row._asdict() for row in statements.costliest]
        if options.verify:
            verification = await verify_all(stack.url("issuance"), learners, load.concurrency)
            result["verified_credentials"] = verification.verified
            correctness = check(
                tally, seen, driver.pathway.pathway_id, observer.dead_letters,
                verification.held, verification.unverified,
            )  # fmt: skip
        else:
            correctness = check(tally, seen, driver.pathway.pathway_id, observer.dead_letters)
        result["correctness"] = correctness.as_dict()
    finally:
        await observer.stop()
    if options.baseline and records:
        plain = await plain_kafka(bootstrap, records, size, stack.partitions)
        result["plain_kafka"] = plain.as_dict()
        result["event_throughput_ratio"] = stats.ratio(result["events_per_s"], plain.per_second)
    return result


def summarise(
    driver: Driver,
    tally: Tally,
    observer: Observer,
    seen: list[Any],
    records: int,
    size: int,
    complete: bool,
    cpu_samples: Sequence[tuple[float, dict[str, float]]],
) -> dict[str, Any]:
    """The figures of one run (times as seconds from the first learner's start)."""
    credentials = Credentials.of(seen, tally.learners, driver.pathway.pathway_id)
    learner_offerings: dict[str, list[str]] = {}
    for learner, offering in tally.submitted:
        learner_offerings.setdefault(learner, []).append(offering)
    a2c = assessment_to_credential(tally.submitted, credentials)
    stacked = last_component_to_stacked(learner_offerings, credentials)
    finished = sorted(tally.completed.values())
    start = tally.started
    end = finished[-1] if finished else time.time()
    # The sustained rate: from the first completed journey to the last.
    window = (finished[-1] - finished[0]) if len(finished) > 1 else 0.0
    in_window = sum(1 for m in observer.moments if finished and finished[0] <= m <= finished[-1])
    cpu_ms_per_s = stats.cpu_over_time(cpu_samples, start, end)
    component_credentials = sum(len(e) for e in credentials.components.values())
    stacked_credentials = sum(len(e) for e in credentials.stacked.values())
    return {
        "run": driver.run,
        "load": {
            "learners": driver.load.learners,
            "partners": driver.load.partners,
            "components": driver.load.components,
            "rate": driver.load.rate,
            "course_s": driver.load.course_s,
        },
        "complete": complete,
        "journeys_started": len(tally.learners),
        "journeys_completed": len(tally.completed),
        "enrolments_refused": len(tally.refused),
        "refusals": tally.refused[:5],
        "wall_s": end - start,
        "window_s": window,
        "journeys_per_s": stats.rate(len(finished) - 1, window),
        "events": records,
        "event_size_bytes": size,
        "events_per_s": stats.rate(in_window, window),
        "events_by_type": dict(observer.by_type),
        "credentials_issued": component_credentials + stacked_credentials,
        "credentials_per_s": stats.rate(
            sum(1 for _, ms in a2c) + len(stacked),
            window,
        ),
        "latency_ms": {
            name: (summary.as_dict() if (summary := stats.summarise([ms for _, ms in s])) else None)
            for name, s in (
                ("enrolment_accepted", tally.enrolment_latencies),
                ("assessment_to_credential", a2c),
                ("last_component_to_stacked_credential", stacked),
            )
        },
        "hops_ms": {
            hop: summary.as_dict()
            for hop, values in hops(tally, seen, credentials, driver.pathway.pathway_id).items()
            if (summary := stats.summarise(values))
        },
        "series": {
            "journeys_per_s": stats.per_second(finished, start, end),
            "events_per_s": stats.per_second(observer.moments, start, end),
            "assessment_to_credential_p99_ms": stats.latency_over_time(a2c, start, end),
            "enrolment_accepted_p99_ms": stats.latency_over_time(
                tally.enrolment_latencies, start, end
            ),
            "cpu_ms_per_s": cpu_ms_per_s,
            "machine_busy_share": stats.busy_share(cpu_ms_per_s, os.cpu_count() or 1),
        },
    }
