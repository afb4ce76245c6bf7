"""`python -m bench [options]` (`make bench BENCH_ARGS='...'`): start the bench stack, drive
the learners' journeys, report, and stop everything again (also on Ctrl-C or failure)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import io
import os
import platform
import pstats
import shlex
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from bench import report as reporting
from bench.baseline import signing
from bench.journeys import Load
from bench.memory import family_peak_kib, peak_kib
from bench.run import Options, measure
from bench.stack import Stack, log
from bench.stats import ratio
from infra.processes import InfraError

SERIES_INSTANCES = (1, 2, 3)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--learners", type=int, default=150, help="learners in the timed run")
    parser.add_argument("--partners", type=int, default=3, help="teaching partners (2-5)")
    parser.add_argument("--components", type=int, default=2, help="courses per learner")
    parser.add_argument(
        "--rate", type=float, default=3.0, help="learners starting per second (open load)"
    )
    parser.add_argument(
        "--course-seconds", type=float, default=1.0, help="from enrolment to the results"
    )
    parser.add_argument("--concurrency", type=int, default=64, help="HTTP requests in flight")
    parser.add_argument("--partitions", type=int, default=3, help="partitions per topic")
    parser.add_argument("--instances", type=int, default=1, help="processes per service")
    parser.add_argument(
        "--scale-series",
        action="store_true",
        help=f"also run --series-learners with {SERIES_INSTANCES} processes per service",
    )
    parser.add_argument("--series-learners", type=int, default=200)
    parser.add_argument(
        "--no-verify", action="store_true", help="skip reading and verifying every credential"
    )
    parser.add_argument(
        "--profile", action="store_true", help="run the services under cProfile (slower)"
    )
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    return parser.parse_args(argv)


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def memory(stack: Stack) -> dict[str, int]:
    peaks = {name: kib for name, pid in stack.service_pids().items() if (kib := peak_kib(pid))}
    if (pid := stack.kafka_pid()) is not None and (kib := peak_kib(pid)):
        peaks["kafka"] = kib
    if (pid := stack.postgres_pid()) is not None:
        # The largest of its processes: shared buffers are in each, so a sum misleads.
        peaks["postgresql"], _ = family_peak_kib(pid)
    return peaks


def summarise_profiles(directory: Path) -> None:
    """The 30 functions with the most own time, per service process, as text."""
    for dump in sorted(directory.glob("*.prof")):
        text = io.StringIO()
        stats = pstats.Stats(str(dump), stream=text)
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(40)
        dump.with_suffix(".txt").write_text(text.getvalue())
    log(f"profiles: {directory}/*.txt")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    load = Load(
        learners=args.learners,
        partners=args.partners,
        components=args.components,
        rate=args.rate,
        course_s=args.course_seconds,
        concurrency=args.concurrency,
    )
    partitions = max(args.partitions, max(SERIES_INSTANCES) if args.scale_series else 1)
    profile_dir = (args.out / "profiles").resolve() if args.profile else None
    if profile_dir is not None:
        profile_dir.mkdir(parents=True, exist_ok=True)
    stack = Stack(partitions=partitions, profile_dir=profile_dir)
    report: dict[str, Any] = {
        "command": shlex.join(["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)]),
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "scale": {
            "learners": load.learners,
            "partners": load.partners,
            "components": load.components,
            "rate": load.rate,
            "partitions": partitions,
            "instances": args.instances,
            "profiled": args.profile,
        },
    }
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        stack.start_infra()
        stack.start_services(args.instances)
        run = asyncio.run(measure(stack, Options(load, verify=not args.no_verify)))
        run["cpu_ms_per_journey"] = reporting.cpu_ms_per_journey(run)
        report["run"] = run
        report["memory_kib"] = memory(stack)
        report["signing"] = signing().as_dict()
        report["signing_ratio"] = ratio(
            run["credentials_per_s"], report["signing"]["raw_ed25519_per_s"]
        )
        report["targets"] = reporting.targets(run, report["memory_kib"])
        if args.scale_series:
            report["scale_series"] = scale_series(stack, load, args.series_learners)
    except KeyboardInterrupt:
        log("interrupted: stopping everything")
        return 130
    except InfraError as exc:
        log(f"ERROR: {exc}")
        return 1
    finally:
        stack.stop_infra()
        if profile_dir is not None:
            summarise_profiles(profile_dir)
    print("\n".join(reporting.lines(report)))
    for path in reporting.write(report, args.out):
        log(f"wrote {path}")
    return 0


def scale_series(stack: Stack, load: Load, learners: int) -> list[dict[str, Any]]:
    """The same larger load with 1, 2 and 3 processes per service."""
    points = []
    for instances in SERIES_INSTANCES:
        stack.stop_services()
        stack.start_services(instances)
        bigger = dataclasses.replace(load, learners=learners)
        run = asyncio.run(measure(stack, Options(bigger, verify=False, baseline=False)))
        a2c = run["latency_ms"]["assessment_to_credential"]
        points.append(
            {
                "instances": instances,
                "learners": learners,
                "journeys_per_s": run["journeys_per_s"],
                "events_per_s": run["events_per_s"],
                "journeys_completed": run["journeys_completed"],
                "p99_assessment_to_credential_ms": a2c["p99"] if a2c else None,
                "correct": run["correctness"]["ok"],
            }
        )
        log(f"scale series: {instances} per service -> {run['journeys_per_s']:.1f} journeys/s")
    return points


if __name__ == "__main__":
    sys.exit(main())
