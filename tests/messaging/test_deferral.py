"""An event that arrives before the fact it depends on waits, then is applied once."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel, select

from shared.db.deferral import DeferredEvent
from shared.db.uow import UnitOfWork
from shared.events import OfferingPublished, OfferingWithdrawn
from shared.messaging.consumer import Deferred, EventContext, Outcome
from shared.partner_system import demo_signer, signed_event
from tests.messaging.test_consumer import _record
from tests.support.builders import offering_published, offering_withdrawn
from tests.support.consumers import consumer_for


async def test_a_deferred_event_is_applied_when_its_fact_is_released(
    sqlite_engine: AsyncEngine,
) -> None:
    async with sqlite_engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all, tables=[DeferredEvent.__table__])  # type: ignore[attr-defined]
    consumer, parked = consumer_for(sqlite_engine, "c")
    known: set[str] = set()
    withdrawn_applied: list[str] = []

    @consumer.handles(OfferingPublished)
    async def publish(event: OfferingPublished, ctx: EventContext, uow: UnitOfWork) -> None:
        known.add(event.offering_id)
        uow.release(f"offering:{event.offering_id}")

    @consumer.handles(OfferingWithdrawn)
    async def withdraw(event: OfferingWithdrawn, ctx: EventContext, uow: UnitOfWork) -> None:
        if event.offering_id not in known:
            raise Deferred(f"offering:{event.offering_id}", "the offering is not known yet")
        withdrawn_applied.append(event.offering_id)

    signer = demo_signer("nordhavn")
    published = offering_published("nordhavn")
    early = signed_event(signer, offering_withdrawn(published, version=2))

    assert await consumer.consume(_record(early, offset=1)) is Outcome.DEFERRED
    assert withdrawn_applied == []
    # A redelivery of the deferred event waits too, and is not applied twice later.
    assert await consumer.consume(_record(early, offset=1)) is Outcome.DEFERRED

    assert (
        await consumer.consume(_record(signed_event(signer, published), offset=2))
        is Outcome.APPLIED
    )
    assert withdrawn_applied == [published.offering_id]
    async with sqlite_engine.connect() as conn:
        assert (await conn.execute(select(DeferredEvent))).all() == []
    assert parked == []
