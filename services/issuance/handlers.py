"""One small handler per consumed event: offering terms kept, results and completed
pathways turned into credentials.

The consumer runtime has already checked the signature, the contract and that the sender may
speak for the partner the event names (results only from the assessment service, pathways
only from recognition).
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from services.issuance import application
from services.issuance.application import CredentialService
from services.issuance.unit_of_work import IssuanceUnitOfWork
from shared.events import (
    OfferingPublished,
    OfferingUpdated,
    OfferingWithdrawn,
    PathwayCompleted,
    ResultRecorded,
)
from shared.events.pathways import PathwayCompletionRevoked
from shared.messaging.consumer import EventConsumer, EventContext
from shared.offering_views import OfferingEvent


async def on_offering(event: OfferingEvent, _: EventContext, uow: IssuanceUnitOfWork) -> None:
    await application.apply_offering_event(uow, event)


def register(consumer: EventConsumer[IssuanceUnitOfWork], credentials: CredentialService) -> None:
    async def before_batch(events: Sequence[BaseModel], uow: IssuanceUnitOfWork) -> None:
        results = [event for event in events if isinstance(event, ResultRecorded)]
        completions = [event for event in events if isinstance(event, PathwayCompleted)]
        await credentials.events_coming(uow, results, completions)

    async def on_result_recorded(
        event: ResultRecorded, _: EventContext, uow: IssuanceUnitOfWork
    ) -> None:
        await credentials.on_result(uow, event)

    async def on_pathway_completed(
        event: PathwayCompleted, _: EventContext, uow: IssuanceUnitOfWork
    ) -> None:
        await credentials.on_pathway_completed(uow, event)

    async def on_pathway_completion_revoked(
        event: PathwayCompletionRevoked, _: EventContext, uow: IssuanceUnitOfWork
    ) -> None:
        await credentials.on_pathway_completion_revoked(uow, event)

    consumer.reads_ahead(before_batch)
    consumer.handles(OfferingPublished)(on_offering)
    consumer.handles(OfferingUpdated)(on_offering)
    consumer.handles(OfferingWithdrawn)(on_offering)
    consumer.handles(ResultRecorded)(on_result_recorded)
    consumer.handles(PathwayCompleted)(on_pathway_completed)
    consumer.handles(PathwayCompletionRevoked)(on_pathway_completion_revoked)
