"""The inbox: ids of the events a consumer has already applied, written with the effect."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import DateTime, Table
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.clock import utc_now
from shared.db.statements import insert_all, insert_rows


class ProcessedEvent(SQLModel, table=True):
    __tablename__ = "inbox"

    consumer: str = Field(primary_key=True, max_length=64)
    event_id: str = Field(primary_key=True, max_length=64)
    event_type: str = Field(max_length=128)
    processed_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))


INBOX: Table = ProcessedEvent.__table__  # type: ignore[attr-defined]
# Built once: the statement's cache key and compiled form are reused for every claim.
_CLAIM = insert_rows(
    INBOX,
    ["consumer", "event_id", "event_type", "processed_at"],
    returning=INBOX.c.event_id,
    skip_existing=True,
)


async def claim_all(
    session: AsyncSession, consumer: str, events: Sequence[tuple[str, str]]
) -> set[str]:
    """Records the events (id, type) as applied in one statement; returns the ids that were
    new. A concurrent claim of the same id waits for the other transaction and loses if it
    commits, so an event is applied once even by two consumers at a time. A Core statement
    on the transaction's connection: the ORM's bulk-insert path costs more than the insert."""
    if not events:
        return set()
    now = utc_now()
    rows = [
        {"consumer": consumer, "event_id": i, "event_type": t, "processed_at": now}
        for i, t in events
    ]
    return set((await insert_all(session, _CLAIM, rows)).scalars())


async def claim(session: AsyncSession, consumer: str, event_id: str, event_type: str) -> bool:
    """Records the event as applied; False when it already was (a redelivery)."""
    return bool(await claim_all(session, consumer, [(event_id, event_type)]))
