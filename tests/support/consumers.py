"""The shared consumer runtime, assembled for a test around a handler of the test's own."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db.engine import session_factory
from shared.db.uow import UnitOfWork, UnitOfWorkFactory
from shared.messaging.consumer import EventConsumer, RetryPolicy
from shared.messaging.dead_letter import ConsumedRecord, DeadLetters
from shared.ops.kafka import Record
from shared.registry import AllianceRegistry

Parked = list[tuple[str, bytes | None, list[tuple[str, bytes]]]]


def consumer_for(
    engine: AsyncEngine,
    name: str,
    retry: RetryPolicy = RetryPolicy(max_attempts=3, initial_backoff_s=0.01),  # noqa: B008
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> tuple[EventConsumer[UnitOfWork], Parked]:
    """A consumer whose dead letters are kept in a list instead of a topic."""
    parked: Parked = []

    async def park(
        topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None:
        parked.append((topic, value, headers))

    units_of_work = UnitOfWorkFactory(
        UnitOfWork, session_factory(engine), "urn:alliance:service:catalogue"
    )
    kwargs = {"sleep": sleep} if sleep else {}
    consumer = EventConsumer(
        name, AllianceRegistry.load(), units_of_work, DeadLetters(name, park), retry, **kwargs
    )
    return consumer, parked


def as_consumed(record: Record) -> ConsumedRecord:
    return ConsumedRecord(
        record.topic, record.partition, record.offset, record.key, record.value,
        tuple(record.headers),
    )  # fmt: skip
