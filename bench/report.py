"""The report: a table in the terminal, and JSON, Markdown and PNG charts in bench-results/."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# Issue 15's targets for this two-core machine (the compass beyond them: 200 journeys/s).
TARGET_JOURNEYS_PER_S = 80.0
TARGET_P99_ASSESSMENT_TO_CREDENTIAL_MS = 500.0
TARGET_EVENT_RATIO = 0.05
TARGET_PEAK_SERVICE_MIB = 150.0
# Processes that are not the alliance's services (their memory is not a service's target).
NOT_SERVICES = frozenset({"kafka", "postgresql", "benchmark driver"})

LATENCIES = (
    ("enrolment_accepted", "enrolment accepted (HTTP, through the gateway)"),
    ("assessment_to_credential", "assessment submitted -> credential issued"),
    ("last_component_to_stacked_credential", "last component -> stacked credential"),
)


def cpu_ms_per_journey(run: dict[str, Any]) -> dict[str, float]:
    """CPU milliseconds per completed journey, by process: what two cores can carry does
    not depend on how busy the machine is with other work, unlike journeys per second."""
    journeys = run["journeys_completed"]
    if not journeys:
        return {}
    return {name: 1000 * seconds / journeys for name, seconds in run.get("cpu_s", {}).items()}


def statements_per_journey(run: dict[str, Any]) -> dict[str, float]:
    """Statements per completed journey, by service database, as PostgreSQL counted them
    (an executemany counts each row; BEGIN and COMMIT count)."""
    journeys = run["journeys_completed"]
    if not journeys:
        return {}
    return {name: calls / journeys for name, calls in sorted(run.get("statements", {}).items())}


def targets(run: dict[str, Any], memory_kib: dict[str, int]) -> list[dict[str, Any]]:
    a2c = run["latency_ms"]["assessment_to_credential"]
    p99 = a2c["p99"] if a2c else None
    ratio = run.get("event_throughput_ratio")
    services = [kib / 1024 for name, kib in memory_kib.items() if name not in NOT_SERVICES]
    return [
        _target("complete journeys per second", TARGET_JOURNEYS_PER_S, run["journeys_per_s"], True),
        _target(
            "p99 assessment -> credential (ms)", TARGET_P99_ASSESSMENT_TO_CREDENTIAL_MS, p99, False
        ),
        _target("system events/s / plain aiokafka msgs/s", TARGET_EVENT_RATIO, ratio, True),
        _target(
            "peak memory of a service process (MiB)",
            TARGET_PEAK_SERVICE_MIB,
            max(services) if services else None,
            False,
        ),
    ]


def _target(name: str, goal: float, actual: float | None, higher: bool) -> dict[str, Any]:
    met = actual is not None and (actual >= goal if higher else actual <= goal)
    return {"target": name, "goal": goal, "actual": actual, "met": met}


def _n(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def lines(report: dict[str, Any]) -> list[str]:
    """The report as Markdown (which also reads well in a terminal)."""
    run = report["run"]
    scale = report["scale"]
    out = [
        f"# Benchmark {report['started_at']}",
        "",
        f"Command: `{report['command']}`  ",
        f"Machine: {report['machine']['cpus']} CPUs, Python {report['machine']['python']}  ",
        f"Scale: {scale['learners']} learners ({scale['components']} courses each, "
        f"{scale['partners']} partners), offered at {scale['rate']:g} learners/s, "
        f"{scale['partitions']} partitions per topic, {scale['instances']} process(es) per "
        "service",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| journeys completed | {run['journeys_completed']} / {run['journeys_started']} |",
        f"| complete journeys per second (sustained) | {_n(run['journeys_per_s'])} |",
        f"| events per second through the system | {_n(run['events_per_s'])} |",
        f"| events in the run (mean size) | {run['events']:,} ({run['event_size_bytes']} B) |",
    ]
    plain = run.get("plain_kafka")
    if plain:
        out += [
            f"| plain aiokafka, same number and size, msgs/s | {_n(plain['per_second'])} |",
            f"| system / plain aiokafka | {_n(run['event_throughput_ratio'], 3)} |",
        ]
    signing = report.get("signing")
    if signing:
        out += [
            f"| credentials issued per second (system) | {_n(run['credentials_per_s'])} |",
            f"| raw Ed25519 signatures per second (one core) | "
            f"{_n(signing['raw_ed25519_per_s'], 0)} |",
            f"| credentials signed per second, signing alone (one core) | "
            f"{_n(signing['credentials_per_s'], 0)} |",
            f"| system credentials/s / raw Ed25519/s | {_n(report['signing_ratio'], 4)} |",
        ]
    out += ["", "| latency (ms) | n | p50 | p95 | p99 | max |", "|---|---:|---:|---:|---:|---:|"]
    for key, label in LATENCIES:
        s = run["latency_ms"][key]
        if s is None:
            out.append(f"| {label} | 0 | - | - | - | - |")
        else:
            out.append(
                f"| {label} | {s['count']} | {_n(s['p50'])} | {_n(s['p95'])} | "
                f"{_n(s['p99'])} | {_n(s['max'])} |"
            )
    out += ["", "| where a journey's time goes (ms) | p50 | p99 |", "|---|---:|---:|"]
    out += [f"| {hop} | {_n(s['p50'])} | {_n(s['p99'])} |" for hop, s in run["hops_ms"].items()]
    correctness = run["correctness"]
    out += [
        "",
        f"Correctness under load: **{'ok' if correctness['ok'] else 'PROBLEMS'}** "
        f"({run.get('verified_credentials', 0)} credentials verified independently)",
    ]
    out += [f"- {problem}" for problem in correctness["problems"]]
    cpu = run.get("cpu_s", {})
    per_journey = cpu_ms_per_journey(run)
    out += [
        "",
        "| process | peak memory (VmHWM, MiB) | CPU s in the timed run | CPU ms per journey |",
        "|---|---:|---:|---:|",
    ]
    memory = report["memory_kib"]
    for name in [*memory, *(name for name in cpu if name not in memory)]:
        kib = memory.get(name)
        out.append(
            f"| {name} | {'-' if kib is None else f'{kib / 1024:,.0f}'} | "
            f"{_n(cpu.get(name))} | {_n(per_journey.get(name))} |"
        )
    system = {name: ms for name, ms in per_journey.items() if name != "benchmark driver"}
    if system:
        out.append(f"| all but the driver | | | **{_n(sum(system.values()))}** |")
    busy = [share for share in run["series"]["machine_busy_share"] if share is not None]
    if busy:
        out += [
            "",
            f"The machine's {report['machine']['cpus']} cores in the timed run (every process "
            f"above, the driver too, measured each second): {sum(busy) / len(busy):.0%} busy on "
            f"average, {max(busy):.0%} in the busiest second (each process's milliseconds a "
            "second: `series.cpu_ms_per_s` in the JSON, and the chart).",
        ]
    if warm_up := run.get("warm_up"):
        out += [
            "",
            f"Warm-up: {warm_up['learners']} learners in {warm_up['rounds']} round(s), until the "
            f"broker's JIT compiler used {warm_up['kafka_jit_share']:.0%} of a core; it used "
            f"{_n(warm_up['kafka_jit_s_in_run'])} CPU s of the broker's in the timed run.",
        ]
    if statements := statements_per_journey(run):
        deferrals = run.get("deferrals", {})
        out += ["", "| database | statements per journey | deferrals |", "|---|---:|---:|"]
        out += [
            f"| {name} | {_n(n)} | {_n(deferrals.get(name), 0)} |" for name, n in statements.items()
        ]
        out.append(
            f"| all | **{_n(sum(statements.values()))}** | {_n(sum(deferrals.values()), 0)} |"
        )
    if costliest := run.get("costliest_statements"):
        journeys = max(1, run["journeys_completed"])
        out += [
            "",
            "Longest statements by execution time (PostgreSQL's wall time: waits for a core "
            "are in it):",
            "",
            "| database | statement | calls per journey | µs each | ms per journey |",
            "|---|---|---:|---:|---:|",
        ]
        for row in costliest:
            each_us = 1000 * row["exec_ms"] / max(1, row["calls"])
            out.append(
                f"| {row['database']} | `{row['query'].replace('|', '/')}` | "
                f"{_n(row['calls'] / journeys, 2)} | {_n(each_us, 0)} | "
                f"{_n(row['exec_ms'] / journeys, 2)} |"
            )
    out += ["", "| target | goal | actual | met |", "|---|---:|---:|---|"]
    for t in report["targets"]:
        out.append(
            f"| {t['target']} | {_n(t['goal'], 2)} | {_n(t['actual'], 2)} | "
            f"{'yes' if t['met'] else 'no'} |"
        )
    series = report.get("scale_series")
    if series:
        out += [
            "",
            "| processes per service | journeys/s | events/s | p99 assessment -> credential |",
            "|---:|---:|---:|---:|",
        ]
        for point in series:
            out.append(
                f"| {point['instances']} | {_n(point['journeys_per_s'])} | "
                f"{_n(point['events_per_s'])} | {_n(point['p99_assessment_to_credential_ms'])} |"
            )
    return out


def charts(report: dict[str, Any], out_dir: Path) -> list[Path]:
    """Throughput, latency and each process's CPU over time (the line: all cores);
    throughput against processes per service."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    series = report["run"]["series"]
    figure, (top, bottom, cores) = plt.subplots(3, 1, figsize=(9, 9), sharex=True)
    top.plot(series["events_per_s"], label="events/s (all topics)")
    top.plot([n * 10 for n in series["journeys_per_s"]], label="journeys completed/s x 10")
    top.set_ylabel("per second")
    top.legend()
    top.set_title(f"Throughput over time, run {report['run']['run']}")
    for key, label in (
        ("assessment_to_credential_p99_ms", "assessment -> credential p99"),
        ("enrolment_accepted_p99_ms", "enrolment accepted p99"),
    ):
        values = [float("nan") if v is None else v for v in series[key]]
        bottom.plot(values, label=label)
    bottom.set_ylabel("ms")
    bottom.legend()
    used = series["cpu_ms_per_s"]
    if used:
        names = sorted(used, key=lambda name: -sum(ms or 0.0 for ms in used[name]))
        # Only the seconds measured: the first and last have no sample ending in them.
        seconds = [s for s in range(len(used[names[0]])) if used[names[0]][s] is not None]
        cores.stackplot(
            seconds, [[used[name][s] or 0.0 for s in seconds] for name in names], labels=names
        )
        all_cores = 1000 * report["machine"]["cpus"]
        cores.axhline(all_cores, color="black", linewidth=1)
        cores.set_ylim(0, all_cores * 1.35)
        cores.legend(fontsize="small", ncol=5, loc="upper center")
    cores.set_ylabel("CPU ms per second")
    cores.set_xlabel("seconds since the first learner started")
    figure.tight_layout()
    path = out_dir / "throughput-latency.png"
    figure.savefig(path, dpi=100)
    plt.close(figure)
    written.append(path)
    points: Sequence[dict[str, Any]] = report.get("scale_series") or ()
    # A chart left from an earlier run would pass for this run's.
    (out_dir / "scale-series.png").unlink(missing_ok=True)
    if points:
        figure, axis = plt.subplots(figsize=(6, 4))
        instances = [p["instances"] for p in points]
        axis.plot(instances, [p["journeys_per_s"] for p in points], marker="o", label="journeys/s")
        axis.set_xlabel("processes per service")
        axis.set_ylabel("complete journeys per second")
        axis.set_xticks(instances)
        axis.set_title(f"Scaling out ({points[0]['learners']} learners per point)")
        figure.tight_layout()
        path = out_dir / "scale-series.png"
        figure.savefig(path, dpi=100)
        plt.close(figure)
        written.append(path)
    return written


def write(report: dict[str, Any], out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = report["started_at"].replace(":", "").replace("-", "")[:15]
    as_json = json.dumps(report, indent=2)
    markdown = "\n".join(lines(report)) + "\n"
    written = []
    for name, text in (
        (f"bench-{stamp}.json", as_json),
        ("latest.json", as_json),
        ("latest.md", markdown),
    ):
        (out_dir / name).write_text(text)
        written.append(out_dir / name)
    return written + charts(report, out_dir)
