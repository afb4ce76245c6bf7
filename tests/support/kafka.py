"""Reading what really reached the broker, for assertions."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete
from aiokafka.structs import TopicPartition

from shared.messaging.clients import kafka_connection, librdkafka_options
from shared.ops.kafka import Record as Record, partitions, read_topic, stop_consumer


def principal_env(principal: str) -> dict[str, str]:
    """The environment of a process that connects as `principal` (a service, a partner):
    its own name and password, and not the others'. Empty when this session connects
    without credentials (a broker given in the environment, testcontainers)."""
    settings = kafka_connection(principal)
    if "sasl_plain_username" not in settings:
        return {}
    return {
        "KAFKA_SASL_USERNAME": principal,
        "KAFKA_SASL_PASSWORD": settings["sasl_plain_password"],
        "KAFKA_CREDENTIALS_FILE": "",
    }


def kcat_options(principal: str | None = None) -> list[str]:
    """kcat's `-X` arguments for connecting as `principal` (default: this session's)."""
    return [arg for k, v in librdkafka_options(principal).items() for arg in ("-X", f"{k}={v}")]


def header(record: Record, name: str) -> str | None:
    for key, value in record.headers:
        if key == name:
            return bytes(value).decode()
    return None


async def read_all(bootstrap: str, topic: str) -> list[Record]:
    """Every record on `topic` up to its current end (no consumer group involved)."""
    return await read_topic(bootstrap, topic)


async def wait_for(
    bootstrap: str, topic: str, found: Callable[[list[Record]], bool], timeout_s: float = 30.0
) -> list[Record]:
    """Reads `topic` until `found(records)` holds; fails with what it saw on timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        records = await read_all(bootstrap, topic)
        if found(records):
            return records
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting on {topic}; it holds {len(records)} records")
        await asyncio.sleep(0.3)


def with_event_id(records: list[Record], event_id: str) -> list[Record]:
    return [r for r in records if header(r, "ce_id") == event_id]


async def committed_offset(bootstrap: str, group: str, topic: str, partition: int) -> int | None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **kafka_connection())
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    meta = offsets.get(TopicPartition(topic, partition))
    return None if meta is None or meta.offset < 0 else int(meta.offset)


async def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    assigned = await partitions(bootstrap, topic)
    consumer = AIOKafkaConsumer(
        **kafka_connection(), bootstrap_servers=bootstrap, enable_auto_commit=False
    )
    await consumer.start()
    try:
        ends = await consumer.end_offsets(assigned)
    finally:
        await stop_consumer(consumer)
    return {tp.partition: int(offset) for tp, offset in ends.items()}


async def wait_until_caught_up(
    bootstrap: str, group: str, topic: str, timeout_s: float = 90
) -> None:
    """Waits until `group` has applied every record now on `topic`. A group that has had
    nothing to apply (the log starts at its end) commits nothing and is caught up too."""
    deadline = time.monotonic() + timeout_s
    starts, ends = await _log_bounds(bootstrap, topic)
    while True:
        committed = {
            p: await committed_offset(bootstrap, group, topic, p) or 0
            for p, end in ends.items()
            if end > starts[p]
        }
        behind = {p: f"{at} of {ends[p]}" for p, at in committed.items() if at < ends[p]}
        if not behind:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{group} still behind on {topic} (committed of end): {behind}")
        await asyncio.sleep(0.3)


async def _log_bounds(bootstrap: str, topic: str) -> tuple[dict[int, int], dict[int, int]]:
    assigned = await partitions(bootstrap, topic)
    consumer = AIOKafkaConsumer(
        **kafka_connection(), bootstrap_servers=bootstrap, enable_auto_commit=False
    )
    await consumer.start()
    try:
        starts = await consumer.beginning_offsets(assigned)
        ends = await consumer.end_offsets(assigned)
    finally:
        await stop_consumer(consumer)
    return (
        {tp.partition: int(o) for tp, o in starts.items()},
        {tp.partition: int(o) for tp, o in ends.items()},
    )


async def forget_history(bootstrap: str, topics: list[str]) -> None:
    """Deletes every record now on `topics` (the topics stay): new consumer groups, which
    read from the earliest offset, then start where this test session starts."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **kafka_connection())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        ends: dict[TopicPartition, RecordsToDelete] = {}
        for topic in topics:
            if topic in existing:
                for partition, end in (await end_offsets(bootstrap, topic)).items():
                    if end:
                        ends[TopicPartition(topic, partition)] = RecordsToDelete(end)
        if ends:
            await admin.delete_records(ends)
    finally:
        await admin.close()


async def start_at_the_end(bootstrap: str, group: str, topics: list[str]) -> None:
    """Commits the end of `topics` for a consumer group that has not started yet, so it
    applies only what is published from now on, not the session's history."""
    ends = {
        TopicPartition(topic, partition): end
        for topic in topics
        for partition, end in (await end_offsets(bootstrap, topic)).items()
    }
    consumer = AIOKafkaConsumer(
        **kafka_connection(), bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(list(ends))
        await consumer.commit(ends)
    finally:
        await stop_consumer(consumer)
