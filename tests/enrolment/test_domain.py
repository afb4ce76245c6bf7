"""Enrolment rules without I/O: capacity, waiting list, prerequisites, offering versions."""

from __future__ import annotations

import datetime as dt

import pytest

from services.enrolment.domain import (
    EarnedCredential,
    Enrolment,
    EnrolmentStatus,
    NotWithdrawable,
    Offering,
    OfferingStatus,
    Seats,
    accept_from_waiting_list,
    apply_offering,
    completed_offering_ids,
    credential_status_changed,
    decide,
    seats_to_fill,
    withdraw,
)
from shared.events import EnrolmentRejectionReason, Prerequisites
from shared.offering_views import OfferingConflict
from tests.support.builders import offering_published, offering_withdrawn

AT = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
LEARNER = "lrn-0a1b2c3d"
PREREQUISITE = "off-nordhavn-intro-data-science"


def _offering(capacity: int = 2, *required: str) -> Offering:
    return Offering(
        "off-valdemora-ethics", "valdemora", 1, OfferingStatus.PUBLISHED, capacity, required
    )


def _enrolment(status: EnrolmentStatus) -> Enrolment:
    return Enrolment(
        "enr-0001", "off-valdemora-ethics", "valdemora", LEARNER, status, AT, AT, position=1
    )


def test_places_are_given_until_capacity_then_the_waiting_list_grows_in_order() -> None:
    offering = _offering(capacity=2)
    outcomes = []
    accepted = waiting = 0
    for _ in range(5):
        decision = decide(offering, Seats(accepted, waiting), ())
        outcomes.append((decision.status, decision.position))
        if decision.status is EnrolmentStatus.ACCEPTED:
            accepted += 1
        else:
            waiting += 1
    assert outcomes == [
        (EnrolmentStatus.ACCEPTED, None),
        (EnrolmentStatus.ACCEPTED, None),
        (EnrolmentStatus.WAITLISTED, 1),
        (EnrolmentStatus.WAITLISTED, 2),
        (EnrolmentStatus.WAITLISTED, 3),
    ]


def test_nobody_overtakes_the_waiting_list_when_a_seat_is_free() -> None:
    decision = decide(_offering(capacity=3), Seats(accepted=2, waiting=1), ())
    assert (decision.status, decision.position) == (EnrolmentStatus.WAITLISTED, 2)


def test_a_withdrawn_offering_refuses_requests() -> None:
    offering = apply_offering(
        _offering(), offering_withdrawn(offering_published("valdemora"), version=2)
    )
    assert offering is not None
    decision = decide(offering, Seats(0, 0), ())
    assert decision.status is EnrolmentStatus.REJECTED
    assert decision.reason is EnrolmentRejectionReason.OFFERING_WITHDRAWN
    assert seats_to_fill(offering, accepted=0) == 0


def test_missing_prerequisites_are_refused_and_named() -> None:
    offering = _offering(5, PREREQUISITE, "off-rheinfeld-statistics")
    decision = decide(offering, Seats(0, 0), {PREREQUISITE})
    assert decision.status is EnrolmentStatus.REJECTED
    assert decision.reason is EnrolmentRejectionReason.PREREQUISITES_NOT_MET
    assert decision.detail is not None
    assert "off-rheinfeld-statistics" in decision.detail
    assert PREREQUISITE not in decision.detail


def test_credentials_earned_at_other_partners_meet_prerequisites() -> None:
    earned = [EarnedCredential("cred-nordhavn-0001", LEARNER, PREREQUISITE)]
    decision = decide(_offering(5, PREREQUISITE), Seats(0, 0), completed_offering_ids(earned))
    assert decision.status is EnrolmentStatus.ACCEPTED


