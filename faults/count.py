"""What a fault row measured, and the report: pure functions, no infrastructure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Figures:
    """One fault row: `expected` effects (one per cause), counted once the backlog drained."""

    fault: str
    title: str
    expected: int
    in_flight: int
    """causes whose effect was not yet applied when the fault struck"""
    lost: int
    duplicated: int
    dead_letters: int
    drain_s: float | None
    """seconds from the end of the fault until every effect was applied; None: never"""
    note: str = ""
    error: str = ""
    """why the row could not be run to the end (its counts then mean nothing)"""

    @property
    def ok(self) -> bool:
        return (
            not self.error and self.lost == 0 and self.duplicated == 0 and self.drain_s is not None
        )

    @classmethod
    def failed(cls, fault: str, error: str) -> Figures:
        return cls(fault, fault, 0, 0, 0, 0, 0, None, error=error)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def lost_and_duplicated(causes: Iterable[str], effects: Mapping[str, int]) -> tuple[int, int]:
    """(causes without an effect, effects beyond the first of each cause); `effects` counts
    the effects per cause, and effects of causes outside `causes` are not this row's."""
    wanted = set(causes)
    lost = sum(1 for cause in wanted if effects.get(cause, 0) == 0)
    duplicated = sum(n - 1 for cause, n in effects.items() if cause in wanted and n > 1)
    return lost, duplicated


def seconds(value: float | None) -> str:
    return "not drained" if value is None else f"{value:.1f}"


def markdown(rows: Sequence[Figures], commands: Mapping[str, str]) -> str:
    """The README's table: one line per fault, with the command that runs that row alone."""
    lines = [
        "| fault | effects expected | in flight at the fault | lost | duplicated "
        "| dead letters | s to drain | command | note |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in rows:
        if row.error:
            lines.append(
                f"| {row.title} | n/a | n/a | n/a | n/a | n/a | n/a | `{commands[row.fault]}` "
                f"| **row failed**: {row.error} |"
            )
            continue
        verdict = "" if row.ok else "**goal not met** "
        lines.append(
            f"| {row.title} | {row.expected} | {row.in_flight} | {row.lost} | {row.duplicated} "
            f"| {row.dead_letters} | {seconds(row.drain_s)} | `{commands[row.fault]}` "
            f"| {verdict}{row.note} |"
        )
    return "\n".join(lines) + "\n"
