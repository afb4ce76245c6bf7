"""One small handler per offering event: keep the terms credentials will be issued under."""

from __future__ import annotations

from services.issuance.tables import OfferingTerms
from shared.db.outbox import utc_now
from shared.db.uow import UnitOfWork
from shared.events import OfferingPublished, OfferingUpdated, OfferingWithdrawn
from shared.messaging.consumer import EventConsumer, EventContext


async def _keep(event: OfferingPublished | OfferingUpdated, uow: UnitOfWork) -> None:
    terms = await uow.session.get(OfferingTerms, event.offering_id)
    if terms is not None and terms.version >= event.version:
        return  # an older or repeated version
    snapshot = event.model_dump_json(exclude_none=True)
    if terms is None:
        terms = OfferingTerms(
            offering_id=event.offering_id,
            partner_id=event.partner_id,
            version=event.version,
            snapshot=snapshot,
            changed_at=utc_now(),
        )
    else:
        terms.sqlmodel_update(
            {"version": event.version, "snapshot": snapshot, "changed_at": utc_now()}
        )
    uow.session.add(terms)


async def on_offering_published(event: OfferingPublished, _: EventContext, uow: UnitOfWork) -> None:
    await _keep(event, uow)


async def on_offering_updated(event: OfferingUpdated, _: EventContext, uow: UnitOfWork) -> None:
    await _keep(event, uow)


async def on_offering_withdrawn(event: OfferingWithdrawn, _: EventContext, uow: UnitOfWork) -> None:
    # Credentials already earned stay valid; only the terms are marked as withdrawn.
    terms = await uow.session.get(OfferingTerms, event.offering_id)
    if terms is not None and terms.version < event.version:
        terms.sqlmodel_update(
            {"version": event.version, "withdrawn": True, "changed_at": utc_now()}
        )
        uow.session.add(terms)


def register(consumer: EventConsumer) -> None:
    consumer.handles(OfferingPublished)(on_offering_published)
    consumer.handles(OfferingUpdated)(on_offering_updated)
    consumer.handles(OfferingWithdrawn)(on_offering_withdrawn)
