"""Enrolment's use cases, each inside the caller's unit of work: the decision, the state
change and the events it announces commit together.

Every change to an offering's places first locks the offering, so concurrent requests for
the last seats are decided one after another and never overbook.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from pydantic import BaseModel

from services.enrolment.domain import (
    AlreadyEnrolled,
    EarnedCredential,
    Enrolment,
    EnrolmentNotFound,
    EnrolmentStatus,
    NotTheTeachingPartner,
    Offering,
    OfferingNotFound,
    accept_from_waiting_list,
    apply_offering,
    completed_offering_ids,
    credential_status_changed,
    decide,
    new_enrolment_id,
    reject_for_withdrawn_offering,
    seats_to_fill,
    withdraw,
)
from services.enrolment.unit_of_work import EnrolmentUnitOfWork
from shared.clock import utc_now
from shared.errors import LostRace
from shared.events import (
    CredentialIssued,
    EnrolmentAccepted,
    EnrolmentRejected,
    EnrolmentRequested,
    EnrolmentWaitlisted,
    EnrolmentWithdrawn,
)
from shared.offering_views import OfferingEvent


def _identity(enrolment: Enrolment) -> dict[str, str]:
    return {
        "enrolment_id": enrolment.enrolment_id,
        "offering_id": enrolment.offering_id,
        "partner_id": enrolment.partner_id,
        "learner_id": enrolment.learner_id,
    }


def _outcome_event(enrolment: Enrolment, at: dt.datetime) -> BaseModel:
    fields = _identity(enrolment)
    if enrolment.status is EnrolmentStatus.ACCEPTED:
        return EnrolmentAccepted(**fields, accepted_at=at)
    if enrolment.status is EnrolmentStatus.WAITLISTED and enrolment.position is not None:
        return EnrolmentWaitlisted(**fields, position=enrolment.position, waitlisted_at=at)
    if enrolment.status is EnrolmentStatus.REJECTED and enrolment.reason and enrolment.detail:
        return EnrolmentRejected(
            **fields, reason=enrolment.reason, detail=enrolment.detail, rejected_at=at
        )
    raise ValueError(f"enrolment {enrolment.enrolment_id} has no outcome to announce")


async def request_enrolment(
    uow: EnrolmentUnitOfWork, learner_id: str, offering_id: str
) -> Enrolment:
    """Decides a learner's request at once: a place, a place in the queue, or a refusal."""
    # A request of theirs committed after the standing was read is caught by the insert.
    standing, locked = await uow.enrolments.standing_under_lock(learner_id, offering_id)
    if standing.enrolled is not None:
        raise AlreadyEnrolled(offering_id, *standing.enrolled)
    if locked is None:
        raise OfferingNotFound(f"No offering {offering_id} is known.")
    offering = locked.offering
    decision = decide(offering, locked.seats, completed_offering_ids(standing.earned))
    now = utc_now()
    enrolment = Enrolment(
        enrolment_id=new_enrolment_id(),
        offering_id=offering_id,
        partner_id=offering.partner_id,
        learner_id=learner_id,
        status=decision.status,
        requested_at=now,
        changed_at=now,
        position=decision.position,
        reason=decision.reason,
        detail=decision.detail,
    )
    if not await uow.enrolments.add(enrolment):
        raise LostRace(f"{learner_id} asked for {offering_id} twice at once.")
    uow.record(EnrolmentRequested(**_identity(enrolment), requested_at=now))
    uow.record(_outcome_event(enrolment, now))
    return enrolment


async def enrolment_of(uow: EnrolmentUnitOfWork, learner_id: str, enrolment_id: str) -> Enrolment:
    """One of the learner's enrolments; another learner's is not found."""
    found = await uow.enrolments.get(enrolment_id)
    if found is None or found.learner_id != learner_id:
        raise EnrolmentNotFound(f"You have no enrolment {enrolment_id}.")
    return found


