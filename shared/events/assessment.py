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


class ResultRecorded(Payload):
    """A result was recorded for an enrolment. A correction is a new result that names the
    one it supersedes; the superseded result no longer counts."""

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
    recorded_at: Timestamp
    supersedes_result_id: ResultId | None = Field(
        default=None, description="The earlier result this one corrects."
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
SPECS = (RESULT_RECORDED,)
