"""The few Kafka reads and writes the operator tools need, without a consumer group."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition

from shared.messaging.clients import kafka_connection

Record = Any  # aiokafka's ConsumerRecord; aiokafka ships no type hints


async def partitions(bootstrap: str, topic: str) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **kafka_connection())
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return sorted(
        TopicPartition(topic, p["partition"])
        for t in described
        if t["error_code"] == 0
        for p in t["partitions"]
    )


async def read_topic(bootstrap: str, topic: str) -> list[Record]:
    """Every record now on `topic` (none if it does not exist), in partition then offset order."""
    assigned = await partitions(bootstrap, topic)
    if not assigned:
        return []
    consumer = AIOKafkaConsumer(
        **kafka_connection(), bootstrap_servers=bootstrap, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends = await consumer.end_offsets(assigned)
        records: list[Record] = []
        while [tp for tp in assigned if await consumer.position(tp) < ends[tp]]:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(batch)
        return sorted(records, key=lambda r: (r.partition, r.offset))
    finally:
        await stop_consumer(consumer)


async def stop_consumer(consumer: AIOKafkaConsumer) -> None:
    try:
        await consumer.stop()
    except asyncio.CancelledError:
        # A group-less consumer stopped right after start re-raises its own fetch task's
        # cancellation; only a cancellation of the calling task is passed on.
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
