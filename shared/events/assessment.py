"""Assessment events: the teaching partner records a learner's result."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import Field

from shared.events.spec import EventSpec
from shared.events.topics import RESULTS
from shared.events.vocabulary import (
    AssessmentType,
    EnrolmentId,
    Grade,
    LearnerId,
    OfferingId,
    PartnerId,
    Payload,
    ResultId,
    SupervisionAndIdentityVerification,
    Timestamp,
)


class Outcome(StrEnum):
    """Whether the learner achieved the learning outcomes."""

    PASSED = "passed"
    FAILED = "failed"


class AssessedResult(Payload):
    """What the teaching partner says of a learner's assessment. A correction is a new
    result that names the one it supersedes; the superseded result no longer counts."""

    result_id: ResultId
    enrolment_id: EnrolmentId
    offering_id: OfferingId
    partner_id: PartnerId = Field(description="The teaching partner that assessed.")
    learner_id: LearnerId
    outcome: Outcome
    grade: Grade | None = None
    assessment_type: AssessmentType
    supervision_and_identity_verification: SupervisionAndIdentityVerification
    assessed_on: dt.date
    supersedes_result_id: ResultId | None = Field(
        default=None, description="The earlier result this one corrects."
    )


class ResultSubmitted(AssessedResult):
    """A teaching partner's own system submitted a result. The assessment service checks it
    (the learner is enrolled, the partner teaches the offering) before it counts."""

    submitted_at: Timestamp


class ResultRecorded(AssessedResult):
    """A result was recorded for an enrolment. A correction is a new result that names the
    one it supersedes; the superseded result no longer counts."""

    recorded_at: Timestamp


RESULT_SUBMITTED = EventSpec(
    name="assessment.result_submitted",
    version=1,
    model=ResultSubmitted,
    topic=RESULTS,
    summary="A teaching partner's system submitted a result; not yet checked by the alliance.",
    key=lambda e: e.learner_id,
    subject=lambda e: e.result_id,
    acting_partner=lambda e: e.partner_id,
)
RESULT_RECORDED = EventSpec(
    name="assessment.result_recorded",
    version=1,
    model=ResultRecorded,
    topic=RESULTS,
    summary="The teaching partner recorded (or corrected) a learner's assessment result.",
    key=lambda e: e.learner_id,
    subject=lambda e: e.result_id,
    acting_partner=lambda e: e.partner_id,
)
SPECS = (RESULT_SUBMITTED, RESULT_RECORDED)
