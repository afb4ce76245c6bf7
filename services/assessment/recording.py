"""Recording a submitted result, the same way whether it came as an event or through the API."""

from __future__ import annotations

from services.assessment.domain import Accepted, Facts, accept
from services.assessment.repository import (
    EnrolmentRepository,
    OfferingRepository,
    ResultRepository,
)
from shared.clock import utc_now
from shared.db.uow import UnitOfWork
from shared.events import AssessedResult


async def record_result(uow: UnitOfWork, submission: AssessedResult) -> Accepted:
    """Checks `submission` against what the service holds; if it counts, stores it and
    records `assessment.result_recorded` in the same transaction (the caller commits).

    Raises ResultRefused when it does not count, and IntegrityError (at flush) when a
    concurrent submission for the same enrolment or result_id got there first.
    """
    session = uow.session
    results = ResultRepository(session)
    corrects = submission.supersedes_result_id
    facts = Facts(
        offering=await OfferingRepository(session).get(submission.offering_id),
        enrolment=await EnrolmentRepository(session).get(submission.enrolment_id),
        same_id=await results.get(submission.result_id),
        corrected=await results.get(corrects) if corrects else None,
        current=await results.current_of(submission.enrolment_id),
    )
    accepted = accept(submission, facts, utc_now())
    if not accepted.repeat:
        await results.add(accepted.result)
        uow.record(accepted.result.recorded_event())
    return accepted
