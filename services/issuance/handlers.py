"""One small handler per consumed event: offering terms kept, results and completed
pathways turned into credentials.

The consumer runtime has already checked the signature, the contract and that the sender may
speak for the partner the event names (results only from the assessment service, pathways
only from recognition).
"""

from __future__ import annotations

from services.issuance.issuing import CredentialService
from services.issuance.tables import OfferingTerms
from shared.db.outbox import utc_now
from shared.db.uow import UnitOfWork
from shared.events import (
    OfferingPublished,
    OfferingUpdated,
    OfferingWithdrawn,
    PathwayCompleted,
    ResultRecorded,
)
from shared.events.pathways import PathwayCompletionRevoked
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
    uow.release(f"offering:{event.offering_id}")


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


def register(consumer: EventConsumer, credentials: CredentialService) -> None:
    async def on_result_recorded(event: ResultRecorded, _: EventContext, uow: UnitOfWork) -> None:
        await credentials.on_result(uow, event)

    async def on_pathway_completed(
        event: PathwayCompleted, _: EventContext, uow: UnitOfWork
    ) -> None:
        await credentials.on_pathway_completed(uow, event)

    async def on_pathway_completion_revoked(
        event: PathwayCompletionRevoked, _: EventContext, uow: UnitOfWork
    ) -> None:
        await credentials.on_pathway_completion_revoked(uow, event)

    consumer.handles(OfferingPublished)(on_offering_published)
    consumer.handles(OfferingUpdated)(on_offering_updated)
    consumer.handles(OfferingWithdrawn)(on_offering_withdrawn)
    consumer.handles(ResultRecorded)(on_result_recorded)
    consumer.handles(PathwayCompleted)(on_pathway_completed)
    consumer.handles(PathwayCompletionRevoked)(on_pathway_completion_revoked)
