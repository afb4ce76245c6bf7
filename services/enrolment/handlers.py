"""One small handler per consumed event: enrolment's own view of offerings and credentials."""

from __future__ import annotations

from services.enrolment.commands import fill_free_seats, reject_waiting_list
from services.enrolment.domain import apply_offering, credential_issued, credential_status_changed
from services.enrolment.repository import EarnedCredentialRepository, OfferingRepository
from shared.db.uow import UnitOfWork
from shared.events import (
    CredentialIssued,
    CredentialReinstated,
    CredentialRevoked,
    CredentialSuspended,
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


# What each status event says of the suspension; a revocation says nothing of it.
_SUSPENDS: dict[type, bool] = {CredentialSuspended: True, CredentialReinstated: False}


async def on_credential_status(
    event: CredentialRevoked | CredentialSuspended | CredentialReinstated,
    _: EventContext,
    uow: UnitOfWork,
) -> None:
    credentials = EarnedCredentialRepository(uow.session)
    current = await credentials.get(event.credential_id)
    await credentials.save(
        credential_status_changed(
            current,
            event.credential_id,
            event.learner_id,
            revoked=isinstance(event, CredentialRevoked),
            suspended=_SUSPENDS.get(type(event)),
        )
    )


def register(consumer: EventConsumer[UnitOfWork]) -> None:
    consumer.handles(OfferingPublished)(on_offering)
    consumer.handles(OfferingUpdated)(on_offering)
    consumer.handles(OfferingWithdrawn)(on_offering)
    consumer.handles(CredentialIssued)(on_credential_issued)
    consumer.handles(CredentialRevoked)(on_credential_status)
    consumer.handles(CredentialSuspended)(on_credential_status)
    consumer.handles(CredentialReinstated)(on_credential_status)
