"""Correctness under load and the journey latencies, from what the driver did and saw."""

from __future__ import annotations

from typing import Any

import pytest

from bench.checks import (
    Credentials,
    assessment_to_credential,
    check,
    hops,
    last_component_to_stacked,
)
from bench.journeys import (
    CREDENTIAL_ISSUED,
    ENROLMENT_ACCEPTED,
    PATHWAY_COMPLETED,
    RESULT_RECORDED,
    Tally,
)
from bench.observe import Seen

PATHWAY = "pth-bench-test"
ADA, BOB = "lrn-ada0", "lrn-bob0"
OFF_A, OFF_B = "off-bench-a", "off-bench-b"


def seen(kind: str, moment: float, event_id: str | None = None, **payload: Any) -> Seen:
    return Seen(kind, event_id or f"{kind}-{moment}-{sorted(payload.items())}", moment, payload)


def component(learner: str, offering: str, credential: str, moment: float) -> Seen:
    return seen(
        CREDENTIAL_ISSUED,
        moment,
        credential_id=credential,
        learner_id=learner,
        offering_id=offering,
    )


def stacked(learner: str, credential: str, moment: float) -> Seen:
    return seen(
        CREDENTIAL_ISSUED,
        moment,
        credential_id=credential,
        learner_id=learner,
        pathway_id=PATHWAY,
    )


def one_learner_journey() -> tuple[Tally, list[Seen]]:
    """Ada enrols in two offerings, passes both, and completes the pathway."""
    tally = Tally(started=100.0)
    tally.learners = {ADA}
    tally.enrolled = {"enr-1": (ADA, OFF_A), "enr-2": (ADA, OFF_B)}
    tally.results = {"res-1": (ADA, OFF_A), "res-2": (ADA, OFF_B)}
    tally.submitted = {(ADA, OFF_A): 101.0, (ADA, OFF_B): 101.5}
    events = [
        seen(ENROLMENT_ACCEPTED, 100.1, enrolment_id="enr-1"),
        seen(ENROLMENT_ACCEPTED, 100.2, enrolment_id="enr-2"),
        seen(RESULT_RECORDED, 101.1, result_id="res-1"),
        seen(RESULT_RECORDED, 101.7, result_id="res-2"),
        component(ADA, OFF_A, "cred-a", 101.3),
        component(ADA, OFF_B, "cred-b", 102.0),
        seen(PATHWAY_COMPLETED, 102.4, learner_id=ADA, pathway_id=PATHWAY),
        stacked(ADA, "cred-s", 102.5),
    ]
    return tally, events


def test_a_complete_journey_is_correct() -> None:
    tally, events = one_learner_journey()
    held = {ADA: {"cred-a", "cred-b", "cred-s"}}
    result = check(tally, events, PATHWAY, dead_letters=0, held_per_api=held, unverified={})
    assert result.ok, result.problems
    assert set(result.counts.values()) == {0}


def test_a_redelivered_event_is_not_a_duplicated_effect_but_a_second_credential_is() -> None:
    tally, events = one_learner_journey()
    redelivered = events[4]
    assert check(tally, [*events, redelivered], PATHWAY, 0).ok
    second = component(ADA, OFF_A, "cred-a2", 103.0)
    result = check(tally, [*events, second], PATHWAY, 0)
    assert result.counts["results_with_several_credentials"] == 1
    assert any("more than one credential" in problem for problem in result.problems)


def test_lost_effects_are_named() -> None:
    tally, events = one_learner_journey()
    without_b = [e for e in events if e.payload.get("credential_id") != "cred-b"]
    without_b = [e for e in without_b if e.payload.get("result_id") != "res-2"]
    without_b = [e for e in without_b if e.payload.get("credential_id") != "cred-s"]
    result = check(tally, without_b, PATHWAY, 0)
    assert result.counts["results_not_recorded"] == 1
    assert result.counts["results_without_credential"] == 1
    assert result.counts["pathways_without_stacked_credential"] == 1
    assert not result.ok


def test_an_enrolment_announced_twice_and_dead_letters_are_problems() -> None:
    tally, events = one_learner_journey()
    twice = seen(ENROLMENT_ACCEPTED, 100.3, enrolment_id="enr-1")
    result = check(tally, [*events, twice], PATHWAY, dead_letters=2)
    assert result.counts["enrolments_announced_twice"] == 1
    assert result.counts["dead_letters"] == 1
    assert len(result.problems) == 2


def test_the_api_must_agree_and_every_credential_must_verify() -> None:
    tally, events = one_learner_journey()
    result = check(
        tally,
        events,
        PATHWAY,
        0,
        held_per_api={ADA: {"cred-a", "cred-b"}},
        unverified={"cred-s": "proof: bad signature"},
    )
    assert result.counts["api_disagrees"] == 1
    assert result.counts["credentials_not_verified"] == 1
    assert "cred-s: proof: bad signature" in " ".join(result.problems)


def test_a_learner_whose_enrolment_failed_is_not_expected_to_finish() -> None:
    tally, events = one_learner_journey()
    tally.learners.add(BOB)
    tally.abandoned.add(BOB)
    tally.refused.append(f"{OFF_A}: 504 gateway timeout")
    result = check(tally, events, PATHWAY, 0)
    assert result.counts["pathways_without_stacked_credential"] == 0
    assert result.counts["enrolments_refused_or_failed"] == 1


def test_latencies_run_from_submission_to_credential_and_last_component_to_stacked() -> None:
    tally, events = one_learner_journey()
    credentials = Credentials.of(events, tally.learners, PATHWAY)
    a2c = sorted(ms for _, ms in assessment_to_credential(tally.submitted, credentials))
    assert a2c == pytest.approx([300.0, 500.0])
    stacking = last_component_to_stacked({ADA: [OFF_A, OFF_B]}, credentials)
    assert [(moment, round(ms, 3)) for moment, ms in stacking] == [(102.5, 500.0)]


def test_the_hops_split_a_journey_by_service() -> None:
    tally, events = one_learner_journey()
    credentials = Credentials.of(events, tally.learners, PATHWAY)
    split = hops(tally, events, credentials, PATHWAY)
    assert split["result submitted -> recorded (assessment)"] == pytest.approx([100.0, 200.0])
    assert split["result recorded -> credential issued (issuance)"] == pytest.approx([200.0, 300.0])
    assert split["last credential -> pathway completed (recognition)"] == pytest.approx([400.0])
    assert split["pathway completed -> stacked credential (issuance)"] == pytest.approx([100.0])


def test_other_learners_and_other_pathways_are_not_this_runs_credentials() -> None:
    tally, events = one_learner_journey()
    foreign = [component(BOB, OFF_A, "cred-x", 101.0), stacked(ADA, "cred-y", 1.0)]
    foreign[1] = Seen(CREDENTIAL_ISSUED, "other", 1.0, {**foreign[1].payload, "pathway_id": "p"})
    credentials = Credentials.of([*events, *foreign], tally.learners, PATHWAY)
    assert credentials.ids() == {ADA: {"cred-a", "cred-b", "cred-s"}}
