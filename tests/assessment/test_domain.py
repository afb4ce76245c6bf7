"""The assessment rules, without I/O: which submissions count, and how corrections work."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest

from services.assessment.domain import (
    AlreadyAssessed,
    Enrolment,
    EnrolmentConflict,
    EnrolmentStatus,
    EnrolmentUnknown,
    Facts,
    NotEnrolled,
    NothingToCorrect,
    NotTeachingPartner,
    Offering,
    OfferingUnknown,
    Result,
    ResultIdTaken,
    ResultRefused,
    ResultSuperseded,
    accept,
    apply_enrolment,
    apply_offering,
)
from shared.errors import NotYet
from shared.events import (
    AssessedResult,
    EnrolmentAccepted,
    EnrolmentWithdrawn,
    Grade,
    OfferingWithdrawn,
    Outcome,
)
from shared.events.vocabulary import AssessmentType, SupervisionAndIdentityVerification
from shared.offering_views import OfferingConflict
from shared.problems import domain_status
from tests.support.builders import offering_published

NOW = dt.datetime(2026, 6, 30, 12, tzinfo=dt.UTC)
OFFERING = Offering("off-rheinfeld-ml", "rheinfeld", 1)
ENROLMENT = Enrolment(
    "enr-0001", "lrn-ada-0001", "off-rheinfeld-ml", "rheinfeld", EnrolmentStatus.ACCEPTED
)


def submission(**changes: object) -> AssessedResult:
    fields: dict[str, object] = {
        "result_id": "res-0001",
        "enrolment_id": ENROLMENT.enrolment_id,
        "offering_id": OFFERING.offering_id,
        "partner_id": "rheinfeld",
        "learner_id": ENROLMENT.learner_id,
        "outcome": Outcome.PASSED,
        "grade": Grade(value="1,7", scheme="de-1-5"),
        "assessment_type": AssessmentType.PROJECT_WORK,
        "supervision_and_identity_verification": (
            SupervisionAndIdentityVerification.SUPERVISED_WITH_IDENTITY_VERIFICATION
        ),
        "assessed_on": dt.date(2026, 6, 27),
        **changes,
    }
    return AssessedResult.model_validate(fields)


def facts(**changes: Any) -> Facts:
    return replace(
        Facts(OFFERING, ENROLMENT, same_id=None, corrected=None, current=None), **changes
    )


def refusal(result: AssessedResult, held: Facts) -> type[ResultRefused]:
    with pytest.raises(ResultRefused) as refused:
        accept(result, held, NOW)
    return type(refused.value)


# --- offerings and enrolments -------------------------------------------------------------


def test_an_offering_is_held_with_its_teaching_partner_and_only_newer_versions_apply() -> None:
    published = offering_published("rheinfeld")
    held = apply_offering(None, published)
    assert held == Offering(published.offering_id, "rheinfeld", published.version)
    assert apply_offering(held, published) is None
    withdrawn = OfferingWithdrawn(
        offering_id=published.offering_id,
        partner_id="rheinfeld",
        version=published.version + 1,
        reason="Cancelled.",
        withdrawn_at=NOW,
    )
    # Withdrawn, it still has a teaching partner: enrolled learners are still assessed.
    assert apply_offering(held, withdrawn) == Offering(
        published.offering_id, "rheinfeld", published.version + 1
    )


def test_an_offering_event_naming_another_partner_is_a_conflict() -> None:
    published = offering_published("nordhavn", offering_id=OFFERING.offering_id)
    with pytest.raises(OfferingConflict):
        apply_offering(OFFERING, published)


def _accepted(**changes: str) -> EnrolmentAccepted:
    fields = {
        "enrolment_id": ENROLMENT.enrolment_id,
        "offering_id": ENROLMENT.offering_id,
        "partner_id": ENROLMENT.partner_id,
        "learner_id": ENROLMENT.learner_id,
        **changes,
    }
    return EnrolmentAccepted(**fields, accepted_at=NOW)


def _withdrawn() -> EnrolmentWithdrawn:
    return EnrolmentWithdrawn(**_accepted().model_dump(exclude={"accepted_at"}), withdrawn_at=NOW)


def test_an_accepted_enrolment_is_held_and_a_withdrawal_is_final() -> None:
    assert apply_enrolment(None, _accepted()) == ENROLMENT
    assert apply_enrolment(ENROLMENT, _accepted()) is None
    withdrawn = apply_enrolment(ENROLMENT, _withdrawn())
    assert withdrawn is not None
    assert withdrawn.status is EnrolmentStatus.WITHDRAWN
    assert apply_enrolment(withdrawn, _accepted()) is None


def test_an_enrolment_event_for_another_learner_under_a_held_id_is_a_conflict() -> None:
    with pytest.raises(EnrolmentConflict):
        apply_enrolment(ENROLMENT, _accepted(learner_id="lrn-grace-0002"))


# --- submissions ---------------------------------------------------------------------------


def test_a_submission_by_the_teaching_partner_for_an_enrolled_learner_counts() -> None:
    accepted = accept(submission(), facts(), NOW)
    assert not accepted.repeat
    assert accepted.result == Result(submission(), NOW)
    recorded = accepted.result.recorded_event()
    assert recorded.model_dump(exclude={"recorded_at"}) == submission().model_dump()
    assert recorded.recorded_at == NOW


def test_the_same_result_again_is_a_repeat_with_the_first_answer() -> None:
    first = Result(submission(), NOW - dt.timedelta(hours=1))
    withdrawn = replace(ENROLMENT, status=EnrolmentStatus.WITHDRAWN)
    accepted = accept(submission(), facts(same_id=first, enrolment=withdrawn), NOW)
    assert accepted.repeat
    assert accepted.result is first


def test_a_result_id_reused_for_different_content_is_refused() -> None:
    first = Result(submission(), NOW)
    assert refusal(submission(outcome=Outcome.FAILED), facts(same_id=first)) is ResultIdTaken


@pytest.mark.parametrize(
    ("held", "expected"),
    [
        ({"offering": None}, OfferingUnknown),
        (
            {"offering": Offering(OFFERING.offering_id, "nordhavn", 1)},
            NotTeachingPartner,
        ),
        ({"enrolment": None}, EnrolmentUnknown),
    ],
)
def test_missing_or_contradicting_facts_refuse_the_submission(
    held: dict[str, Any], expected: type[ResultRefused]
) -> None:
    assert refusal(submission(), facts(**held)) is expected


def test_unknown_facts_are_not_found_by_a_request_and_awaited_by_an_event() -> None:
    for unknown, fact in [
        (OfferingUnknown(OFFERING.offering_id), f"offering:{OFFERING.offering_id}"),
        (EnrolmentUnknown(ENROLMENT.enrolment_id), f"enrolment:{ENROLMENT.enrolment_id}"),
    ]:
        assert domain_status(unknown) == 404
        assert isinstance(unknown, NotYet)
        assert unknown.waiting_for == fact
        assert str(unknown).startswith(f"{unknown.code}: ")


def test_a_learner_must_hold_the_named_enrolment_in_that_offering() -> None:
    assert refusal(submission(learner_id="lrn-grace-0002"), facts()) is NotEnrolled
    other_offering = replace(ENROLMENT, offering_id="off-rheinfeld-db")
    assert refusal(submission(), facts(enrolment=other_offering)) is NotEnrolled


def test_a_withdrawn_enrolment_takes_no_result() -> None:
    withdrawn = replace(ENROLMENT, status=EnrolmentStatus.WITHDRAWN)
    with pytest.raises(ResultRefused, match="withdrawn"):
        accept(submission(), facts(enrolment=withdrawn), NOW)


def test_a_second_result_for_an_assessed_enrolment_must_be_a_correction() -> None:
    current = Result(submission(), NOW)
    second = submission(result_id="res-0002")
    assert refusal(second, facts(current=current)) is AlreadyAssessed


def test_a_correction_of_the_current_result_counts() -> None:
    current = Result(submission(), NOW)
    correction = submission(
        result_id="res-0002",
        grade=Grade(value="1,3", scheme="de-1-5"),
        supersedes_result_id="res-0001",
    )
    accepted = accept(correction, facts(current=current, corrected=current), NOW)
    assert accepted.result.result.supersedes_result_id == "res-0001"
    assert accepted.result.recorded_event().supersedes_result_id == "res-0001"


def test_a_correction_must_name_a_result_of_the_same_enrolment() -> None:
    correction = submission(result_id="res-0002", supersedes_result_id="res-9999")
    assert refusal(correction, facts()) is NothingToCorrect
    elsewhere = Result(submission(enrolment_id="enr-0002"), NOW)
    assert refusal(correction, facts(corrected=elsewhere)) is NothingToCorrect


def test_a_superseded_result_cannot_be_corrected_again() -> None:
    superseded = Result(submission(), NOW, superseded_by_result_id="res-0002")
    current = Result(submission(result_id="res-0002", supersedes_result_id="res-0001"), NOW)
    correction = submission(result_id="res-0003", supersedes_result_id="res-0001")
    assert refusal(correction, facts(corrected=superseded, current=current)) is ResultSuperseded
