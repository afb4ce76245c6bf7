"""The assessment service's use cases: its views of offerings and enrolments kept from their
events, and results recorded the same way whether they came as an event or through the API."""

from __future__ import annotations

from collections.abc import Sequence

from services.assessment.domain import (
    Accepted,
    NotTeachingPartner,
    OfferingUnknown,
    Result,
    ResultSuperseded,
    accept,
    apply_enrolment,
    apply_offering,
    enrolment_known,
    offering_known,
)
from services.assessment.unit_of_work import AssessmentUnitOfWork
from shared.clock import utc_now
from shared.events import AssessedResult, EnrolmentAccepted, EnrolmentWithdrawn
from shared.offering_views import OfferingEvent


async def events_coming(
    uow: AssessmentUnitOfWork,
    enrolments: Sequence[EnrolmentAccepted | EnrolmentWithdrawn],
    submissions: Sequence[AssessedResult],
) -> None:
    """Reads together what a batch's enrolment events and submissions are decided on. One
    event of a kind is left to its own read: a read ahead would cost it the same statement,
    and its enrolment one more at the commit."""
    enrolment_ids = {event.enrolment_id for event in enrolments} if len(enrolments) > 1 else set()
    if len(submissions) > 1:
        enrolment_ids |= {submission.enrolment_id for submission in submissions}
    if enrolment_ids:
        await uow.enrolments.read_ahead(enrolment_ids)
    if len(submissions) > 1:
        await uow.offerings.read_ahead({submission.offering_id for submission in submissions})
        await uow.results.read_ahead(submissions)


async def apply_offering_event(uow: AssessmentUnitOfWork, event: OfferingEvent) -> None:
    held = await uow.offerings.get(event.offering_id)
    offering = apply_offering(held, event)
    if offering is not None:
        await uow.offerings.save(offering, first=held is None)
        uow.release(offering_known(event.offering_id))


async def apply_enrolment_event(
    uow: AssessmentUnitOfWork, event: EnrolmentAccepted | EnrolmentWithdrawn
) -> None:
    # An acceptance is mostly an enrolment's first event: then one insert is all it takes.
    fresh = apply_enrolment(None, event) if isinstance(event, EnrolmentAccepted) else None
    if fresh is not None and await uow.enrolments.add(fresh):
        uow.release(enrolment_known(event.enrolment_id))
        return
    held = await uow.enrolments.get(event.enrolment_id)
    enrolment = apply_enrolment(held, event)
    if enrolment is not None:
        await uow.enrolments.save(enrolment, first=held is None)
        uow.release(enrolment_known(event.enrolment_id))


async def record_result(uow: AssessmentUnitOfWork, submission: AssessedResult) -> Accepted:
    """Checks `submission` against what the service holds; if it counts, stores it and
    records `assessment.result_recorded` in the same transaction (the caller commits).

    Raises the ResultRefused of the rule it breaks. A concurrent submission for the same
    enrolment or result_id that got there first is found at the commit (ConcurrentResult, a
    lost race).
    """
    corrects = submission.supersedes_result_id
    accepted = accept(submission, await uow.results.facts(submission), utc_now())
    if accepted.repeat:
        return accepted
    if corrects is not None and not await uow.results.supersede(corrects, submission.result_id):
        raise ResultSuperseded(f"result {corrects} was superseded meanwhile")
    uow.results.add(accepted.result)
    uow.record(accepted.result.recorded_event())
    return accepted


async def results_of_partner(
    uow: AssessmentUnitOfWork, partner_id: str, offering_id: str | None, limit: int, offset: int
) -> Sequence[Result]:
    """The results of the offerings `partner_id` teaches; of one, if `offering_id` names it."""
    if offering_id is not None:
        offering = await uow.offerings.get(offering_id)
        if offering is None:
            raise OfferingUnknown(offering_id)
        if offering.partner_id != partner_id:
            raise NotTeachingPartner(f"{offering_id} is taught by another partner.")
    return await uow.results.of_partner(partner_id, offering_id, limit, offset)
