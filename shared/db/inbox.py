"""The inbox: ids of the events a consumer has already applied, written with the effect."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.db.outbox import utc_now


class ProcessedEvent(SQLModel, table=True):
    __tablename__ = "inbox"

    consumer: str = Field(primary_key=True, max_length=64)
    event_id: str = Field(primary_key=True, max_length=64)
    event_type: str = Field(max_length=128)
    processed_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))


async def claim(session: AsyncSession, consumer: str, event_id: str, event_type: str) -> bool:
    """Records the event as applied; False when it already was (a redelivery)."""
    seen = await session.exec(
        select(ProcessedEvent.event_id).where(
            ProcessedEvent.consumer == consumer, ProcessedEvent.event_id == event_id
        )
    )
    if seen.first() is not None:
        return False
    # A concurrent duplicate loses on the primary key at commit.
    session.add(ProcessedEvent(consumer=consumer, event_id=event_id, event_type=event_type))
    return True
