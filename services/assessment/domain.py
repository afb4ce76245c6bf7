"""Assessment rules, in plain Python: which submitted results count, and how corrections work.

The assessment service keeps its own view of two facts other services announce: which
partner teaches each offering (offering events) and who holds which enrolment (enrolment
events). A submitted result counts only when both agree with it.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import ClassVar

from shared.errors import (
    Conflict,
    DomainError,
    Invalid,
    LostRace,
    NotFound,
    NotPermitted,
    NotYet,
)
from shared.events import AssessedResult, EnrolmentAccepted, EnrolmentWithdrawn, ResultRecorded
from shared.offering_views import OfferingEvent, supersedes


@dataclass(frozen=True)
class Offering:
    """Who teaches an offering, as its partner last published it."""

    offering_id: str
    partner_id: str
    version: int


class EnrolmentStatus(enum.StrEnum):
    ACCEPTED = "accepted"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class Enrolment:
    enrolment_id: str
    learner_id: str
    offering_id: str
    partner_id: str
    status: EnrolmentStatus


@dataclass(frozen=True)
class Result:
    """A recorded result; a correction leaves it in place, superseded by the new one."""

    result: AssessedResult
    recorded_at: dt.datetime
    superseded_by_result_id: str | None = None

    @property
    def result_id(self) -> str:
        return self.result.result_id

    @property
    def is_current(self) -> bool:
        return self.superseded_by_result_id is None

    def recorded_event(self) -> ResultRecorded:
        return ResultRecorded(**dict(self.result), recorded_at=self.recorded_at)


def offering_known(offering_id: str) -> str:
    """The fact a result for an offering not known yet waits for."""
    return f"offering:{offering_id}"


def enrolment_known(enrolment_id: str) -> str:
    """The fact a result for an enrolment not known yet waits for."""
    return f"enrolment:{enrolment_id}"


class ResultRefused(DomainError):
    """A submitted result that does not count. Its `code` names the rule it breaks and leads
    the reason, so a partner's system tells its dead letters and problems apart by it."""

    code: ClassVar[str]

    def __str__(self) -> str:
        return f"{self.code}: {super().__str__()}"


class OfferingUnknown(ResultRefused, NotFound, NotYet):
    """No offering of that id is known: a request naming it is answered 404, while a
    submitted event waits for the offering's event. That travels on another topic, so a
    result may overtake it (above all when the log is replayed)."""

    code = "offering_unknown"
    title = "Offering not found"

    def __init__(self, offering_id: str) -> None:
        super().__init__(offering_known(offering_id), f"offering {offering_id} is not known")


class EnrolmentUnknown(ResultRefused, NotFound, NotYet):
    """No enrolment of that id is known: 404 to a request, a wait for an event, as above."""

    code = "enrolment_unknown"
    title = "Enrolment not found"

    def __init__(self, enrolment_id: str) -> None:
        super().__init__(enrolment_known(enrolment_id), f"enrolment {enrolment_id} is not known")


class NotTeachingPartner(ResultRefused, NotPermitted):
    code = "not_teaching_partner"
    title = "Not your offering"


class NotEnrolled(ResultRefused, Conflict):
    code = "not_enrolled"
    title = "Learner not enrolled"


class AlreadyAssessed(ResultRefused, Conflict):
    code = "already_assessed"
    title = "Enrolment already assessed"


class ResultSuperseded(ResultRefused, Conflict):
    code = "superseded"
    title = "Result already superseded"


class ResultIdTaken(ResultRefused, Conflict):
    code = "result_id_taken"
    title = "result_id already used"


class NothingToCorrect(ResultRefused, Invalid):
    code = "no_such_result"
    title = "Nothing to correct"


class ConcurrentResult(LostRace):
    """Another result for the same enrolment or under the same result_id was recorded
    meanwhile; checked again against it, the submission is a repeat or a refusal."""

    title = "Concurrent result"


class ResultNotFound(NotFound):
    title = "Result not found"


class EnrolmentConflict(Conflict):
    """An enrolment event that contradicts the enrolment already held under its id."""


