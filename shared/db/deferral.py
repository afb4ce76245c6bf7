"""Events that arrived before a fact they depend on, kept until that fact arrives.

Kafka orders events within a partition only: a result may be read before the enrolment it
is about (another topic), above all when a new consumer replays the log. Blocking would
stall the very consumer that must apply the missing fact, so the event is kept here, in
the same transaction that commits its offset, and applied again when a handler releases
what it was waiting for.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from opentelemetry import propagate
from sqlalchemy import DateTime, Row, Table, Text, bindparam, delete, select as core_select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.clock import utc_now
from shared.db.statements import execute_on, with_list
from shared.messaging.dead_letter import ConsumedRecord


class DeferredEvent(SQLModel, table=True):
    __tablename__ = "deferred_events"

    position: int | None = Field(default=None, primary_key=True)
    consumer: str = Field(max_length=64)
    waiting_for: str = Field(index=True, max_length=160)
    reason: str = Field(sa_type=Text)
    topic: str = Field(max_length=128)
    partition: int
    offset: int
    key: str | None = Field(default=None, sa_type=Text)
    value: str = Field(sa_type=Text)
    headers: str = Field(sa_type=Text)  # JSON list of [name, value]
    deferred_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))


DEFERRED: Table = DeferredEvent.__table__  # type: ignore[attr-defined]


def defer(
    session: AsyncSession, consumer: str, record: ConsumedRecord, waiting_for: str, reason: str
) -> DeferredEvent:
    """Keeps the record; its `position` is known once the transaction is flushed."""
    deferred = DeferredEvent(
        consumer=consumer,
        waiting_for=waiting_for,
        reason=reason,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key.decode() if record.key is not None else None,
        value=(record.value or b"").decode(),
        headers=json.dumps([[k, v] for k, v in _with_current_trace(record.headers)]),
    )
    session.add(deferred)
    return deferred


def _with_current_trace(headers: tuple[tuple[str, bytes], ...]) -> list[tuple[str, str]]:
    """The record's headers, its trace context replaced by that of the span deferring it, so
    that applying it later continues the same trace (as the outbox does for events)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    kept = [(k, v.decode()) for k, v in headers if k not in carrier]
    return kept + list(carrier.items()) if carrier else [(k, v.decode()) for k, v in headers]


# Asked after every commit that released a fact, and mostly empty: built once, run alone.
_PENDING = with_list(
    lambda one_of: (
        core_select(DEFERRED)
        .where(
            DEFERRED.c.consumer == bindparam("consumer"), one_of(DEFERRED.c.waiting_for, "facts")
        )
        .order_by(DEFERRED.c.position)
    )
)


async def pending(
    engine: AsyncEngine, consumer: str, facts: Sequence[str]
) -> list[tuple[int, ConsumedRecord]]:
    """The events waiting for any of `facts`, in arrival order, with their positions: one
    read in autocommit, without a transaction to begin and roll back around it."""
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        rows = (
            await execute_on(connection, _PENDING, {"consumer": consumer, "facts": facts})
        ).all()
    return [(int(r.position), as_record(r)) for r in rows]


async def waiting_since(
    session: AsyncSession, consumer: str, before: datetime | None = None
) -> list[DeferredEvent]:
    """The events still waiting (those deferred before `before`, if given), oldest first;
    rows taken for expiry are locked so that two instances do not expire the same one."""
    query = select(DeferredEvent).where(col(DeferredEvent.consumer) == consumer)
    if before is not None:
        query = query.where(col(DeferredEvent.deferred_at) < before).with_for_update(
            skip_locked=True
        )
    return list((await session.exec(query.order_by(col(DeferredEvent.position)))).all())


def as_record(deferred: DeferredEvent | Row[Any]) -> ConsumedRecord:
    """The record as kept, its trace context that of the span that deferred it."""
    return ConsumedRecord(
        deferred.topic,
        deferred.partition,
        deferred.offset,
        deferred.key.encode() if deferred.key is not None else None,
        deferred.value.encode(),
        tuple((k, v.encode()) for k, v in json.loads(deferred.headers)),
    )


async def forget(session: AsyncSession, position: int) -> None:
    """Drops a deferred event; done in the transaction that applies or re-defers it."""
    await session.exec(delete(DeferredEvent).where(col(DeferredEvent.position) == position))
