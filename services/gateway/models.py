"""What the gateway answers: its own view of the services' answers.

Fields a service adds later are ignored rather than refused, so a service can grow its API
without breaking the gateway; an answer missing what is promised here is a 502.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.auth import Role
from shared.events import AssessedResult, EnrolmentRejectionReason, OfferingSnapshot
from shared.events.vocabulary import LearnerId, OfferingId, PartnerId


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Offering(_Answer):
    offering_id: str
    partner_id: str
    version: int
    status: str = Field(description="`published`, or `withdrawn` (no new enrolments).")
    offering: OfferingSnapshot | None = Field(description="Every EU micro-credential element.")


class OfferingPage(_Answer):
    items: list[Offering]
    total: int = Field(description="Matching offerings in all pages.")
    limit: int
    offset: int


class EnrolmentRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"offering_id": "off-valdemora-data-ethics-2025"}]},
    )

    offering_id: OfferingId


class Enrolment(_Answer):
    enrolment_id: str
    offering_id: str
    partner_id: str = Field(description="The teaching partner.")
    learner_id: str
    status: Literal["accepted", "waitlisted", "rejected", "withdrawn"]
    position: int | None = Field(
        default=None, description="Place on the waiting list (1 = next), while waiting."
    )
    reason: EnrolmentRejectionReason | None = Field(
        default=None, description="Why the request was refused, if it was."
    )
    detail: str | None = Field(default=None, description="Readable explanation of a refusal.")
    requested_at: dt.datetime
    changed_at: dt.datetime


class Result(AssessedResult):
    model_config = ConfigDict(extra="ignore", frozen=True)

    recorded_at: dt.datetime
    status: Literal["current", "superseded"] = Field(
        description="Only the current result counts; a correction supersedes the earlier one."
    )
    superseded_by_result_id: str | None = None


class ResultPage(_Answer):
    items: list[Result]
    limit: int
    offset: int


class Me(BaseModel):
    """Who the access token says the caller is."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"role": "learner", "learner_id": "lrn-4f0c2a9e1b7d6c35"},
                {"role": "partner_staff", "partner_id": "valdemora"},
            ]
        }
    )

    role: Role
    learner_id: LearnerId | None = Field(
        default=None, description="The caller's pseudonymous learner id, for learners."
    )
    partner_id: PartnerId | None = Field(
        default=None, description="The partner the caller acts for, for partner staff/systems."
    )
