"""The offering events, one handler for all three: the use case applies them to the search."""

from __future__ import annotations

from services.catalogue import application
from services.catalogue.unit_of_work import CatalogueUnitOfWork
from shared.events import OfferingPublished, OfferingUpdated, OfferingWithdrawn
from shared.messaging.consumer import EventConsumer, EventContext
from shared.offering_views import OfferingEvent


async def on_offering(event: OfferingEvent, _: EventContext, uow: CatalogueUnitOfWork) -> None:
    await application.apply_offering_event(uow, event)


def register(consumer: EventConsumer[CatalogueUnitOfWork]) -> None:
    consumer.handles(OfferingPublished)(on_offering)
    consumer.handles(OfferingUpdated)(on_offering)
    consumer.handles(OfferingWithdrawn)(on_offering)
