"""A poll applied slowly does not stall its consumer, on the real broker.

aiokafka fetches a partition whose records have waited 100 ms unread no more, and fetches the
consumer's other partitions without it; the broker holds that fetch as long as its wait when
those partitions are idle, and the partition read meanwhile is fetched again only once the
fetch returns. Here the broker's wait is 30 s and a busy topic is read beside an idle one,
each poll applied in 300 ms: with aiokafka's default a poll finds nothing within 10 s.
The services' consumers fetch after each poll (`fetch_after_each_poll`), and every poll finds
the records that came while the last one was applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.event_runtime import fetch_after_each_poll
from shared.messaging.clients import kafka_connection, producer
from tests.support.infra import Infrastructure

BROKER_WAIT_MS = 30_000
APPLIED_IN_S = 0.3  # longer than aiokafka's 100 ms
POLLS = 5


async def test_a_slow_poll_is_followed_by_the_records_that_came_meanwhile(
    infra: Infrastructure,
) -> None:
    bootstrap = infra.kafka_bootstrap_servers
    run = uuid.uuid4().hex[:8]
    busy, idle = f"test.slow-poll.busy.{run}", f"test.slow-poll.idle.{run}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **kafka_connection())
    await admin.start()
    await admin.create_topics([NewTopic(busy, 1, 1), NewTopic(idle, 1, 1)])
    sender = producer(bootstrap)
    consumer = AIOKafkaConsumer(
        busy,
        idle,
        bootstrap_servers=bootstrap,
        group_id=f"test-slow-poll-{run}",
        auto_offset_reset="earliest",
        fetch_max_wait_ms=BROKER_WAIT_MS,
        **kafka_connection(),
    )

    async def keep_sending() -> None:
        while True:
            await sender.send_and_wait(busy, b"a record")

    sending: asyncio.Task[None] | None = None
    try:
        await sender.start()
        sending = asyncio.create_task(keep_sending())
        await consumer.start()
        fetch_after_each_poll(consumer)
        for poll in range(POLLS):
            found = await consumer.getmany(timeout_ms=0) or await consumer.getmany(
                timeout_ms=10_000
            )
            assert found, f"poll {poll + 1} found nothing within 10 s of the last one"
            await asyncio.sleep(APPLIED_IN_S)  # the poll's work
    finally:
        # Also when a poll found nothing: the sender is stopped below.
        if sending is not None:
            sending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sending
        await consumer.stop()
        await sender.stop()
        await admin.delete_topics([busy, idle])
        await admin.close()
