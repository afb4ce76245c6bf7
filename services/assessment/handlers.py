"""One small handler per consumed event: load, apply the domain rule, save.

The consumer runtime has already checked the signature, the contract and that the sender may
speak for the partner the event names (a partner system only for itself; enrolment events
only from the enrolment service).
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from services.assessment.domain import (
    EnrolmentConflict,
    Refusal,
    ResultRefused,
    apply_enrolment,
    apply_offering,
)
from services.assessment.recording import record_result
from services.assessment.repository import EnrolmentRepository, OfferingRepository
from shared.db.uow import UnitOfWork
from shared.events import (
    AssessedResult,
    EnrolmentAccepted,
    EnrolmentWithdrawn,
    OfferingPublished,
    OfferingUpdated,
    OfferingWithdrawn,
    ResultSubmitted,
)
from shared.messaging.consumer import (
    Deferred,
    EventConsumer,
    EventContext,
    EventRejected,
)
from shared.offering_views import OfferingConflict, OfferingEvent
from shared.transient import TransientError


async def on_offering(event: OfferingEvent, _: EventContext, uow: UnitOfWork) -> None:
    offerings = OfferingRepository(uow.session)
    try:
        offering = apply_offering(await offerings.get(event.offering_id), event)
    except OfferingConflict as exc:
        raise EventRejected(str(exc)) from exc
    if offering is not None:
        await offerings.save(offering)
        uow.release(f"offering:{event.offering_id}")


async def on_enrolment(
    event: EnrolmentAccepted | EnrolmentWithdrawn, _: EventContext, uow: UnitOfWork
) -> None:
    enrolments = EnrolmentRepository(uow.session)
    try:
        enrolment = apply_enrolment(await enrolments.get(event.enrolment_id), event)
    except EnrolmentConflict as exc:
        raise EventRejected(str(exc)) from exc
    if enrolment is not None:
        await enrolments.save(enrolment)
        uow.release(f"enrolment:{event.enrolment_id}")


async def on_result_submitted(event: ResultSubmitted, _: EventContext, uow: UnitOfWork) -> None:
    submission = AssessedResult.model_validate(event.model_dump(exclude={"submitted_at"}))
    try:
        await record_result(uow, submission)
    except ResultRefused as exc:
        if exc.refusal is Refusal.OFFERING_UNKNOWN:
            raise Deferred(f"offering:{event.offering_id}", str(exc)) from exc
        if exc.refusal is Refusal.ENROLMENT_UNKNOWN:
            # Enrolments travel on another topic, so a submission can overtake the event
            # that makes it valid (above all when the log is replayed): it waits for it.
            raise Deferred(f"enrolment:{event.enrolment_id}", str(exc)) from exc
        raise EventRejected(str(exc)) from exc
    except IntegrityError as exc:
        # A concurrent submission (through the API) for the same enrolment or result_id
        # committed first; on retry this one is checked against it.
        raise TransientError("a concurrent result for this enrolment was recorded") from exc


def register(consumer: EventConsumer[UnitOfWork]) -> None:
    consumer.handles(OfferingPublished)(on_offering)
    consumer.handles(OfferingUpdated)(on_offering)
    consumer.handles(OfferingWithdrawn)(on_offering)
    consumer.handles(EnrolmentAccepted)(on_enrolment)
    consumer.handles(EnrolmentWithdrawn)(on_enrolment)
    consumer.handles(ResultSubmitted)(on_result_submitted)
