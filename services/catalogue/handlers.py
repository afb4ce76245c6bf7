"""One small handler per offering event: load, apply the domain rule, save."""

from __future__ import annotations

from services.catalogue.domain import OfferingConflict, apply_offering
from services.catalogue.repository import OfferingRepository
from shared.db.uow import UnitOfWork
from shared.events import OfferingPublished, OfferingUpdated, OfferingWithdrawn
from shared.messaging.consumer import EventConsumer, EventContext, EventRejected


async def _apply(
    event: OfferingPublished | OfferingUpdated | OfferingWithdrawn, uow: UnitOfWork
) -> None:
    offerings = OfferingRepository(uow.session)
    try:
        listing = apply_offering(await offerings.get(event.offering_id), event)
    except OfferingConflict as exc:
        raise EventRejected(str(exc)) from exc
    if listing is not None:
        await offerings.save(listing)


async def on_offering_published(event: OfferingPublished, _: EventContext, uow: UnitOfWork) -> None:
    await _apply(event, uow)


async def on_offering_updated(event: OfferingUpdated, _: EventContext, uow: UnitOfWork) -> None:
    await _apply(event, uow)


async def on_offering_withdrawn(event: OfferingWithdrawn, _: EventContext, uow: UnitOfWork) -> None:
    await _apply(event, uow)


def register(consumer: EventConsumer) -> None:
    consumer.handles(OfferingPublished)(on_offering_published)
    consumer.handles(OfferingUpdated)(on_offering_updated)
    consumer.handles(OfferingWithdrawn)(on_offering_withdrawn)
