"""One small handler per consumed event, each a use case of `application`.

The consumer runtime has already checked the signature, the contract and that the sender may
speak for the partner the event names (a partner system only for itself; enrolment events
only from the enrolment service). It turns the use cases' refusals into dead letters, an
offering or enrolment not known yet into a wait for it, and a lost race into a retry.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from services.assessment import application
from services.assessment.unit_of_work import AssessmentUnitOfWork
from shared.events import (
    AssessedResult,
    EnrolmentAccepted,
    EnrolmentWithdrawn,
    OfferingPublished,
    OfferingUpdated,
    OfferingWithdrawn,
    ResultSubmitted,
)
from shared.messaging.consumer import EventConsumer, EventContext
from shared.offering_views import OfferingEvent


def _assessed(event: ResultSubmitted) -> AssessedResult:
    return AssessedResult.model_validate(event.model_dump(exclude={"submitted_at"}))


async def before_batch(events: Sequence[BaseModel], uow: AssessmentUnitOfWork) -> None:
    enrolments = [e for e in events if isinstance(e, EnrolmentAccepted | EnrolmentWithdrawn)]
    submissions = [_assessed(e) for e in events if isinstance(e, ResultSubmitted)]
    await application.events_coming(uow, enrolments, submissions)


async def on_offering(event: OfferingEvent, _: EventContext, uow: AssessmentUnitOfWork) -> None:
    await application.apply_offering_event(uow, event)


async def on_enrolment(
    event: EnrolmentAccepted | EnrolmentWithdrawn, _: EventContext, uow: AssessmentUnitOfWork
) -> None:
    await application.apply_enrolment_event(uow, event)


async def on_result_submitted(
    event: ResultSubmitted, _: EventContext, uow: AssessmentUnitOfWork
) -> None:
    await application.record_result(uow, _assessed(event))


def register(consumer: EventConsumer[AssessmentUnitOfWork]) -> None:
    consumer.reads_ahead(before_batch)
    consumer.handles(OfferingPublished)(on_offering)
    consumer.handles(OfferingUpdated)(on_offering)
    consumer.handles(OfferingWithdrawn)(on_offering)
    consumer.handles(EnrolmentAccepted)(on_enrolment)
    consumer.handles(EnrolmentWithdrawn)(on_enrolment)
    consumer.handles(ResultSubmitted)(on_result_submitted)
