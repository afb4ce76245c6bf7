"""One small handler per consumed event: enrolment's own view of offerings and credentials."""

from __future__ import annotations

from services.enrolment.commands import fill_free_seats, reject_waiting_list
from services.enrolment.domain import apply_offering, credential_issued, credential_revoked
from services.enrolment.repository import EarnedCredentialRepository, OfferingRepository
from shared.db.uow import UnitOfWork
from shared.events import (
    CredentialIssued,
    CredentialRevoked,
    OfferingPublished,
    OfferingUpdated,
    OfferingWithdrawn,
)
from shared.messaging.consumer import EventConsumer, EventContext, EventRejected
from shared.offering_views import OfferingConflict, OfferingEvent


async def on_offering(event: OfferingEvent, _: EventContext, uow: UnitOfWork) -> None:
    offerings = OfferingRepository(uow.session)
    # Locked like a request for a place: capacity and status change under the same lock
    # that deciding a request takes.
    try:
        offering = apply_offering(await offerings.lock(event.offering_id), event)
    except OfferingConflict as exc:
        raise EventRejected(str(exc)) from exc
    if offering is None:
        return
    await offerings.save(offering)
    if offering.is_open:
        await fill_free_seats(uow, offering)
    else:
        await reject_waiting_list(uow, offering)


async def on_credential_issued(event: CredentialIssued, _: EventContext, uow: UnitOfWork) -> None:
    # A stacked credential (for a pathway) completes no offering, so it meets no prerequisite.
    if event.offering_id is None:
        return
    credentials = EarnedCredentialRepository(uow.session)
    current = await credentials.get(event.credential_id)
    await credentials.save(
        credential_issued(current, event.credential_id, event.learner_id, event.offering_id)
    )


async def on_credential_revoked(event: CredentialRevoked, _: EventContext, uow: UnitOfWork) -> None:
    credentials = EarnedCredentialRepository(uow.session)
    current = await credentials.get(event.credential_id)
    await credentials.save(credential_revoked(current, event.credential_id, event.learner_id))


def register(consumer: EventConsumer) -> None:
    consumer.handles(OfferingPublished)(on_offering)
    consumer.handles(OfferingUpdated)(on_offering)
    consumer.handles(OfferingWithdrawn)(on_offering)
    consumer.handles(CredentialIssued)(on_credential_issued)
    consumer.handles(CredentialRevoked)(on_credential_revoked)