def test_a_revoked_credential_no_longer_meets_a_prerequisite() -> None:
    issued = EarnedCredential("cred-nordhavn-0001", LEARNER, PREREQUISITE)
    revoked = credential_status_changed(issued, "cred-nordhavn-0001", LEARNER, revoked=True)
    assert completed_offering_ids([revoked]) == set()
    decision = decide(_offering(5, PREREQUISITE), Seats(0, 0), completed_offering_ids([revoked]))
    assert decision.reason is EnrolmentRejectionReason.PREREQUISITES_NOT_MET


def test_a_suspended_credential_meets_no_prerequisite_until_it_is_reinstated() -> None:
    issued = EarnedCredential("cred-nordhavn-0001", LEARNER, PREREQUISITE)
    suspended = credential_status_changed(issued, "cred-nordhavn-0001", LEARNER, suspended=True)
    decision = decide(_offering(5, PREREQUISITE), Seats(0, 0), completed_offering_ids([suspended]))
    assert decision.reason is EnrolmentRejectionReason.PREREQUISITES_NOT_MET
    reinstated = credential_status_changed(
        suspended, "cred-nordhavn-0001", LEARNER, suspended=False
    )
    assert completed_offering_ids([reinstated]) == {PREREQUISITE}


def test_a_reinstatement_never_undoes_a_revocation() -> None:
    issued = EarnedCredential("cred-nordhavn-0001", LEARNER, PREREQUISITE)
    changes: list[dict[str, bool]] = [{"suspended": True}, {"revoked": True}, {"suspended": False}]
    for change in changes:
        issued = credential_status_changed(issued, "cred-nordhavn-0001", LEARNER, **change)
    assert issued.revoked
    assert completed_offering_ids([issued]) == set()


def test_a_withdrawal_frees_exactly_one_seat_for_the_waiting_list() -> None:
    offering = _offering(capacity=2)
    withdrawn = withdraw(_enrolment(EnrolmentStatus.ACCEPTED), AT)
    assert withdrawn.status is EnrolmentStatus.WITHDRAWN
    assert seats_to_fill(offering, accepted=1) == 1
    promoted = accept_from_waiting_list(_enrolment(EnrolmentStatus.WAITLISTED), AT)
    assert (promoted.status, promoted.position) == (EnrolmentStatus.ACCEPTED, None)


@pytest.mark.parametrize("status", [EnrolmentStatus.REJECTED, EnrolmentStatus.WITHDRAWN])
def test_only_a_place_or_a_queue_place_can_be_withdrawn(status: EnrolmentStatus) -> None:
    with pytest.raises(NotWithdrawable):
        withdraw(_enrolment(status), AT)


def test_more_capacity_fills_more_seats_and_less_takes_none_away() -> None:
    assert seats_to_fill(_offering(capacity=5), accepted=2) == 3
    assert seats_to_fill(_offering(capacity=1), accepted=2) == 0


def test_offering_versions_only_move_forward() -> None:
    published = offering_published(
        "valdemora",
        version=2,
        capacity=7,
        prerequisites=Prerequisites(
            description={"en": "Intro first."}, required_offering_ids=(PREREQUISITE,)
        ),
    )
    offering = apply_offering(None, published)
    assert offering is not None
    assert (offering.capacity, offering.required_offering_ids) == (7, (PREREQUISITE,))
    older = published.model_copy(update={"version": 1, "capacity": 99})
    assert apply_offering(offering, older) is None
    assert apply_offering(offering, published) is None  # a redelivery


def test_a_withdrawal_seen_first_is_not_undone_by_the_older_publication() -> None:
    published = offering_published("valdemora")
    withdrawn = apply_offering(None, offering_withdrawn(published, version=2))
    assert withdrawn is not None
    assert not withdrawn.is_open
    assert apply_offering(withdrawn, published) is None


def test_another_partner_cannot_take_over_an_offering() -> None:
    offering = apply_offering(None, offering_published("valdemora"))
    assert offering is not None
    hijack = offering_published("nordhavn", offering.offering_id, version=2)
    with pytest.raises(OfferingConflict):
        apply_offering(offering, hijack)
