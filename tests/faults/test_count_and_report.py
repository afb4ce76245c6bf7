"""The fault suite's counting and report (pure, no infrastructure)."""

from __future__ import annotations

from collections import Counter

from faults.__main__ import parse_args, row_command
from faults.count import Figures, lost_and_duplicated, markdown
from faults.rows import ROWS


def figures(**changes: object) -> Figures:
    base: dict[str, object] = {
        "fault": "broker-restart",
        "title": "broker stopped and restarted mid-stream",
        "expected": 200,
        "in_flight": 160,
        "lost": 0,
        "duplicated": 0,
        "dead_letters": 0,
        "drain_s": 12.34,
        "note": "broker back in 9 s",
    }
    base.update(changes)
    return Figures(**base)  # type: ignore[arg-type]


def test_a_cause_without_effect_is_lost_and_each_extra_effect_a_duplicate() -> None:
    effects = Counter({"a": 1, "b": 3, "other-row": 2})
    assert lost_and_duplicated(["a", "b", "c"], effects) == (1, 2)


def test_nothing_lost_nor_duplicated_when_each_cause_has_one_effect() -> None:
    assert lost_and_duplicated(["a", "b"], Counter({"a": 1, "b": 1})) == (0, 0)


def test_a_row_meets_the_goal_only_with_nothing_lost_doubled_or_left_undrained() -> None:
    assert figures().ok
    assert not figures(lost=1).ok
    assert not figures(duplicated=1).ok
    assert not figures(drain_s=None).ok


def test_the_table_has_one_line_per_row_with_its_command_and_flags_a_missed_goal() -> None:
    rows = [figures(), figures(fault="seats", title="seats", duplicated=2, drain_s=None)]
    commands = {"broker-restart": "make faults A", "seats": "make faults B"}
    lines = markdown(rows, commands).splitlines()
    assert len(lines) == 4
    assert lines[2].startswith("| broker stopped and restarted mid-stream | 200 | 160 | 0 | 0 |")
    assert "| 12.3 | `make faults A` | broker back in 9 s |" in lines[2]
    assert "not drained" in lines[3]
    assert "**goal not met**" in lines[3]


def test_every_row_runs_by_default_and_each_can_run_alone() -> None:
    assert parse_args([]).rows == list(ROWS)
    assert parse_args(["--rows", "seats"]).rows == ["seats"]
    assert row_command("seats", 200) == "make faults FAULTS_ARGS='--rows seats'"
    assert row_command("seats", 300) == "make faults FAULTS_ARGS='--rows seats --results 300'"


def test_a_row_that_could_not_run_says_why_and_shows_no_counts() -> None:
    row = Figures.failed("seats", "TimeoutError: enrolment does not know off-x")
    assert not row.ok
    line = markdown([row], {"seats": "make faults B"}).splitlines()[2]
    assert "| n/a | n/a |" in line
    assert "**row failed**: TimeoutError: enrolment does not know off-x" in line
