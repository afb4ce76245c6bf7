"""The offering events, one handler for all three: load, apply the domain rule, save."""

from __future__ import annotations

from services.catalogue.domain import apply_offering
from services.catalogue.repository import OfferingRepository
from shared.db.uow import UnitOfWork
from shared.events import OfferingPublished, OfferingUpdated, OfferingWithdrawn
from shared.messaging.consumer import EventConsumer, EventContext, EventRejected
from shared.offering_views import OfferingConflict, OfferingEvent


async def on_offering(event: OfferingEvent, _: EventContext, uow: UnitOfWork) -> None:
    offerings = OfferingRepository(uow.session)
    try:
        listing = apply_offering(await offerings.get(event.offering_id), event)
    except OfferingConflict as exc:
        raise EventRejected(str(exc)) from exc
    if listing is not None:
        await offerings.save(listing)


def register(consumer: EventConsumer) -> None:
    consumer.handles(OfferingPublished)(on_offering)
    consumer.handles(OfferingUpdated)(on_offering)
    consumer.handles(OfferingWithdrawn)(on_offering)
