"""One small handler per consumed event: the use case keeps the ledger, the pathways and the
offerings current, and re-evaluates what depends on a change."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from services.recognition import application
from services.recognition.unit_of_work import RecognitionUnitOfWork
from shared.events import (
    CredentialIssued,
    CredentialReinstated,
    CredentialRevoked,
    CredentialSuspended,
)
from shared.events.catalogue import OfferingPublished, OfferingUpdated, OfferingWithdrawn
from shared.events.pathways import PathwayDefined
from shared.messaging.consumer import EventConsumer, EventContext
from shared.offering_views import OfferingEvent


async def before_batch(events: Sequence[BaseModel], uow: RecognitionUnitOfWork) -> None:
    issued = [event for event in events if isinstance(event, CredentialIssued)]
    await application.credentials_coming(uow, issued)


async def on_credential_issued(
    event: CredentialIssued, _: EventContext, uow: RecognitionUnitOfWork
) -> None:
    await application.credential_issued(uow, event)


async def on_credential_revoked(
    event: CredentialRevoked, _: EventContext, uow: RecognitionUnitOfWork
) -> None:
    await application.credential_revoked(uow, event)


async def on_credential_suspended(
    event: CredentialSuspended, _: EventContext, uow: RecognitionUnitOfWork
) -> None:
    await application.credential_suspended(uow, event)


async def on_credential_reinstated(
    event: CredentialReinstated, _: EventContext, uow: RecognitionUnitOfWork
) -> None:
    await application.credential_reinstated(uow, event)


async def on_pathway_defined(
    event: PathwayDefined, _: EventContext, uow: RecognitionUnitOfWork
) -> None:
    await application.pathway_defined(uow, event)


async def on_offering(event: OfferingEvent, _: EventContext, uow: RecognitionUnitOfWork) -> None:
    await application.apply_offering_event(uow, event)


def register(consumer: EventConsumer[RecognitionUnitOfWork]) -> None:
    consumer.reads_ahead(before_batch)
    consumer.handles(CredentialIssued)(on_credential_issued)
    consumer.handles(CredentialRevoked)(on_credential_revoked)
    consumer.handles(CredentialSuspended)(on_credential_suspended)
    consumer.handles(CredentialReinstated)(on_credential_reinstated)
    consumer.handles(PathwayDefined)(on_pathway_defined)
    consumer.handles(OfferingPublished)(on_offering)
    consumer.handles(OfferingUpdated)(on_offering)
    consumer.handles(OfferingWithdrawn)(on_offering)
