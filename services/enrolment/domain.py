"""Enrolment rules, in plain Python: who gets a place, who waits, who is refused.

The enrolment service keeps its own view of every partner's offerings (capacity, status,
machine-checkable prerequisites) and of the credentials each learner has earned, both built
from events alone, so a request is decided at once without asking another service.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from shared.errors import Conflict, NotFound, NotPermitted
from shared.events import EnrolmentRejectionReason, OfferingWithdrawn
from shared.offering_views import OfferingEvent, supersedes


class OfferingStatus(StrEnum):
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


class EnrolmentStatus(StrEnum):
    ACCEPTED = "accepted"
    WAITLISTED = "waitlisted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"

    @property
    def is_active(self) -> bool:
        """Holds a place or a place in the queue; a learner has at most one per offering."""
        return self in (EnrolmentStatus.ACCEPTED, EnrolmentStatus.WAITLISTED)


@dataclass(frozen=True)
class Offering:
    """What enrolment needs to know of an offering, as its partner last announced it."""

    offering_id: str
    partner_id: str
    version: int
    status: OfferingStatus
    capacity: int
    required_offering_ids: tuple[str, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.status is OfferingStatus.PUBLISHED


def apply_offering(current: Offering | None, event: OfferingEvent) -> Offering | None:
    """The offering after `event`, or None when the event is not newer than what is known;
    `OfferingConflict` for another partner's event (the rule of `shared.offering_views`)."""
    if not supersedes(event, current):
        return None
    if isinstance(event, OfferingWithdrawn):
        # Withdrawn before it was ever seen published: remembered with no seats, so a late
        # older publication cannot open it.
        capacity = current.capacity if current else 0
        required = current.required_offering_ids if current else ()
        return Offering(
            event.offering_id,
            event.partner_id,
            event.version,
            OfferingStatus.WITHDRAWN,
            capacity,
            required,
        )
    prerequisites = event.prerequisites
    return Offering(
        event.offering_id,
        event.partner_id,
        event.version,
        OfferingStatus.PUBLISHED,
        event.capacity,
        tuple(prerequisites.required_offering_ids) if prerequisites else (),
    )


@dataclass(frozen=True)
class EarnedCredential:
    """A credential a learner was issued, as far as prerequisites care."""

    credential_id: str
    learner_id: str
    offering_id: str | None  # None only while its status is known but not its issuance
    revoked: bool = False
    suspended: bool = False


def credential_status_changed(
    current: EarnedCredential | None,
    credential_id: str,
    learner_id: str,
    *,
    revoked: bool | None = None,
    suspended: bool | None = None,
) -> EarnedCredential:
    """A revocation (for good) or a suspension or reinstatement (until the next one)."""
    known = current or EarnedCredential(credential_id, learner_id, None)
    return replace(
        known,
        revoked=known.revoked or bool(revoked),
        suspended=known.suspended if suspended is None else suspended,
    )


def completed_offering_ids(credentials: Iterable[EarnedCredential]) -> set[str]:
    """The offerings the learner holds a valid credential for; a revoked credential counts
    for none, a suspended one for none while it is suspended."""
    return {c.offering_id for c in credentials if c.offering_id and not (c.revoked or c.suspended)}


@dataclass(frozen=True)
class Seats:
    """How an offering's places are taken right now."""

    accepted: int
    waiting: int


@dataclass(frozen=True)
class Standing:
    """What a learner's request for a place in an offering is decided on, besides the
    offering and its places: the learner's active enrolment in it (id and status) if they
    hold one, and the credentials the learner earned."""

    enrolled: tuple[str, EnrolmentStatus] | None
    earned: tuple[EarnedCredential, ...]


@dataclass(frozen=True)
class Decision:
    status: EnrolmentStatus
    position: int | None = None
    reason: EnrolmentRejectionReason | None = None
    detail: str | None = None


def missing_prerequisites(offering: Offering, earned_offering_ids: Iterable[str]) -> list[str]:
    """The required offerings the learner holds no valid credential for."""
    earned = set(earned_offering_ids)
    return [o for o in offering.required_offering_ids if o not in earned]


def decide(offering: Offering, seats: Seats, earned_offering_ids: Iterable[str]) -> Decision:
    """The answer to a learner's request for a place in `offering`."""
    if not offering.is_open:
        return Decision(
            EnrolmentStatus.REJECTED,
            reason=EnrolmentRejectionReason.OFFERING_WITHDRAWN,
            detail=f"The offering {offering.offering_id} was withdrawn by {offering.partner_id}.",
        )
    missing = missing_prerequisites(offering, earned_offering_ids)
    if missing:
        return Decision(
            EnrolmentStatus.REJECTED,
            reason=EnrolmentRejectionReason.PREREQUISITES_NOT_MET,
            detail="This offering requires a valid credential from each of: "
            + ", ".join(missing)
            + ".",
        )
    # Nobody overtakes the waiting list, even if a seat is momentarily free.
    if seats.waiting == 0 and seats.accepted < offering.capacity:
        return Decision(EnrolmentStatus.ACCEPTED)
    return Decision(EnrolmentStatus.WAITLISTED, position=seats.waiting + 1)


def seats_to_fill(offering: Offering, accepted: int) -> int:
    """How many learners may move from the waiting list to a place now."""
    if not offering.is_open:
        return 0
    return max(0, offering.capacity - accepted)


@dataclass(frozen=True)
class Enrolment:
    enrolment_id: str
    offering_id: str
    partner_id: str
    learner_id: str
    status: EnrolmentStatus
    requested_at: dt.datetime
    changed_at: dt.datetime
    position: int | None = None
    reason: EnrolmentRejectionReason | None = None
    detail: str | None = None


class OfferingNotFound(NotFound):
    """Enrolment has never heard of this offering."""

    title = "Offering not found"


class EnrolmentNotFound(NotFound):
    """No such enrolment, or not the caller's: another learner's is answered like a missing
    one, so enrolment ids are not confirmed to strangers."""

    title = "Enrolment not found"


class NotTheTeachingPartner(NotPermitted):
    """Only the partner teaching an offering sees who enrolled in it."""


class AlreadyEnrolled(Conflict):
    """The learner already holds a place or a place in the queue in this offering."""

    title = "Already enrolled"

    def __init__(self, offering_id: str, enrolment_id: str, status: EnrolmentStatus) -> None:
        super().__init__(
            f"You already have an enrolment ({enrolment_id}, {status}) in {offering_id}."
        )


class NotWithdrawable(Conflict):
    """The enrolment holds neither a place nor a place in the queue."""

    title = "Nothing to withdraw"


def withdraw(enrolment: Enrolment, at: dt.datetime) -> Enrolment:
    if not enrolment.status.is_active:
        raise NotWithdrawable(f"The enrolment {enrolment.enrolment_id} is {enrolment.status}.")
    return replace(enrolment, status=EnrolmentStatus.WITHDRAWN, changed_at=at, position=None)


def accept_from_waiting_list(enrolment: Enrolment, at: dt.datetime) -> Enrolment:
    return replace(enrolment, status=EnrolmentStatus.ACCEPTED, changed_at=at, position=None)


def reject_for_withdrawn_offering(enrolment: Enrolment, at: dt.datetime) -> Enrolment:
    return replace(
        enrolment,
        status=EnrolmentStatus.REJECTED,
        changed_at=at,
        position=None,
        reason=EnrolmentRejectionReason.OFFERING_WITHDRAWN,
        detail=f"The offering {enrolment.offering_id} was withdrawn before a place came free.",
    )


def new_enrolment_id() -> str:
    return f"enr-{uuid.uuid4().hex}"