async def withdraw_enrolment(
    uow: EnrolmentUnitOfWork, learner_id: str, enrolment_id: str
) -> Enrolment:
    """Gives up the learner's place (or queue place); a freed seat goes to the next in line.

    Raises EnrolmentNotFound for another learner's enrolment, and NotWithdrawable for one
    already rejected or withdrawn.
    """
    found = await enrolment_of(uow, learner_id, enrolment_id)
    locked = await uow.offerings.lock(found.offering_id)
    # Read again under the lock: a concurrent withdrawal or promotion may have changed it.
    current = await uow.enrolments.get(enrolment_id)
    if locked is None or current is None:
        raise EnrolmentNotFound(f"You have no enrolment {enrolment_id}.")
    now = utc_now()
    withdrawn = withdraw(current, now)
    await uow.enrolments.update(withdrawn)
    uow.record(EnrolmentWithdrawn(**_identity(withdrawn), withdrawn_at=now))
    if current.status is EnrolmentStatus.ACCEPTED:
        await fill_free_seats(uow, locked.offering)
    return withdrawn


async def roster(
    uow: EnrolmentUnitOfWork, offering_id: str, acts_for: Callable[[str], bool]
) -> list[Enrolment]:
    """Who enrolled in an offering, for its teaching partner (`acts_for` says whether the
    caller acts for a partner)."""
    offering = await uow.offerings.get(offering_id)
    if offering is None:
        raise OfferingNotFound(f"No offering {offering_id} is known.")
    if not acts_for(offering.partner_id):
        raise NotTheTeachingPartner(
            f"Only {offering.partner_id}, which teaches {offering_id}, sees who enrolled."
        )
    return await uow.enrolments.of_offering(offering_id)


async def apply_offering_event(uow: EnrolmentUnitOfWork, event: OfferingEvent) -> None:
    """A partner's offering changed: a seat more accepts waiting learners, a withdrawal
    rejects them. `OfferingConflict` for another partner's event."""
    # Locked like a request for a place: capacity and status change under the same lock
    # that deciding a request takes.
    locked = await uow.offerings.lock(event.offering_id)
    held = locked.offering if locked else None
    offering = apply_offering(held, event)
    if offering is None:
        return
    await uow.offerings.save(offering, first=held is None)
    if offering.is_open:
        await fill_free_seats(uow, offering)
    else:
        await reject_waiting_list(uow, offering)


async def fill_free_seats(uow: EnrolmentUnitOfWork, offering: Offering) -> list[Enrolment]:
    """Accepts waiting learners, first in line first, while seats are free.

    The caller holds the offering's lock. Learners who move up the waiting list are not
    told by an event: their position is derived, and reading it (GET) always gives the
    current one; announcing every shift would emit one event per waiting learner for each
    seat that frees up, with nothing for any consumer to act on.
    """
    free = seats_to_fill(offering, (await uow.enrolments.seats(offering.offering_id)).accepted)
    if free == 0:
        return []
    now = utc_now()
    promoted = [
        accept_from_waiting_list(e, now)
        for e in (await uow.enrolments.waiting_list(offering.offering_id))[:free]
    ]
    for enrolment in promoted:
        await uow.enrolments.update(enrolment)
        uow.record(_outcome_event(enrolment, now))
    return promoted


async def reject_waiting_list(uow: EnrolmentUnitOfWork, offering: Offering) -> list[Enrolment]:
    """The offering was withdrawn: nobody still waiting will get a place."""
    now = utc_now()
    rejected = [
        reject_for_withdrawn_offering(e, now)
        for e in await uow.enrolments.waiting_list(offering.offering_id)
    ]
    for enrolment in rejected:
        await uow.enrolments.update(enrolment)
        uow.record(_outcome_event(enrolment, now))
    return rejected


async def record_credential_issued(uow: EnrolmentUnitOfWork, event: CredentialIssued) -> None:
    # A stacked credential (for a pathway) completes no offering, so it meets no prerequisite.
    if event.offering_id is None:
        return
    await uow.earned_credentials.add_issued(
        EarnedCredential(event.credential_id, event.learner_id, event.offering_id)
    )


async def record_credential_status(
    uow: EnrolmentUnitOfWork,
    credential_id: str,
    learner_id: str,
    *,
    revoked: bool | None = None,
    suspended: bool | None = None,
) -> None:
    current = await uow.earned_credentials.get(credential_id)
    await uow.earned_credentials.save(
        credential_status_changed(
            current, credential_id, learner_id, revoked=revoked, suspended=suspended
        ),
        first=current is None,
    )
