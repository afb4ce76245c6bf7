"""Issuance rules, without I/O: the credential's EU elements from an offering and a result,
one valid credential per enrolment, and the partners' keys and DIDs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from services.issuance.domain import (
    Action,
    EarlierCredential,
    Issuance,
    Party,
    achievement_summary,
    decide_on_result,
    microcredential_data,
)
from services.issuance.keys import CredentialKeys, UnknownPartnerKey
from shared.credentials import build_microcredential, verify_credential
from shared.credentials.microcredential import read_narrative
from shared.events import (
    AwardingBody,
    Grade,
    LearningOutcome,
    Outcome,
    ParticipationMode,
    Prerequisites,
    ResultRecorded,
    Stackability,
)
from shared.keygen import generate
from tests.contracts.examples import example_event
from tests.support.builders import offering_published

ISSUER = Party("nordhavn", "did:web:issuer.example:partners:nordhavn", "Nordhavn", "DK")
AWARDING = Party("rheinfeld", "did:web:issuer.example:partners:rheinfeld", "Rheinfeld", "DE")


def _result(**changes: object) -> ResultRecorded:
    template = example_event("assessment.result_recorded")
    assert isinstance(template, ResultRecorded)
    return template.model_copy(update=changes)


def _issuance(index: int = 42) -> Issuance:
    return Issuance(
        credential_url="https://issuer.example/credentials/cred-abcd",
        achievement_id="https://issuer.example/achievements/off-x",
        issuer=ISSUER,
        awarding_body=AWARDING,
        assessing_body=AWARDING,
        issued_at=dt.datetime(2026, 7, 1, 9, 30, tzinfo=dt.UTC),
        status_list_url="https://issuer.example/status/nordhavn/revocation",
        status_list_index=index,
    )


def test_every_eu_element_comes_from_the_offering_and_the_result() -> None:
    terms = offering_published(
        "rheinfeld",
        title={"de": "Datenethik", "en": "Data ethics"},
        languages_of_instruction=("en",),
        participation_mode=ParticipationMode.BLENDED,
        stackability=Stackability.STACKABLE,
    )
    result = _result(grade=Grade(value="1,7", scheme="de-1-5"))
    data = microcredential_data(terms, result, _issuance())

    assert (data.title, data.language) == ("Data ethics", "en")  # 2 title, in instruction language
    assert [t.language for t in data.translations] == ["de"]
    assert data.issuer.country_code == "DK"
    assert data.awarding_body.id == AWARDING.did
    assert data.valid_from == "2026-07-01T09:30:00Z"  # 5
    assert len(data.learning_outcomes) == len(terms.learning_outcomes)  # 6
    assert (data.ects, data.eqf_level) == (terms.workload.ects, terms.eqf_level)  # 7, 8
    assert data.assessment_type.code == result.assessment_type.value  # 9: as assessed
    assert data.participation_form.uri == "http://data.europa.eu/snb/learning-assessment/e92d221e4d"
    assert data.quality_assurance.code == terms.quality_assurance[0].value  # 11
    assert data.supervision is not None  # optional elements that apply
    assert data.supervision.code == result.supervision_and_identity_verification.value
    assert (data.grade, data.grade_scale) == ("1,7", "de-1-5")
    assert data.stackability is not None
    assert data.stackability.code == "stackable"
    assert data.learner_id == result.learner_id
    assert (data.status_list_credential, data.status_list_index) == (
        "https://issuer.example/status/nordhavn/revocation",
        42,
    )
    credential = build_microcredential(data)
    assert (
        "issued on its behalf by Nordhavn"
        in (credential["credentialSubject"]["achievement"]["criteria"]["narrative"])
    )


def test_the_credential_carries_outcomes_and_prerequisites_in_every_language_given() -> None:
    outcomes = (
        {"en": "Assess a system for bias.", "de": "Ein System auf Verzerrung prüfen.",
         "da": "Vurdere et system for skævhed."},
        {"en": "Write an impact assessment.", "da": "Skrive en konsekvensanalyse."},
    )  # fmt: skip
    prerequisites = {"en": "Basic statistics.", "de": "Grundlagen der Statistik."}
    terms = offering_published(
        "rheinfeld",
        title={"en": "Data ethics", "de": "Datenethik"},
        languages_of_instruction=("en",),
        learning_outcomes=tuple(LearningOutcome(text=text) for text in outcomes),
        prerequisites=Prerequisites(description=prerequisites),
    )
    credential = build_microcredential(microcredential_data(terms, _result(), _issuance()))
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["inLanguage"] == "en"
    stated = read_narrative(achievement["criteria"]["narrative"], "en")
    assert stated.learning_outcomes == outcomes
    assert stated.prerequisites == prerequisites


def test_joint_awarding_bodies_are_stated_and_a_missing_stackability_is_stand_alone() -> None:
    terms = offering_published(
        "rheinfeld",
        awarding_bodies=(
            AwardingBody(partner_id="rheinfeld", legal_name="TH Rheinfeld", country="DE"),
            AwardingBody(
                partner_id="vallombra", legal_name="Università di Vallombra", country="IT"
            ),
        ),
        stackability=None,
        description=None,
    )
    data = microcredential_data(terms, _result(grade=None), _issuance())
    assert "Awarded jointly with Università di Vallombra (IT)." in data.description
    assert data.grade is None
    assert data.stackability is not None
    assert data.stackability.code == "stand_alone"
    assert achievement_summary(terms).stackability is Stackability.STAND_ALONE


@pytest.mark.parametrize(
    ("outcome", "earlier", "action"),
    [
        (Outcome.PASSED, [], Action.ISSUE),
        (Outcome.FAILED, [], Action.NOTHING),
        # The same result again (redelivered under a new event id): nothing more.
        (Outcome.PASSED, [EarlierCredential("res-this-one", False)], Action.NOTHING),
        # A correction: the new grade gets a new credential, the old one is revoked.
        (Outcome.PASSED, [EarlierCredential("res-earlier", False)], Action.REISSUE),
        (Outcome.FAILED, [EarlierCredential("res-earlier", False)], Action.REVOKE),
        # Passed again after a correction to failed.
        (
            Outcome.PASSED,
            [EarlierCredential("res-earlier", True, "result_superseded")],
            Action.ISSUE,
        ),
        # The issuer revoked it by decision: a result does not bring it back.
        (Outcome.PASSED, [EarlierCredential("res-earlier", True, "misconduct")], Action.NOTHING),
    ],
)
def test_one_valid_credential_per_enrolment(
    outcome: Outcome, earlier: list[EarlierCredential], action: Action
) -> None:
    result = _result(result_id="res-this-one", outcome=outcome)
    assert decide_on_result(result, earlier) is action


def test_a_rotated_key_signs_new_credentials_and_old_ones_still_verify(tmp_path: Path) -> None:
    generate(tmp_path / "valdemora-1.pem")
    base = "http://127.0.0.1:8004"
    before = CredentialKeys.load(tmp_path, base)
    old = before.sign("valdemora", _unsigned(before.did("valdemora")), "2026-01-01T00:00:00Z")

    generate(tmp_path / "valdemora-2.pem")
    after = CredentialKeys.load(tmp_path, base)
    document = after.did_document("valdemora")
    assert document["id"] == "did:web:127.0.0.1%3A8004:partners:valdemora"
    assert len(document["assertionMethod"]) == 2
    assert document["assertionMethod"][1] == old["proof"]["verificationMethod"]  # newest first
    new = after.sign("valdemora", _unsigned(after.did("valdemora")), "2026-02-01T00:00:00Z")
    assert new["proof"]["verificationMethod"] == document["assertionMethod"][0]
    assert verify_credential(old, after.resolver()).verified
    assert verify_credential(new, after.resolver()).verified
    with pytest.raises(UnknownPartnerKey):
        after.did("nordhavn")


def test_did_key_for_offline_use(tmp_path: Path) -> None:
    generate(tmp_path / "lindeveld-1.pem")
    keys = CredentialKeys.load(tmp_path, "http://127.0.0.1:8004", "key")
    did = keys.did("lindeveld")
    assert did.startswith("did:key:z6Mk")
    signed = keys.sign("lindeveld", _unsigned(did), "2026-01-01T00:00:00Z")
    # Resolvable from the DID alone: no document needed.
    assert verify_credential(signed, keys.resolver()).verified
    assert keys.trusted_issuers()[did] == "lindeveld"


def _unsigned(issuer: str) -> dict[str, object]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner"},
    }
