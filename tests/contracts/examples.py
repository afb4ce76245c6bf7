"""Realistic example payloads for every event type, reusable by other tests.

One journey: a learner takes "Data Ethics" at valdemora (awarded by valdemora, issued by the
alliance hub nordhavn on its behalf), which requires "Intro to Data Science" from nordhavn; both
credentials count towards the alliance pathway "Responsible AI".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from pydantic import BaseModel

from shared.events import (
    AchievementSummary,
    AssessmentType,
    AwardingBody,
    CredentialIssued,
    CredentialReinstated,
    CredentialRevoked,
    CredentialSuspended,
    EnrolmentAccepted,
    EnrolmentRejected,
    EnrolmentRejectionReason,
    EnrolmentRequested,
    EnrolmentWaitlisted,
    EnrolmentWithdrawn,
    Grade,
    LearningOutcome,
    OfferingPublished,
    OfferingUpdated,
    OfferingWithdrawn,
    Outcome,
    ParticipationMode,
    PathwayCompleted,
    PathwayProgressed,
    Prerequisites,
    QualityAssuranceType,
    RecognitionDecided,
    RecognitionDecision,
    RecognitionRequested,
    ResultRecorded,
    ResultSubmitted,
    RevocationReason,
    Stackability,
    StatusListEntry,
    SupervisionAndIdentityVerification,
    Workload,
)
from shared.events.pathways import PathwayCompletionRevoked, PathwayCriteria, PathwayDefined
from shared.events.recognition import RecognitionWithdrawn

LEARNER = "lrn-7f3a9c2e-4b1d"
OFFERING = "off-valdemora-data-ethics-2025"
PREREQUISITE_OFFERING = "off-nordhavn-intro-data-science-2025"
ENROLMENT = "enr-2025-000142"
RESULT = "res-2025-000987"
CREDENTIAL = "cred-2025-valdemora-000311"
PREREQUISITE_CREDENTIAL = "cred-2025-nordhavn-000207"
OTHER_CREDENTIAL = "cred-2025-rheinfeld-000088"
STACKED_CREDENTIAL = "cred-2025-alliance-000019"
PATHWAY = "pth-responsible-ai"
RECOGNITION = "rec-2025-000051"
AT = dt.datetime(2025, 3, 3, 9, 30, tzinfo=dt.UTC)


def _offering_fields() -> dict[str, object]:
    return {
        "offering_id": OFFERING,
        "partner_id": "valdemora",
        "title": {"en": "Data Ethics in Practice", "de": "Datenethik in der Praxis"},
        "description": {
            "en": "Case-based course on fairness, privacy and accountability in data work."
        },
        "awarding_bodies": (
            AwardingBody(
                partner_id="valdemora", legal_name="Universidad de Valdemora", country="ES"
            ),
        ),
        "countries": ("ES",),
        "learning_outcomes": (
            LearningOutcome(
                text={"en": "Assess a data-driven system for bias and privacy risks."},
                esco_skill_uri="http://data.europa.eu/esco/skill/b5a0f7b6-3e09-4b5d-9f0c-2f1ad2f5b0c1",
            ),
            LearningOutcome(text={"en": "Write a data protection impact assessment."}),
        ),
        "workload": Workload(ects=5, volume_of_learning="PT125H"),
        "eqf_level": 6,
        "nqf_level": "6",
        "assessment_types": (AssessmentType.PROJECT_WORK, AssessmentType.ORAL_EXAMINATION),
        "participation_mode": ParticipationMode.BLENDED,
        "quality_assurance": (QualityAssuranceType.INSTITUTIONAL_QUALITY_ASSURANCE,),
        "prerequisites": Prerequisites(
            description={"en": "Introduction to Data Science (nordhavn) or equivalent."},
            required_offering_ids=(PREREQUISITE_OFFERING,),
        ),
        "supervision_and_identity_verification": (
            SupervisionAndIdentityVerification.SUPERVISED_WITH_IDENTITY_VERIFICATION
        ),
        "stackability": Stackability.STACKABLE,
        "further_information_url": "https://valdemora.example.eu/courses/data-ethics",
        "languages_of_instruction": ("en",),
        "fields_of_study": ("0613", "Ethics"),
        "start_date": dt.date(2025, 4, 1),
        "end_date": dt.date(2025, 6, 30),
        "capacity": 40,
    }


def _enrolment_fields() -> dict[str, str]:
    return {
        "enrolment_id": ENROLMENT,
        "offering_id": OFFERING,
        "partner_id": "valdemora",
        "learner_id": LEARNER,
    }


def _result_fields() -> dict[str, object]:
    return {
        "result_id": RESULT,
        "enrolment_id": ENROLMENT,
        "offering_id": OFFERING,
        "partner_id": "valdemora",
        "learner_id": LEARNER,
        "outcome": Outcome.PASSED,
        "grade": Grade(value="1,7", scheme="de-1-5", normalised=82.5),
        "assessment_type": AssessmentType.PROJECT_WORK,
        "supervision_and_identity_verification": (
            SupervisionAndIdentityVerification.SUPERVISED_WITH_IDENTITY_VERIFICATION
        ),
        "assessed_on": dt.date(2025, 6, 27),
    }


_BUILDERS: dict[str, Callable[[], BaseModel]] = {
    "offering.published": lambda: OfferingPublished(
        **_offering_fields(), version=1, published_at=AT
    ),
    "offering.updated": lambda: OfferingUpdated(
        **_offering_fields() | {"capacity": 60}, version=2, updated_at=AT
    ),
    "offering.withdrawn": lambda: OfferingWithdrawn(
        offering_id=OFFERING,
        partner_id="valdemora",
        version=3,
        reason="Lecturer unavailable this semester.",
        withdrawn_at=AT,
    ),
    "enrolment.requested": lambda: EnrolmentRequested(**_enrolment_fields(), requested_at=AT),
    "enrolment.accepted": lambda: EnrolmentAccepted(**_enrolment_fields(), accepted_at=AT),
    "enrolment.waitlisted": lambda: EnrolmentWaitlisted(
        **_enrolment_fields(), position=3, waitlisted_at=AT
    ),
    "enrolment.rejected": lambda: EnrolmentRejected(
        **_enrolment_fields(),
        reason=EnrolmentRejectionReason.PREREQUISITES_NOT_MET,
        detail="A credential for Introduction to Data Science (nordhavn) is required.",
        rejected_at=AT,
    ),
    "enrolment.withdrawn": lambda: EnrolmentWithdrawn(**_enrolment_fields(), withdrawn_at=AT),
    "assessment.result_submitted": lambda: ResultSubmitted(**_result_fields(), submitted_at=AT),
    "assessment.result_recorded": lambda: ResultRecorded(**_result_fields(), recorded_at=AT),
    "credential.issued": lambda: CredentialIssued(
        credential_id=CREDENTIAL,
        learner_id=LEARNER,
        offering_id=OFFERING,
        awarding_partner_id="valdemora",
        issuing_partner_id="nordhavn",
        issuer_did="did:web:issuance.nordhavn.example.eu",
        issued_at=AT,
        achievement=AchievementSummary(
            title={"en": "Data Ethics in Practice", "de": "Datenethik in der Praxis"},
            ects=5,
            eqf_level=6,
            skill_uris=("http://data.europa.eu/esco/skill/b5a0f7b6-3e09-4b5d-9f0c-2f1ad2f5b0c1",),
            stackability=Stackability.STACKABLE,
        ),
        status=StatusListEntry(
            status_list_url="https://issuance.nordhavn.example.eu/status/revocation/1",
            status_list_index=94567,
        ),
        credential_url=f"https://issuance.nordhavn.example.eu/credentials/{CREDENTIAL}",
    ),
    "credential.revoked": lambda: CredentialRevoked(
        credential_id=CREDENTIAL,
        learner_id=LEARNER,
        awarding_partner_id="valdemora",
        reason=RevocationReason.RESULT_SUPERSEDED,
        detail="Grade corrected after review.",
        revoked_at=AT,
    ),
    "credential.suspended": lambda: CredentialSuspended(
        credential_id=CREDENTIAL,
        learner_id=LEARNER,
        awarding_partner_id="valdemora",
        detail="Under review for suspected plagiarism.",
        suspended_at=AT,
    ),
    "credential.reinstated": lambda: CredentialReinstated(
        credential_id=CREDENTIAL,
        learner_id=LEARNER,
        awarding_partner_id="valdemora",
        detail="Review closed: no misconduct found.",
        reinstated_at=AT,
    ),
    "pathway.progressed": lambda: PathwayProgressed(
        pathway_id=PATHWAY,
        pathway_version=1,
        owner_partner_id="nordhavn",
        learner_id=LEARNER,
        counted_credential_ids=(PREREQUISITE_CREDENTIAL,),
        ects_earned=5,
        ects_required=15,
        partners_counted=("nordhavn",),
        missing_requirements=(
            "10 more ECTS at EQF 6 or above",
            "a credential from a second partner",
            "the module Data Ethics in Practice (valdemora)",
        ),
        progressed_at=AT,
    ),
    "pathway.completed": lambda: PathwayCompleted(
        pathway_id=PATHWAY,
        pathway_version=1,
        owner_partner_id="nordhavn",
        learner_id=LEARNER,
        title={"en": "Responsible AI"},
        component_credential_ids=(
            PREREQUISITE_CREDENTIAL,
            CREDENTIAL,
            OTHER_CREDENTIAL,
        ),
        ects_earned=15,
        completed_at=AT,
    ),
    "recognition.requested": lambda: RecognitionRequested(
        recognition_id=RECOGNITION,
        learner_id=LEARNER,
        credential_id=CREDENTIAL,
        recognising_partner_id="rheinfeld",
        programme="MSc Computer Science",
        requested_at=AT,
    ),
    "recognition.decided": lambda: RecognitionDecided(
        recognition_id=RECOGNITION,
        learner_id=LEARNER,
        credential_id=CREDENTIAL,
        recognising_partner_id="rheinfeld",
        decision=RecognitionDecision.RECOGNISED,
        automatic=True,
        reasons=("Learning outcomes, level and workload match the elective module.",),
        decided_at=AT,
    ),
    "pathway.defined": lambda: PathwayDefined(
        pathway_id=PATHWAY,
        version=1,
        owner_partner_id="nordhavn",
        title={"en": "Responsible AI"},
        description={"en": "Data science, machine learning and the ethics and law of AI."},
        criteria=PathwayCriteria(
            min_ects=15,
            min_eqf_level=6,
            min_partners=2,
            required_offering_ids=(OFFERING,),
            eligible_offering_ids=(PREREQUISITE_OFFERING,),
            within_months=24,
        ),
        defined_at=AT,
    ),
    "pathway.completion_revoked": lambda: PathwayCompletionRevoked(
        pathway_id=PATHWAY,
        pathway_version=1,
        owner_partner_id="nordhavn",
        learner_id=LEARNER,
        stacked_credential_id=STACKED_CREDENTIAL,
        revoked_component_credential_ids=(CREDENTIAL,),
        reason="Data Ethics in Practice was revoked (result_superseded); 10 ECTS remain of 15.",
        revoked_at=AT,
    ),
    "recognition.withdrawn": lambda: RecognitionWithdrawn(
        recognition_id=RECOGNITION,
        learner_id=LEARNER,
        credential_id=CREDENTIAL,
        recognising_partner_id="rheinfeld",
        reasons=("The credential was revoked (result_superseded).",),
        withdrawn_at=AT,
    ),
}


def stacked_credential_issued() -> CredentialIssued:
    """The credential issued when the pathway is completed (no offering, components)."""
    return CredentialIssued(
        credential_id=STACKED_CREDENTIAL,
        learner_id=LEARNER,
        pathway_id=PATHWAY,
        component_credential_ids=(
            PREREQUISITE_CREDENTIAL,
            CREDENTIAL,
            OTHER_CREDENTIAL,
        ),
        awarding_partner_id="nordhavn",
        issuing_partner_id="nordhavn",
        issuer_did="did:web:issuance.nordhavn.example.eu",
        issued_at=AT,
        achievement=AchievementSummary(
            title={"en": "Responsible AI"},
            ects=15,
            eqf_level=6,
            stackability=Stackability.STAND_ALONE,
        ),
        status=StatusListEntry(
            status_list_url="https://issuance.nordhavn.example.eu/status/revocation/1",
            status_list_index=3021,
        ),
        credential_url=f"https://issuance.nordhavn.example.eu/credentials/{STACKED_CREDENTIAL}",
    )


def example_event(name: str) -> BaseModel:
    """A valid payload of the event type `name` (e.g. `offering.published`)."""
    try:
        builder = _BUILDERS[name]
    except KeyError:
        raise KeyError(f"no example for {name!r}; known: {', '.join(_BUILDERS)}") from None
    return builder()
