"""An idle consumer waits in its poll, which returns as soon as records come, and never in a
pause after a poll that found nothing (FastStream's own batch subscriber pauses there, so a
record arriving then waited at every consumer on its way)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import anyio
import pytest

from shared.event_runtime import IDLE_POLL_MS
from shared.settings import ServiceSettings


class PollingConsumer:
    """Answers each poll with the next of `polls` (partition -> records) and keeps the
    timeouts it was asked to wait."""

    def __init__(self, *polls: dict[str, list[str]]) -> None:
        self._polls = list(polls)
        self.timeouts: list[int] = []

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[str, list[str]]:
        self.timeouts.append(timeout_ms)
        return self._polls.pop(0)


def _subscriber(service: str, tmp_path: Path) -> Any:
    bootstrap = importlib.import_module(f"services.{service}.bootstrap").bootstrap
    app = bootstrap(
        ServiceSettings(
            service_name=service, database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
        )
    )
    return app.state.runtime._subscriber


@pytest.mark.parametrize("service", ["enrolment", "assessment", "issuance", "recognition"])
async def test_an_empty_poll_goes_straight_back_to_polling(
    service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def paused(_: float) -> None:
        raise AssertionError("the consumer paused after an empty poll")

    monkeypatch.setattr(anyio, "sleep", paused)
    subscriber = _subscriber(service, tmp_path)
    consumer = PollingConsumer({}, {"p0": ["a", "b"], "p1": ["c"]})

    assert await subscriber.get_msg(consumer) == ()
    assert await subscriber.get_msg(consumer) == ("a", "b", "c")
    assert consumer.timeouts == [IDLE_POLL_MS, IDLE_POLL_MS]
