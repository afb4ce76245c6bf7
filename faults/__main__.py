"""`python -m faults [options]` (`make faults FAULTS_ARGS='...'`): start the fault stack
(profile `faults`), run each fault row, write the table, and stop everything again (also on
Ctrl-C or failure)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import platform
import shlex
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

import httpx
from aiokafka.errors import KafkaError
from sqlalchemy.exc import SQLAlchemyError

from bench.stack import Stack
from faults.count import Figures, markdown
from faults.rows import ROWS, Suite, log
from faults.system import Databases
from infra.processes import InfraError
from infra.profiles import PROFILES

PROFILE = PROFILES["faults"]
# What a row may meet when the stack does not come back from a fault; the table says so.
ROW_FAILURES = (
    InfraError,
    OSError,
    RuntimeError,
    TimeoutError,
    KafkaError,
    SQLAlchemyError,
    httpx.HTTPError,
)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m faults", description=__doc__)
    parser.add_argument(
        "--rows", nargs="+", choices=list(ROWS), default=list(ROWS), help="faults to run, in order"
    )
    parser.add_argument(
        "--results", type=int, default=200, help="events in flight per row (results, or seats)"
    )
    parser.add_argument("--partitions", type=int, default=3, help="partitions per topic")
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds a row may take to drain"
    )
    parser.add_argument("--out", type=Path, default=Path("faults-results"))
    return parser.parse_args(argv)


def row_command(name: str, results: int) -> str:
    extra = "" if results == 200 else f" --results {results}"
    return f"make faults FAULTS_ARGS='--rows {name}{extra}'"


async def run_rows(stack: Stack, args: argparse.Namespace) -> list[Figures]:
    databases = Databases(stack.profile)
    suite = Suite(stack, databases, args.results, args.timeout)
    figures = []
    try:
        for name in args.rows:
            log(f"row {name}")
            try:
                row = await ROWS[name](suite)
            except ROW_FAILURES as exc:
                # The table says which row could not run and why; the next rows still run.
                log(f"row {name} failed: {exc!r}")
                figures.append(Figures.failed(name, f"{type(exc).__name__}: {exc}"[:300]))
                continue
            log(
                f"row {name}: lost {row.lost}, duplicated {row.duplicated}, dead letters "
                f"{row.dead_letters}, drained in {row.drain_s} s ({row.note})"
            )
            figures.append(row)
    finally:
        await databases.close()
    return figures


def write(figures: list[Figures], args: argparse.Namespace, command: str, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    commands = {row.fault: row_command(row.fault, args.results) for row in figures}
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    table = markdown(figures, commands)
    report = (
        f"# Fault suite\n\n`{command}` on {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {started}\n\n{table}"
    )
    (out / "latest.md").write_text(report)
    (out / "latest.json").write_text(
        json.dumps({"command": command, "at": started, "rows": [f.as_dict() for f in figures]})
    )
    print(table)
    return out / "latest.md"


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # The suite's own clients would log every reconnect while it holds a broker down.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    command = shlex.join(["python", "-m", "faults", *(sys.argv[1:] if argv is None else argv)])
    stack = Stack(profile=PROFILE, partitions=args.partitions)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        stack.start_infra()
        stack.start_services(1)
        figures = asyncio.run(run_rows(stack, args))
    except KeyboardInterrupt:
        log("interrupted: stopping everything")
        return 130
    except InfraError as exc:
        log(f"ERROR: {exc}")
        return 1
    finally:
        stack.stop_infra()
    log(f"wrote {write(figures, args, command, args.out)}")
    return 0 if all(row.ok for row in figures) else 2


if __name__ == "__main__":
    sys.exit(main())
