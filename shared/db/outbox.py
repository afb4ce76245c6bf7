"""The transactional outbox: events are rows written in the same transaction as the change.

The row shape follows Debezium's outbox router (aggregate type, aggregate id as the key,
type, payload) plus the CloudEvents attributes and the trace context of the transaction
that wrote it, so the relay can publish it later as if no time had passed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from opentelemetry import propagate
from pydantic import BaseModel
from sqlalchemy import DateTime, Index, Table, Text, text
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.clock import rfc3339, utc_now
from shared.db.statements import insert_all, insert_rows
from shared.envelope import CloudEvent
from shared.events import spec_for_model


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (
        Index(
            "ix_outbox_unpublished",
            "position",
            postgresql_where=text("published_at IS NULL"),
            sqlite_where=text("published_at IS NULL"),
        ),
    )

    position: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(unique=True, max_length=64)
    topic: str = Field(max_length=128)
    aggregate_id: str = Field(max_length=128)
    event_type: str = Field(max_length=128)
    source: str = Field(max_length=128)
    subject: str = Field(max_length=128)
    dataschema: str = Field(max_length=256)
    payload: str = Field(sa_type=Text)
    occurred_at: datetime = Field(sa_type=DateTime(timezone=True))
    traceparent: str | None = Field(default=None, max_length=64)
    tracestate: str | None = Field(default=None, max_length=512)
    published_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))

    @classmethod
    def for_event(cls, event: BaseModel, source: str) -> OutboxMessage:
        return cls(**row_for_event(event, source))

    def cloud_event(self) -> CloudEvent:
        return cloud_event(self)


OUTBOX: Table = OutboxMessage.__table__  # type: ignore[attr-defined]
# Every column but the position (given by the database, in the rows' order) and the mark.
_WRITE = insert_rows(
    OUTBOX, [c.name for c in OUTBOX.c if c.name not in {"position", "published_at"}]
)


def row_for_event(event: BaseModel, source: str) -> dict[str, Any]:
    """The outbox row of `event`, in the trace of the span that records it."""
    spec = spec_for_model(type(event))
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return {
        "event_id": str(uuid.uuid4()),
        "topic": spec.topic,
        "aggregate_id": spec.key(event),
        "event_type": spec.ce_type,
        "source": source,
        "subject": spec.subject(event),
        "dataschema": spec.schema_id,
        "payload": event.model_dump_json(exclude_none=True),
        "occurred_at": utc_now(),
        "traceparent": carrier.get("traceparent"),
        "tracestate": carrier.get("tracestate"),
    }


async def write(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Inserts the rows (made by `row_for_event`) in one statement, positions in their order
    (SQLAlchemy Core: no ORM object, identity map or flush per event)."""
    if rows:
        await insert_all(session, _WRITE, rows)


def cloud_event(row: Any) -> CloudEvent:
    """The event an outbox row (an OutboxMessage or a Core row of the table) announces."""
    return CloudEvent(
        id=row.event_id,
        source=row.source,
        type=row.event_type,
        subject=row.subject,
        time=rfc3339(row.occurred_at),
        data=row.payload.encode(),
        key=row.aggregate_id,
        dataschema=row.dataschema,
        traceparent=row.traceparent,
        tracestate=row.tracestate,
    )
