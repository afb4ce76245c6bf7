"""One small handler per consumed event: offering terms kept, results and completed
pathways turned into credentials.

The consumer runtime has already checked the signature, the contract and that the sender may
speak for the partner the event names (results only from the assessment service, pathways
only from recognition).
"""

from __future__ import annotations

from services.issuance.issuing import CredentialService
from services.issuance.tables import OfferingTerms
from shared.clock import utc_now
from shared.db.uow import UnitOfWork
from shared.events import (
    OfferingPublished,
    OfferingUpdated,
    OfferingWithdrawn,
    PathwayCompleted,
    ResultRecorded,
)
from shared.events.pathways import PathwayCompletionRevoked
from shared.messaging.consumer import EventConsumer, EventContext, EventRejected
from shared.offering_views import OfferingConflict, OfferingEvent, supersedes


async def on_offering(event: OfferingEvent, _: EventContext, uow: UnitOfWork) -> None:
    terms = await uow.session.get(OfferingTerms, event.offering_id)
    try:
        # Another partner may not rewrite the terms (awarding body included) credentials
        # for this offering are issued under.
        if not supersedes(event, terms):
            return  # an older or repeated version
    except OfferingConflict as exc:
        raise EventRejected(str(exc)) from exc
    if isinstance(event, OfferingWithdrawn):
        # Credentials already earned stay valid; only the terms are marked as withdrawn.
        if terms is not None:
            terms.sqlmodel_update(
                {"version": event.version, "withdrawn": True, "changed_at": utc_now()}
            )
            uow.session.add(terms)
        return
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


def register(consumer: EventConsumer[UnitOfWork], credentials: CredentialService) -> None:
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

    consumer.handles(OfferingPublished)(on_offering)
    consumer.handles(OfferingUpdated)(on_offering)
    consumer.handles(OfferingWithdrawn)(on_offering)
    consumer.handles(ResultRecorded)(on_result_recorded)
    consumer.handles(PathwayCompleted)(on_pathway_completed)
    consumer.handles(PathwayCompletionRevoked)(on_pathway_completion_revoked)
