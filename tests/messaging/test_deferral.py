"""An event that arrives before the fact it depends on waits, then is applied once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel, select, update

from shared.db.deferral import DeferredEvent
from shared.db.uow import UnitOfWork
from shared.errors import NotYet
from shared.events import OfferingPublished, OfferingWithdrawn
from shared.messaging.consumer import EventContext, Outcome
from shared.partner_system import demo_signer, signed_event
from tests.messaging.test_consumer import _record
from tests.support.builders import offering_published, offering_withdrawn
from tests.support.consumers import consumer_for


async def _with_deferral_table(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all, tables=[DeferredEvent.__table__])  # type: ignore[attr-defined]


async def test_a_deferred_event_is_applied_when_its_fact_is_released(
    sqlite_engine: AsyncEngine,
) -> None:
    await _with_deferral_table(sqlite_engine)
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
            raise NotYet(f"offering:{event.offering_id}", "the offering is not known yet")
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


async def test_a_fact_committed_while_the_event_was_being_deferred_is_seen_at_once(
    sqlite_engine: AsyncEngine,
) -> None:
    """Another partition (or instance) may commit the fact after the handler looked for it
    and release it before the deferral is visible; the consumer looks once more itself."""
    await _with_deferral_table(sqlite_engine)
    consumer, parked = consumer_for(sqlite_engine, "c")
    looks: list[str] = []

    @consumer.handles(OfferingWithdrawn)
    async def withdraw(event: OfferingWithdrawn, ctx: EventContext, uow: UnitOfWork) -> None:
        looks.append(event.offering_id)
        if len(looks) == 1:  # the first look misses the fact committed meanwhile
            raise NotYet(f"offering:{event.offering_id}", "the offering is not known yet")

    published = offering_published("nordhavn")
    early = signed_event(demo_signer("nordhavn"), offering_withdrawn(published, version=2))

    assert await consumer.consume(_record(early, offset=1)) is Outcome.DEFERRED
    assert looks == [published.offering_id] * 2
    async with sqlite_engine.connect() as conn:
        assert (await conn.execute(select(DeferredEvent))).all() == []
    # Applied by the second look, so a redelivery is a duplicate.
    assert await consumer.consume(_record(early, offset=1)) is Outcome.DUPLICATE
    assert parked == []


async def test_many_events_waiting_for_one_fact_are_each_looked_at_twice_not_quadratically(
    sqlite_engine: AsyncEngine,
) -> None:
    await _with_deferral_table(sqlite_engine)
    consumer, _ = consumer_for(sqlite_engine, "c")
    looks = 0

    @consumer.handles(OfferingWithdrawn)
    async def withdraw(event: OfferingWithdrawn, ctx: EventContext, uow: UnitOfWork) -> None:
        nonlocal looks
        looks += 1
        raise NotYet("offering:never", "the offering is not known yet")

    signer = demo_signer("nordhavn")
    for offset in range(20):
        withdrawn = offering_withdrawn(offering_published("nordhavn"), version=2)
        assert (
            await consumer.consume(_record(signed_event(signer, withdrawn), offset=offset))
            is Outcome.DEFERRED
        )
    assert looks == 40
    async with sqlite_engine.connect() as conn:
        assert len((await conn.execute(select(DeferredEvent))).all()) == 20


async def test_an_event_waiting_longer_than_the_bound_is_dead_lettered_with_that_reason(
    sqlite_engine: AsyncEngine,
) -> None:
    await _with_deferral_table(sqlite_engine)
    consumer, parked = consumer_for(sqlite_engine, "c")

    @consumer.handles(OfferingWithdrawn)
    async def withdraw(event: OfferingWithdrawn, ctx: EventContext, uow: UnitOfWork) -> None:
        raise NotYet(f"offering:{event.offering_id}", "the offering is not known yet")

    signer = demo_signer("nordhavn")
    old, young = (offering_withdrawn(offering_published("nordhavn"), 2) for _ in range(2))
    assert await consumer.consume(_record(signed_event(signer, old))) is Outcome.DEFERRED
    async with sqlite_engine.begin() as conn:
        await conn.execute(
            update(DeferredEvent).values(
                deferred_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
            )
        )
    assert await consumer.consume(_record(signed_event(signer, young))) is Outcome.DEFERRED

    assert await consumer.expire_deferred(waited_s=3600) == 1
    assert len(parked) == 1
    reason = dict(parked[0][2])
    assert reason["dlq_reason"] == b"waited-too-long"
    assert f"offering:{old.offering_id}".encode() in reason["dlq_detail"]
    async with sqlite_engine.connect() as conn:
        waiting = (await conn.execute(select(DeferredEvent.waiting_for))).scalars().all()
    assert waiting == [f"offering:{young.offering_id}"]
    assert await consumer.expire_deferred(waited_s=3600) == 0
