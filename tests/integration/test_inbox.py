"""Inbox: an event redelivered any number of times has one effect.

The same signed event is sent five times to the real broker; every copy read back is handed
to the shared consumer runtime over a real PostgreSQL, with a handler that would record one
row per application if nothing stopped it.
"""

from __future__ import annotations

import uuid

from sqlalchemy import text

from shared.db.uow import UnitOfWork
from shared.events import OfferingPublished
from shared.messaging.consumer import EventContext, Outcome
from shared.partner_system import PartnerSystem, demo_signer, signed_event
from tests.conftest import MigratedEngine
from tests.support.builders import offering_published
from tests.support.consumers import as_consumed, consumer_for
from tests.support.infra import Infrastructure
from tests.support.kafka import wait_for, with_event_id


async def test_redelivered_event_is_applied_once(
    infra: Infrastructure, migrated_engine: MigratedEngine
) -> None:
    engine = await migrated_engine("catalogue")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE effects (event_id TEXT, offering_id TEXT)"))
    consumer, parked = consumer_for(engine, f"inbox-{uuid.uuid4().hex[:6]}")

    @consumer.handles(OfferingPublished)
    async def count(event: OfferingPublished, ctx: EventContext, uow: UnitOfWork) -> None:
        await uow.session.exec(
            text("INSERT INTO effects VALUES (:e, :o)").bindparams(  # type: ignore[call-overload]
                e=ctx.envelope.id, o=event.offering_id
            )
        )

    offering = offering_published("nordhavn")
    envelope = signed_event(demo_signer("nordhavn"), offering)
    async with PartnerSystem(infra.kafka_bootstrap_servers, demo_signer("nordhavn")) as partner:
        for _ in range(5):
            await partner.send("alliance.offerings", envelope)
    records = await wait_for(
        infra.kafka_bootstrap_servers,
        "alliance.offerings",
        lambda rs: len(with_event_id(rs, envelope.id)) == 5,
    )
    outcomes = [await consumer.consume(as_consumed(r)) for r in with_event_id(records, envelope.id)]
    async with engine.connect() as conn:
        effects = (await conn.execute(text("SELECT count(*) FROM effects"))).scalar_one()
    assert outcomes == [Outcome.APPLIED] + [Outcome.DUPLICATE] * 4
    assert effects == 1
    assert parked == []
