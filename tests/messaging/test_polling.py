"""An idle consumer waits in its poll, which returns as soon as records come, and never in a
pause after a poll that found nothing (FastStream's own batch subscriber pauses there, so a
record arriving then waited at every consumer on its way); on a busy stream a poll takes what
comes a moment later too; what a poll brings is applied in time order; a poll that fails
before it is applied is read again."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import anyio
import pytest
from aiokafka import ConsumerRecord, TopicPartition

from shared.event_runtime import IDLE_POLL_MS, UNREAD_BACKOFF_S, in_time_order
from shared.messaging.dead_letter import ConsumedRecord
from shared.settings import ServiceSettings
from tests.support.sqlite import built_app


class PollingConsumer:
    """Answers each poll with the next of `polls` (partition -> records) and keeps the
    timeouts it was asked to wait; a poll asks for all the records held, with no cap."""

    def __init__(self, *polls: dict[str, list[str]]) -> None:
        self._polls = list(polls)
        self.timeouts: list[int] = []

    async def getmany(self, timeout_ms: int) -> dict[str, list[str]]:
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
    # Each poll first asks for what is waiting, then waits in the poll (see below).
    consumer = PollingConsumer({}, {}, {}, {"p0": ["a", "b"], "p1": ["c"]})

    assert await subscriber.get_msg(consumer) == ()
    assert await subscriber.get_msg(consumer) == ("a", "b", "c")
    assert consumer.timeouts == [0, IDLE_POLL_MS, 0, IDLE_POLL_MS]


class Lingering:
    """Notes how long a poll waited outside the consumer's poll."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.mark.parametrize("service", ["enrolment", "assessment", "issuance", "recognition"])
async def test_on_a_busy_stream_a_poll_takes_what_comes_a_moment_later(
    service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Records that came while the last poll was applied mean a busy stream: the poll waits
    `consumer_linger_s` and takes what arrived meanwhile into the same run (one transaction,
    one offset commit). A quiet stream's record is applied as soon as it comes, and with the
    linger set to 0 every poll is taken as it came."""
    subscriber = built_app(service, tmp_path).state.runtime._subscriber
    linger = ServiceSettings.model_fields["consumer_linger_s"].default
    assert subscriber.linger_s == linger > 0
    lingering = Lingering()
    monkeypatch.setattr(asyncio, "sleep", lingering.sleep)

    busy = PollingConsumer({"p0": ["a"]}, {"p0": ["b"], "p1": ["c"]})
    assert await subscriber.get_msg(busy) == ("a", "b", "c")
    assert (busy.timeouts, lingering.waits) == ([0, 0], [linger])

    quiet = PollingConsumer({}, {"p0": ["d"]})
    assert await subscriber.get_msg(quiet) == ("d",)
    assert (quiet.timeouts, lingering.waits) == ([0, IDLE_POLL_MS], [linger])

    subscriber.linger_s = 0
    unlingered = PollingConsumer({"p0": ["e"]}, {"p0": ["f"]})
    assert await subscriber.get_msg(unlingered) == ("e",)
    assert (unlingered.timeouts, lingering.waits) == ([IDLE_POLL_MS], [linger])


@pytest.mark.parametrize("service", ["enrolment", "assessment", "issuance", "recognition"])
def test_a_started_consumer_fetches_after_each_poll(service: str, tmp_path: Path) -> None:
    """What `fetch_after_each_poll` does on the broker: tests/integration/test_slow_poll.py."""
    subscriber = built_app(service, tmp_path).state.runtime._subscriber
    fetcher = SimpleNamespace(_prefetch_backoff=0.1)  # aiokafka's default
    subscriber.consumer = SimpleNamespace(_fetcher=fetcher)
    subscriber._post_start()
    assert fetcher._prefetch_backoff == UNREAD_BACKOFF_S


def _raw(topic: str, partition: int, offset: int, timestamp: int) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic, partition, offset, timestamp, 0, b"k", f"{topic}@{offset}".encode(), None, 1, 9,
        [("ce_id", f"{topic}-{offset}".encode())],
    )  # fmt: skip


def test_a_poll_is_applied_in_time_order_keeping_each_partitions_order() -> None:
    """A result polled before the enrolment it is about (another topic, an earlier event)
    is applied after it, in the same run; within a partition the log's order stands even
    when its timestamps do not agree (two producers of one partition)."""
    enrolment = _raw("alliance.enrolments", 0, 7, timestamp=1_000)
    result = _raw("alliance.results", 2, 40, timestamp=2_000)
    later_result = _raw("alliance.results", 2, 41, timestamp=1_500)
    offering = _raw("alliance.offerings", 1, 3, timestamp=1_800)

    run = in_time_order([result, later_result, offering, enrolment])

    assert [(r.topic, r.offset) for r in run] == [
        ("alliance.enrolments", 7),
        ("alliance.offerings", 3),
        ("alliance.results", 40),
        ("alliance.results", 41),
    ]
    assert run[0] == ConsumedRecord(
        "alliance.enrolments", 0, 7, b"k", b"alliance.enrolments@7",
        (("ce_id", b"alliance.enrolments-7"),),
    )  # fmt: skip


class RewindingConsumer:
    """Holds `held` partitions and keeps where it was asked to seek."""

    def __init__(self, *held: TopicPartition) -> None:
        self._held = set(held)
        self.seeks: list[tuple[TopicPartition, int]] = []

    def assignment(self) -> set[TopicPartition]:
        return self._held

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self.seeks.append((partition, offset))


async def test_a_poll_that_fails_before_its_handler_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FastStream would log the failure and poll on from past the records (and the next
    acknowledged poll commit past them): each partition still held is rewound to its first
    record of the poll instead, after a pause."""
    runtime = built_app("assessment", tmp_path).state.runtime
    subscriber = runtime._subscriber
    enrolments, results = (
        TopicPartition("alliance.enrolments", 0),
        TopicPartition("alliance.results", 2),
    )
    consumer = RewindingConsumer(enrolments, results)
    monkeypatch.setattr(subscriber, "consumer", consumer)
    monkeypatch.setattr(subscriber, "running", True)
    attempts: list[int] = []

    async def failing(records: tuple[ConsumerRecord[bytes, bytes], ...]) -> None:
        attempts.append(len(records))
        raise SystemError("bad argument to internal function")

    pauses: list[float] = []

    async def pause(seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr(subscriber, "process_message", failing)
    monkeypatch.setattr(asyncio, "sleep", pause)
    poll = (
        _raw("alliance.enrolments", 0, 7, timestamp=1_000),
        _raw("alliance.results", 2, 41, timestamp=2_000),
        _raw("alliance.enrolments", 0, 8, timestamp=3_000),
        _raw("alliance.results", 2, 40, timestamp=1_500),
        _raw("alliance.results", 1, 12, timestamp=1_700),  # lost to a rebalance meanwhile
    )

    await subscriber.consume_one(poll)

    assert attempts == [5]
    assert sorted(consumer.seeks) == [(enrolments, 7), (results, 40)]
    assert pauses == [runtime.settings.consumer_backoff_max_s]
