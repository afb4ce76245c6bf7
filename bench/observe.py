"""Reads every alliance topic from the moment a run starts, as a bystander (no consumer group).

Counts and sizes every record, and keeps the payload of the few event types the journeys are
measured and checked by. Times are the records' Kafka timestamps (set by the producer when it
sends, on this machine's clock), so the reader's own delay does not count as latency.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from infra.topics import alliance_topics
from shared.messaging.clients import kafka_connection
from shared.messaging.dead_letter import dead_letter_topic

DEAD_LETTER_SUFFIX = dead_letter_topic("")

# The event types whose payload the benchmark reads (the others are only counted).
KEPT_TYPES = frozenset(
    {
        "eu.alliance.enrolment.accepted.v1",
        "eu.alliance.assessment.result_recorded.v1",
        "eu.alliance.credential.issued.v1",
        "eu.alliance.pathway.completed.v1",
    }
)


@dataclass(frozen=True)
class Seen:
    event_type: str
    event_id: str
    moment: float
    payload: dict[str, Any]


def record_size(key: bytes | None, value: bytes | None, headers: Any) -> int:
    """Bytes of a record as the application hands it over: key, value and headers."""
    return (
        len(key or b"")
        + len(value or b"")
        + sum(len(name) + len(data or b"") for name, data in headers or ())
    )


def header(headers: Any, name: str) -> str:
    for key, value in headers or ():
        if key == name:
            return bytes(value).decode()
    return ""


async def partitions_of(bootstrap_servers: str, topics: Iterable[str]) -> list[TopicPartition]:
    """Every partition of `topics` (a consumer without a group knows only what it assigned)."""
    producer = AIOKafkaProducer(**kafka_connection(), bootstrap_servers=bootstrap_servers)
    await producer.start()
    try:
        return [
            TopicPartition(topic, partition)
            for topic in topics
            for partition in sorted(await producer.partitions_for(topic))
        ]
    finally:
        await producer.stop()


@dataclass
class Observer:
    bootstrap_servers: str
    on_event: Callable[[Seen], None] | None = None
    topics: tuple[str, ...] = field(default_factory=alliance_topics)
    records: int = 0
    bytes: int = 0
    moments: list[float] = field(default_factory=list)
    by_type: Counter[str] = field(default_factory=Counter)
    dead_letters: int = 0
    kept: list[Seen] = field(default_factory=list)
    _consumer: AIOKafkaConsumer | None = None
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(
            **kafka_connection(),
            bootstrap_servers=self.bootstrap_servers,
            enable_auto_commit=False,
            # Times come from the records, not from when they are read: the observer
            # fetches rarely and in bulk, so that it costs the broker (whose CPU the report
            # charges to the system) as little as it can.
            fetch_min_bytes=1 << 20,
            fetch_max_wait_ms=500,
            max_partition_fetch_bytes=4 << 20,
        )
        await consumer.start()
        partitions = await partitions_of(self.bootstrap_servers, self.topics)
        consumer.assign(partitions)
        for tp, offset in (await consumer.end_offsets(partitions)).items():
            consumer.seek(tp, offset)
        self._consumer = consumer
        self._task = asyncio.create_task(self._read(consumer), name="observer")

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=200, max_records=5000)
            for tp, batch in batches.items():
                dead_letter = tp.topic.endswith(DEAD_LETTER_SUFFIX)
                for record in batch:
                    self._count(record, dead_letter)

    def _count(self, record: Any, dead_letter: bool) -> None:
        self.records += 1
        self.bytes += record_size(record.key, record.value, record.headers)
        moment = record.timestamp / 1000
        self.moments.append(moment)
        if dead_letter:
            self.dead_letters += 1
            return
        event_type = header(record.headers, "ce_type")
        self.by_type[event_type] += 1
        if event_type in KEPT_TYPES:
            seen = Seen(
                event_type, header(record.headers, "ce_id"), moment, json.loads(record.value)
            )
            self.kept.append(seen)
            if self.on_event is not None:
                self.on_event(seen)

    async def caught_up(self) -> bool:
        """Whether everything on the broker now has been read."""
        consumer = self._consumer
        if consumer is None:
            return False
        partitions = list(consumer.assignment())
        ends = await consumer.end_offsets(partitions)
        for tp in partitions:
            if await consumer.position(tp) < ends[tp]:
                return False
        return True

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()