def apply_offering(current: Offering | None, event: OfferingEvent) -> Offering | None:
    """The offering after `event`, or None when the event is not newer than what is held;
    `OfferingConflict` for another partner's event (the rule of `shared.offering_views`).

    A withdrawn offering keeps its teaching partner: learners already enrolled are still
    assessed by it.
    """
    if not supersedes(event, current):
        return None
    return Offering(event.offering_id, event.partner_id, event.version)


def apply_enrolment(
    current: Enrolment | None, event: EnrolmentAccepted | EnrolmentWithdrawn
) -> Enrolment | None:
    """The enrolment after `event`, or None when nothing changes.

    A withdrawal is final: an acceptance of the same enrolment seen after it (a replay of an
    older event) does not bring it back.
    """
    status = (
        EnrolmentStatus.ACCEPTED
        if isinstance(event, EnrolmentAccepted)
        else EnrolmentStatus.WITHDRAWN
    )
    if current is not None:
        held = (current.learner_id, current.offering_id, current.partner_id)
        if held != (event.learner_id, event.offering_id, event.partner_id):
            raise EnrolmentConflict(
                f"enrolment {event.enrolment_id} is already held for another learner, "
                "offering or partner"
            )
        if current.status is EnrolmentStatus.WITHDRAWN or current.status is status:
            return None
    return Enrolment(
        event.enrolment_id, event.learner_id, event.offering_id, event.partner_id, status
    )


@dataclass(frozen=True)
class Facts:
    """What the service holds that bears on one submission."""

    offering: Offering | None
    enrolment: Enrolment | None
    # A result already recorded under the submission's result_id.
    same_id: Result | None
    # The result the submission says it corrects, if it names one.
    corrected: Result | None
    # The enrolment's result that counts now, if any.
    current: Result | None


@dataclass(frozen=True)
class Accepted:
    """A submission that counts: the result as recorded, and whether it is new."""

    result: Result
    repeat: bool


def accept(submission: AssessedResult, facts: Facts, now: dt.datetime) -> Accepted:
    """Checks a submission; the result to record at `now`, or the one already recorded.

    Raises the ResultRefused of the first rule it breaks. Once the submitter is known to teach
    the offering, a repeat of an accepted result_id is answered before the enrolment is
    looked at, so it gets the same answer even if the enrolment was withdrawn in between.
    """
    offering = facts.offering
    if offering is None:
        raise OfferingUnknown(submission.offering_id)
    if offering.partner_id != submission.partner_id:
        raise NotTeachingPartner(
            f"offering {offering.offering_id} is taught by another partner, "
            f"not {submission.partner_id}",
        )
    if facts.same_id is not None:
        if facts.same_id.result == submission:
            return Accepted(facts.same_id, repeat=True)
        raise ResultIdTaken(
            f"result {submission.result_id} is already recorded with different content",
        )
    enrolment = facts.enrolment
    if enrolment is None:
        raise EnrolmentUnknown(submission.enrolment_id)
    if (enrolment.learner_id, enrolment.offering_id) != (
        submission.learner_id,
        submission.offering_id,
    ):
        raise NotEnrolled(
            f"enrolment {enrolment.enrolment_id} is not this learner's enrolment in "
            f"offering {submission.offering_id}",
        )
    if enrolment.status is not EnrolmentStatus.ACCEPTED:
        raise NotEnrolled(f"enrolment {enrolment.enrolment_id} was withdrawn")
    _check_correction(submission, facts)
    return Accepted(Result(submission, now), repeat=False)


def _check_correction(submission: AssessedResult, facts: Facts) -> None:
    # One result counts per enrolment: anything after the first must say what it corrects.
    corrects = submission.supersedes_result_id
    if corrects is None:
        if facts.current is not None:
            raise AlreadyAssessed(
                f"enrolment {submission.enrolment_id} already has result "
                f"{facts.current.result_id}; a correction must name it in supersedes_result_id",
            )
        return
    corrected = facts.corrected
    if corrected is None or corrected.result.enrolment_id != submission.enrolment_id:
        raise NothingToCorrect(
            f"supersedes_result_id {corrects} names no result of enrolment "
            f"{submission.enrolment_id}",
        )
    if not corrected.is_current:
        raise ResultSuperseded(
            f"result {corrects} was already superseded by {corrected.superseded_by_result_id}",
        )
