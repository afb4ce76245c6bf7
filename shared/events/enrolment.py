"""Enrolment events: a learner asks for a place and the teaching partner answers."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, TypeVar

from pydantic import Field

from shared.events.spec import EventSpec
from shared.events.topics import ENROLMENTS
from shared.events.vocabulary import (
    EnrolmentId,
    LearnerId,
    OfferingId,
    PartnerId,
    Payload,
    Text,
    Timestamp,
)


class EnrolmentRejectionReason(StrEnum):
    """Why an enrolment request was refused."""

    PREREQUISITES_NOT_MET = "prerequisites_not_met"
    OFFERING_CLOSED = "offering_closed"
    OFFERING_WITHDRAWN = "offering_withdrawn"
    OFFERING_UNKNOWN = "offering_unknown"
    DUPLICATE = "duplicate"


class EnrolmentEvent(Payload):
    """Fields every enrolment event carries."""

    enrolment_id: EnrolmentId
    offering_id: OfferingId
    partner_id: PartnerId = Field(description="The teaching partner.")
    learner_id: LearnerId


class EnrolmentRequested(EnrolmentEvent):
    """A learner asked to enrol in an offering."""

    requested_at: Timestamp


class EnrolmentAccepted(EnrolmentEvent):
    """The learner has a place."""

    accepted_at: Timestamp


class EnrolmentWaitlisted(EnrolmentEvent):
    """The offering is full; the learner is on its waiting list."""

    position: Annotated[int, Field(ge=1, description="Position on the waiting list, 1 = next.")]
    waitlisted_at: Timestamp


class EnrolmentRejected(EnrolmentEvent):
    """The request was refused."""

    reason: EnrolmentRejectionReason
    detail: Text = Field(description="Human-readable explanation for the learner.")
    rejected_at: Timestamp


class EnrolmentWithdrawn(EnrolmentEvent):
    """The enrolment (or waiting-list place) was given up; its place is free again."""

    detail: Text | None = None
    withdrawn_at: Timestamp


E = TypeVar("E", bound=EnrolmentEvent)


def _spec(name: str, model: type[E], summary: str) -> EventSpec[E]:
    return EventSpec(
        name=name,
        version=1,
        model=model,
        topic=ENROLMENTS,
        summary=summary,
        key=lambda e: e.learner_id,
        subject=lambda e: e.enrolment_id,
        acting_partner=lambda e: e.partner_id,
    )


ENROLMENT_REQUESTED = _spec(
    "enrolment.requested", EnrolmentRequested, "A learner asked to enrol in an offering."
)
ENROLMENT_ACCEPTED = _spec(
    "enrolment.accepted", EnrolmentAccepted, "The teaching partner gave the learner a place."
)
ENROLMENT_WAITLISTED = _spec(
    "enrolment.waitlisted", EnrolmentWaitlisted, "The learner was put on the waiting list."
)
ENROLMENT_REJECTED = _spec(
    "enrolment.rejected", EnrolmentRejected, "The enrolment request was refused."
)
ENROLMENT_WITHDRAWN = _spec(
    "enrolment.withdrawn", EnrolmentWithdrawn, "The enrolment was given up; a place is free."
)
SPECS = (
    ENROLMENT_REQUESTED,
    ENROLMENT_ACCEPTED,
    ENROLMENT_WAITLISTED,
    ENROLMENT_REJECTED,
    ENROLMENT_WITHDRAWN,
)
