"""One small handler per consumed event: enrolment's own view of offerings and credentials.
The offering events share one, as the use case takes any of them."""

from __future__ import annotations

from services.enrolment import application
from services.enrolment.unit_of_work import EnrolmentUnitOfWork
from shared.events import (
    CredentialIssued,
    CredentialReinstated,
    CredentialRevoked,
    CredentialSuspended,
    OfferingPublished,
    OfferingUpdated,
    OfferingWithdrawn,
)
from shared.messaging.consumer import EventConsumer, EventContext
from shared.offering_views import OfferingEvent


async def on_offering(event: OfferingEvent, _: EventContext, uow: EnrolmentUnitOfWork) -> None:
    await application.apply_offering_event(uow, event)


async def on_credential_issued(
    event: CredentialIssued, _: EventContext, uow: EnrolmentUnitOfWork
) -> None:
    await application.record_credential_issued(uow, event)


async def on_credential_revoked(
    event: CredentialRevoked, _: EventContext, uow: EnrolmentUnitOfWork
) -> None:
    await application.record_credential_status(
        uow, event.credential_id, event.learner_id, revoked=True
    )


async def on_credential_suspended(
    event: CredentialSuspended, _: EventContext, uow: EnrolmentUnitOfWork
) -> None:
    await application.record_credential_status(
        uow, event.credential_id, event.learner_id, suspended=True
    )


async def on_credential_reinstated(
    event: CredentialReinstated, _: EventContext, uow: EnrolmentUnitOfWork
) -> None:
    await application.record_credential_status(
        uow, event.credential_id, event.learner_id, suspended=False
    )


def register(consumer: EventConsumer[EnrolmentUnitOfWork]) -> None:
    consumer.handles(OfferingPublished)(on_offering)
    consumer.handles(OfferingUpdated)(on_offering)
    consumer.handles(OfferingWithdrawn)(on_offering)
    consumer.handles(CredentialIssued)(on_credential_issued)
    consumer.handles(CredentialRevoked)(on_credential_revoked)
    consumer.handles(CredentialSuspended)(on_credential_suspended)
    consumer.handles(CredentialReinstated)(on_credential_reinstated)
