"""Rebuilding a stopped service's event-built views from the log.

A service names the tables it builds from events alone (`VIEW_TABLES` in its `tables.py`,
children before parents); the operator CLI (`python -m infra.ops`) passes their names here.
A rebuild rewinds the service's consumer group to the earliest offsets first, then empties
those tables and the consumer's inbox in one transaction; at its next start the service
applies the whole log again. Rewinding first means an interrupted rebuild leaves the views
intact: the replay then finds every event in the inbox.

Only tables whose handlers record no events belong in VIEW_TABLES: a handler that records
an event would record it again, with a new id, when the log is replayed.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import delete, table, text

from shared.db.engine import create_engine
from shared.messaging.clients import kafka_connection
from shared.ops.kafka import stop_consumer


class RebuildRefused(Exception):
    pass


async def active_members(bootstrap: str, group: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **kafka_connection())
    await admin.start()
    try:
        responses = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    # DescribeGroups v0+: (error_code, group_id, state, protocol_type, protocol, members, ...)
    return sum(len(g[5]) for response in responses for g in response.groups if g[1] == group)


async def rewind(bootstrap: str, group: str) -> int:
    """Commits the earliest offset for every partition the group has committed on; returns
    how many partitions it rewound."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **kafka_connection())
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    partitions = sorted(tp for tp, meta in committed.items() if meta.offset >= 0)
    if not partitions:
        return 0
    # Not a group member: it commits for the (empty) group without joining it.
    consumer = AIOKafkaConsumer(
        **kafka_connection(), bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        earliest = await consumer.beginning_offsets(partitions)
        await consumer.commit({tp: earliest[tp] for tp in partitions})
    finally:
        await stop_consumer(consumer)
    return len(partitions)


async def clear(database_url: str, consumer: str, tables: Sequence[str]) -> dict[str, int]:
    """Empties the views and the consumer's inbox together; rows deleted per table."""
    engine = create_engine(database_url)
    deleted: dict[str, int] = {}
    try:
        async with engine.begin() as connection:
            for name in tables:
                result = await connection.execute(delete(table(name)))
                deleted[name] = result.rowcount
            result = await connection.execute(
                text("DELETE FROM inbox WHERE consumer = :consumer"), {"consumer": consumer}
            )
            deleted["inbox"] = result.rowcount
    finally:
        await engine.dispose()
    return deleted


async def rebuild_views(
    bootstrap: str, database_url: str, service: str, consumer: str, tables: Sequence[str]
) -> str:
    if not tables:
        raise RebuildRefused(
            f"{service} declares no event-built views (VIEW_TABLES in its tables.py)"
        )
    members = await active_members(bootstrap, consumer)
    if members:
        raise RebuildRefused(
            f"consumer group {consumer} has {members} active member(s): stop {service} first"
        )
    rewound = await rewind(bootstrap, consumer)
    deleted = await clear(database_url, consumer, tables)
    counts = ", ".join(f"{table}: {count}" for table, count in deleted.items())
    return (
        f"{consumer}: rewound {rewound} partition(s) to the earliest offset; "
        f"deleted rows ({counts}). Start {service} to rebuild its views from the log."
    )
