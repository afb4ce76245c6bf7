"""An idle consumer waits in its poll, which returns as soon as records come, and never in a
pause after a poll that found nothing (FastStream's own batch subscriber pauses there, so a
record arriving then waited at every consumer on its way)."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from shared.event_runtime import IDLE_POLL_MS
from tests.support.sqlite import built_app


class PollingConsumer:
    """Answers each poll with the next of `polls` (partition -> records) and keeps the
    timeouts it was asked to wait."""

    def __init__(self, *polls: dict[str, list[str]]) -> None:
        self._polls = list(polls)
        self.timeouts: list[int] = []

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[str, list[str]]:
        self.timeouts.append(timeout_ms)
        return self._polls.pop(0)


@pytest.mark.parametrize("service", ["enrolment", "assessment", "issuance", "recognition"])
async def test_an_empty_poll_goes_straight_back_to_polling(
    service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def paused(_: float) -> None:
        raise AssertionError("the consumer paused after an empty poll")

    monkeypatch.setattr(anyio, "sleep", paused)
    subscriber = built_app(service, tmp_path).state.runtime._subscriber
    consumer = PollingConsumer({}, {"p0": ["a", "b"], "p1": ["c"]})

    assert await subscriber.get_msg(consumer) == ()
    assert await subscriber.get_msg(consumer) == ("a", "b", "c")
    assert consumer.timeouts == [IDLE_POLL_MS, IDLE_POLL_MS]
