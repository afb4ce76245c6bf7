"""What the API and the event handlers ask enrolment to do, each inside the caller's unit of
work: the decision, the state change and the events it announces commit together.

Every change to an offering's places first locks the offering, so concurrent requests for
the last seats are decided one after another and never overbook.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from services.enrolment.domain import (
    Enrolment,
    EnrolmentStatus,
    Offering,
    accept_from_waiting_list,
    completed_offering_ids,
    decide,
    new_enrolment_id,
    reject_for_withdrawn_offering,
    seats_to_fill,
    withdraw,
)
from services.enrolment.repository import (
    EarnedCredentialRepository,
    EnrolmentRepository,
    OfferingRepository,
)
from shared.clock import utc_now
from shared.db.uow import UnitOfWork
from shared.events import (
    EnrolmentAccepted,
    EnrolmentRejected,
    EnrolmentRequested,
    EnrolmentWaitlisted,
    EnrolmentWithdrawn,
)


class UnknownOffering(Exception):
    """Enrolment has never heard of this offering."""


class AlreadyEnrolled(Exception):
    def __init__(self, enrolment: Enrolment) -> None:
        super().__init__(
            f"You already have an enrolment ({enrolment.enrolment_id}, {enrolment.status}) "
            f"in {enrolment.offering_id}."
        )
        self.enrolment = enrolment


class EnrolmentNotFound(Exception):
    """No such enrolment, or not the caller's (which is not confirmed to strangers)."""


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


async def request_enrolment(uow: UnitOfWork, learner_id: str, offering_id: str) -> Enrolment:
    """Decides a learner's request at once: a place, a place in the queue, or a refusal."""
    offering = await OfferingRepository(uow.session).lock(offering_id)
    if offering is None:
        raise UnknownOffering(offering_id)
    enrolments = EnrolmentRepository(uow.session)
    existing = await enrolments.active(learner_id, offering_id)
    if existing is not None:
        raise AlreadyEnrolled(existing)
    earned = await EarnedCredentialRepository(uow.session).of_learner(learner_id)
    decision = decide(offering, await enrolments.seats(offering_id), completed_offering_ids(earned))
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
    await enrolments.add(enrolment)
    uow.record(EnrolmentRequested(**_identity(enrolment), requested_at=now))
    uow.record(_outcome_event(enrolment, now))
    return enrolment


async def withdraw_enrolment(uow: UnitOfWork, learner_id: str, enrolment_id: str) -> Enrolment:
    """Gives up the learner's place (or queue place); a freed seat goes to the next in line.

    Raises EnrolmentNotFound for another learner's enrolment, and domain.NotWithdrawable
    for one already rejected or withdrawn.
    """
    enrolments = EnrolmentRepository(uow.session)
    found = await enrolments.get(enrolment_id)
    if found is None or found.learner_id != learner_id:
        raise EnrolmentNotFound(enrolment_id)
    offering = await OfferingRepository(uow.session).lock(found.offering_id)
    # Read again under the lock: a concurrent withdrawal or promotion may have changed it.
    current = await enrolments.get(enrolment_id)
    if offering is None or current is None:
        raise EnrolmentNotFound(enrolment_id)
    now = utc_now()
    withdrawn = withdraw(current, now)
    await enrolments.update(withdrawn)
    uow.record(EnrolmentWithdrawn(**_identity(withdrawn), withdrawn_at=now))
    if current.status is EnrolmentStatus.ACCEPTED:
        await fill_free_seats(uow, offering)
    return withdrawn


async def fill_free_seats(uow: UnitOfWork, offering: Offering) -> list[Enrolment]:
    """Accepts waiting learners, first in line first, while seats are free.

    The caller holds the offering's lock. Learners who move up the waiting list are not
    told by an event: their position is derived, and reading it (GET) always gives the
    current one; announcing every shift would emit one event per waiting learner for each
    seat that frees up, with nothing for any consumer to act on.
    """
    enrolments = EnrolmentRepository(uow.session)
    free = seats_to_fill(offering, (await enrolments.seats(offering.offering_id)).accepted)
    if free == 0:
        return []
    now = utc_now()
    promoted = [
        accept_from_waiting_list(e, now)
        for e in (await enrolments.waiting_list(offering.offering_id))[:free]
    ]
    for enrolment in promoted:
        await enrolments.update(enrolment)
        uow.record(_outcome_event(enrolment, now))
    return promoted


async def reject_waiting_list(uow: UnitOfWork, offering: Offering) -> list[Enrolment]:
    """The offering was withdrawn: nobody still waiting will get a place."""
    enrolments = EnrolmentRepository(uow.session)
    now = utc_now()
    rejected = [
        reject_for_withdrawn_offering(e, now)
        for e in await enrolments.waiting_list(offering.offering_id)
    ]
    for enrolment in rejected:
        await enrolments.update(enrolment)
        uow.record(_outcome_event(enrolment, now))
    return rejected
