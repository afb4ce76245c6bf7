"""What the running fault stack holds: the services' databases, the dead letters and the
consumer groups' lag, read from outside (the services are not asked to count for us)."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bench.observe import header, partitions_of
from infra.profiles import DATABASES, Profile
from infra.topics import alliance_topics
from shared.events import ResultRecorded, spec_for_model
from shared.messaging.clients import kafka_connection
from shared.messaging.dead_letter import dead_letter_topic
from shared.ops.kafka import read_topic, stop_consumer

POLL_S = 0.25


async def wait_for(condition: Callable[[], Awaitable[bool]], timeout_s: float) -> bool:
    """Polls `condition` until it holds (True) or `timeout_s` passed (False); a probe that
    fails while a part is down counts as not yet."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if await condition():
                return True
        except (OSError, SQLAlchemyError, TimeoutError):
            pass
        except KafkaError as exc:
            # A restarted broker answers "still loading" (the group coordinator) for a while.
            if not exc.retriable:
                raise
        await asyncio.sleep(POLL_S)
    return False


class Databases:
    """Read-only queries on the services' databases."""

    def __init__(self, profile: Profile) -> None:
        # Pre-ping: the suite restarts PostgreSQL under these pools.
        self._engines: dict[str, AsyncEngine] = {
            name: create_async_engine(profile.database_url(name), pool_pre_ping=True, pool_size=2)
            for name in DATABASES
        }

    async def _rows(self, database: str, sql: str, **params: str) -> list[tuple[str, int]]:
        async with self._engines[database].connect() as connection:
            result = await connection.execute(text(sql), params)
            return [(str(row[0]), int(row[1])) for row in result]

    async def credentials(self, offering_id: str) -> Counter[str]:
        """learner id -> credentials issued for a result in `offering_id`."""
        rows = await self._rows(
            "issuance",
            "SELECT learner_id, count(*) FROM credentials "
            "WHERE offering_id = :offering AND basis = 'result' GROUP BY learner_id",
            offering=offering_id,
        )
        return Counter(dict(rows))

    async def enrolments(self, offering_id: str, status: str) -> Counter[str]:
        """learner id -> the enrolment service's enrolments in `offering_id` with `status`."""
        rows = await self._rows(
            "enrolment",
            "SELECT learner_id, count(*) FROM enrolments "
            "WHERE offering_id = :offering AND status = :status GROUP BY learner_id",
            offering=offering_id,
            status=status,
        )
        return Counter(dict(rows))

    async def known_enrolments(self, offering_id: str) -> int:
        """Accepted enrolments the assessment service has read (results wait for them)."""
        rows = await self._rows(
            "assessment",
            "SELECT 'all', count(*) FROM enrolments WHERE offering_id = :offering",
            offering=offering_id,
        )
        return rows[0][1]

    async def issuance_knows(self, offering_id: str) -> bool:
        rows = await self._rows(
            "issuance",
            "SELECT 'all', count(*) FROM offering_terms WHERE offering_id = :offering",
            offering=offering_id,
        )
        return rows[0][1] > 0

    async def close(self) -> None:
        for engine in self._engines.values():
            await engine.dispose()


async def dead_letters(bootstrap: str) -> int:
    """Records on every dead-letter topic (their end offsets: nothing is ever deleted)."""
    topics = [topic for topic in alliance_topics() if topic.endswith(dead_letter_topic(""))]
    consumer = AIOKafkaConsumer(
        **kafka_connection(), bootstrap_servers=bootstrap, enable_auto_commit=False
    )
    await consumer.start()
    try:
        ends = await consumer.end_offsets(await partitions_of(bootstrap, topics))
    finally:
        await stop_consumer(consumer)
    return sum(ends.values())


async def groups(bootstrap: str) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **kafka_connection())
    await admin.start()
    try:
        return sorted(group for group, _ in await admin.list_consumer_groups())
    finally:
        await admin.close()


async def lag(bootstrap: str) -> int:
    """Records the consumer groups have not yet committed past, over every group."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **kafka_connection())
    await admin.start()
    try:
        committed = {
            (group, tp): meta.offset
            for group, _ in await admin.list_consumer_groups()
            for tp, meta in (await admin.list_consumer_group_offsets(group)).items()
            if meta.offset >= 0
        }
    finally:
        await admin.close()
    if not committed:
        return 0
    consumer = AIOKafkaConsumer(
        **kafka_connection(), bootstrap_servers=bootstrap, enable_auto_commit=False
    )
    await consumer.start()
    try:
        ends = await consumer.end_offsets(sorted({tp for _, tp in committed}))
    finally:
        await stop_consumer(consumer)
    return sum(max(0, ends[tp] - offset) for (_, tp), offset in committed.items())


async def recorded_twice(bootstrap: str, offering_id: str) -> int:
    """Records on the log repeating an earlier result_recorded event of `offering_id` (same
    event id): the at-least-once repeats the consumers must absorb."""
    spec = spec_for_model(ResultRecorded)
    seen: set[str] = set()
    repeats = 0
    for record in await read_topic(bootstrap, spec.topic):
        if header(record.headers, "ce_type") != spec.ce_type:
            continue
        if json.loads(record.value).get("offering_id") != offering_id:
            continue
        event_id = header(record.headers, "ce_id")
        repeats += event_id in seen
        seen.add(event_id)
    return repeats
