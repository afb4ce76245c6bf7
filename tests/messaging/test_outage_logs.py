"""An outage costs one log line and a slow summary, not a line per reconnect attempt."""

from __future__ import annotations

import logging

from shared.logs import RepeatSummary


def _warning(message: str, *args: object, level: int = logging.WARNING) -> logging.LogRecord:
    return logging.LogRecord("aiokafka", level, __file__, 1, message, args, None)


def test_a_repeated_warning_is_shown_once_then_summarised_at_a_slow_pace() -> None:
    now = [0.0]
    summary = RepeatSummary(window_s=60, clock=lambda: now[0])
    shown = []
    for second in range(0, 130):  # ten reconnect warnings a second for 130 s
        now[0] = float(second)
        for _ in range(10):
            record = _warning('Unable connect to "%s:%s": %s', "127.0.0.1", 9092, "refused")
            if summary.filter(record):
                shown.append((second, record.getMessage()))
    assert [second for second, _ in shown] == [0, 60, 120]
    assert shown[0][1] == 'Unable connect to "127.0.0.1:9092": refused'
    assert shown[1][1].endswith("(599 more like this in the last 60 s)")


def test_other_warnings_and_information_are_not_held_back() -> None:
    summary = RepeatSummary(window_s=60, clock=lambda: 0.0)
    assert summary.filter(_warning("broker down"))
    assert summary.filter(_warning("database down"))
    assert summary.filter(_warning("ready", level=logging.INFO))
    assert summary.filter(_warning("ready", level=logging.INFO))
    assert not summary.filter(_warning("broker down"))
