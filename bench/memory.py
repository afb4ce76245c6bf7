"""Peak resident memory (VmHWM in /proc/<pid>/status) and CPU time of a process (and of a
JVM's JIT compiler threads)."""

from __future__ import annotations

import os
from pathlib import Path

from infra.processes import process_stats

PROC = Path("/proc")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds_of(stat_text: str) -> float:
    """User plus system CPU time from a /proc/<pid>/stat text (fields 14 and 15)."""
    fields = stat_text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def cpu_seconds(pid: int) -> float | None:
    try:
        return cpu_seconds_of((PROC / str(pid) / "stat").read_text())
    except (FileNotFoundError, ProcessLookupError, PermissionError, IndexError):
        return None


def compiling_seconds(pid: int) -> float:
    """CPU time of a JVM's JIT compiler threads (HotSpot names them "C1 CompilerThre..." and
    "C2 CompilerThre..."): a broker compiles its hot paths during its first minutes of load."""
    used = 0.0
    for task in (PROC / str(pid) / "task").glob("*"):
        try:
            if (task / "comm").read_text().startswith(("C1 Compiler", "C2 Compiler")):
                used += cpu_seconds_of((task / "stat").read_text())
        except (FileNotFoundError, ProcessLookupError, PermissionError, IndexError):
            continue  # a thread that ended meanwhile
    return used


def vm_hwm_kib(status_text: str) -> int | None:
    """The VmHWM line of a /proc/<pid>/status text, in KiB."""
    for line in status_text.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None


def peak_kib(pid: int) -> int | None:
    try:
        return vm_hwm_kib((PROC / str(pid) / "status").read_text())
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


def family(pid: int) -> list[int]:
    """A process and its direct children (PostgreSQL's postmaster and its backends, which
    each lead a process group of their own)."""
    return [pid, *(member for member, fields in process_stats() if int(fields[1]) == pid)]


def family_peak_kib(pid: int) -> tuple[int, int]:
    """(largest peak of one member, number of members); shared memory is in every member,
    so a sum would count it many times."""
    peaks = [p for member in family(pid) if (p := peak_kib(member)) is not None]
    return (max(peaks) if peaks else 0, len(peaks))


def family_cpu_seconds(pid: int) -> float:
    return sum(c for member in family(pid) if (c := cpu_seconds(member)) is not None)
