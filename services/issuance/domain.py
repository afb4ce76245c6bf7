"""Issuance rules in plain Python: what a result or a pathway entitles a learner to, and how
an offering's terms and a result become the EU micro-credential's elements."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from shared.credentials import (
    Concept,
    LearningOutcome,
    MicroCredentialData,
    Organisation,
    Translation,
)
from shared.credentials.microcredential import (
    MODE_BLENDED_URI,
    MODE_ONLINE_URI,
    UNSUPERVISED_NO_ID_URI,
)
from shared.events import (
    AchievementSummary,
    AssessedResult,
    AssessmentType,
    OfferingSnapshot,
    Outcome,
    ParticipationMode,
    RevocationReason,
    Stackability,
    SupervisionAndIdentityVerification,
)

# Value-set concepts without a published ELM URI at hand get one in the alliance's own
# vocabulary; the label always travels with the link.
VOCABULARY = "https://alliance.example.eu/vocabulary"
_KNOWN_URIS: dict[str, str] = {
    ParticipationMode.ONLINE: MODE_ONLINE_URI,
    ParticipationMode.BLENDED: MODE_BLENDED_URI,
    SupervisionAndIdentityVerification.UNSUPERVISED_NO_IDENTITY_VERIFICATION: (
        UNSUPERVISED_NO_ID_URI
    ),
}
# EU labels where they are not the code read aloud.
_LABELS: dict[str, str] = {
    AssessmentType.PROBLEM_BASED_LEARNING: "Problem-based learning",
    ParticipationMode.PRESENTIAL: "Presential (on site)",
    ParticipationMode.WORK_BASED: "Work-based",
    ParticipationMode.PROJECT_BASED: "Project-based",
    ParticipationMode.RESEARCH_LAB_BASED: "Research-lab-based",
    SupervisionAndIdentityVerification.UNSUPERVISED_NO_IDENTITY_VERIFICATION: (
        "Unsupervised with no identity verification"
    ),
    SupervisionAndIdentityVerification.SUPERVISED_NO_IDENTITY_VERIFICATION: (
        "Supervised with no identity verification"
    ),
    SupervisionAndIdentityVerification.SUPERVISED_WITH_IDENTITY_VERIFICATION: (
        "Supervised online or onsite with identity verification"
    ),
    Stackability.STAND_ALONE: "Stand-alone, independent micro-credential",
    Stackability.STACKABLE: "Integrated, stackable towards another credential",
}


def concept(value_set: str, code: enum.StrEnum) -> Concept:
    """The ELM concept for a contract code, with its EU label."""
    uri = _KNOWN_URIS.get(code, f"{VOCABULARY}/{value_set}/{code.value}")
    label = _LABELS.get(code, code.value.replace("_", " ").capitalize())
    return Concept(uri, label, code=code.value)


@dataclass(frozen=True)
class Party:
    """An alliance partner as a credential names it."""

    partner_id: str
    did: str
    legal_name: str
    country: str
    website: str | None = None

    def organisation(self) -> Organisation:
        return Organisation(self.did, self.legal_name, self.country, url=self.website)


@dataclass(frozen=True)
class Issuance:
    """Who, where and when for one credential."""

    credential_url: str
    achievement_id: str
    issuer: Party
    awarding_body: Party
    assessing_body: Party
    issued_at: datetime
    status_list_url: str
    status_list_index: int


def xsd_datetime(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def primary_language(terms: OfferingSnapshot) -> str:
    """The first language of instruction the title is written in (else the title's first)."""
    for language in terms.languages_of_instruction:
        if language in terms.title:
            return language
    return next(iter(terms.title))


def _in(text: dict[str, str], language: str) -> str:
    return text.get(language) or next(iter(text.values()))


def stackability(terms: OfferingSnapshot) -> Stackability:
    # An offering that does not say is a stand-alone micro-credential.
    return terms.stackability or Stackability.STAND_ALONE


def microcredential_data(
    terms: OfferingSnapshot, result: AssessedResult, issuance: Issuance
) -> MicroCredentialData:
    """Every EU element of the credential for `result`, from the offering's terms."""
    language = primary_language(terms)
    description = _in(terms.description or terms.title, language)
    joint = [
        body
        for body in terms.awarding_bodies
        if body.partner_id != issuance.awarding_body.partner_id
    ]
    if joint:
        # OB 3.0 names one creator; joint awarding bodies are stated in the signed text.
        names = "; ".join(f"{body.legal_name} ({body.country})" for body in joint)
        description += f"\n\nAwarded jointly with {names}."
    qa_labels = [concept("quality-assurance", qa).label for qa in terms.quality_assurance]
    quality_assurance = concept("quality-assurance", terms.quality_assurance[0])
    return MicroCredentialData(
        credential_id=issuance.credential_url,
        achievement_id=issuance.achievement_id,
        issuer=issuance.issuer.organisation(),
        awarding_body=issuance.awarding_body.organisation(),
        assessing_body=issuance.assessing_body.organisation(),
        learner_id=result.learner_id,
        title=_in(terms.title, language),
        description=description,
        language=language,
        valid_from=xsd_datetime(issuance.issued_at),
        learning_outcomes=[
            LearningOutcome(_in(outcome.text, language), outcome.esco_skill_uri)
            for outcome in terms.learning_outcomes
        ],
        ects=terms.workload.ects,
        eqf_level=terms.eqf_level,
        assessment_type=concept("assessment-type", result.assessment_type),
        participation_form=concept("participation-mode", terms.participation_mode),
        quality_assurance=Concept(
            quality_assurance.uri, "; ".join(qa_labels), code=quality_assurance.code
        ),
        field_of_study=", ".join(terms.fields_of_study),
        grade=result.grade.value if result.grade else None,
        grade_scale=result.grade.scheme if result.grade else None,
        supervision=concept(
            "supervision-verification", result.supervision_and_identity_verification
        ),
        stackability=concept("stackability", stackability(terms)),
        prerequisites=(
            _in(terms.prerequisites.description, language) if terms.prerequisites else None
        ),
        further_information=terms.further_information_url,
        activity_start=terms.start_date.isoformat(),
        activity_end=terms.end_date.isoformat(),
        translations=[
            Translation(other, title, (terms.description or {}).get(other))
            for other, title in terms.title.items()
            if other != language
        ],
        status_list_credential=issuance.status_list_url,
        status_list_index=issuance.status_list_index,
    )


def achievement_summary(terms: OfferingSnapshot) -> AchievementSummary:
    return AchievementSummary(
        title=terms.title,
        ects=terms.workload.ects,
        eqf_level=terms.eqf_level,
        skill_uris=tuple(
            dict.fromkeys(o.esco_skill_uri for o in terms.learning_outcomes if o.esco_skill_uri)
        ),
        stackability=stackability(terms),
    )


def stacked_summary(
    title: dict[str, str], ects_earned: float, components: Sequence[AchievementSummary]
) -> AchievementSummary:
    """A stacked credential is at the level all its components reach (the lowest of them)."""
    return AchievementSummary(
        title=title,
        ects=ects_earned,
        eqf_level=min(component.eqf_level for component in components),
        skill_uris=tuple(dict.fromkeys(uri for c in components for uri in c.skill_uris)),
        stackability=Stackability.STAND_ALONE,
    )


@dataclass(frozen=True)
class EarlierCredential:
    """A credential already issued for the same enrolment."""

    result_id: str | None
    revoked: bool
    revocation_reason: str | None = None


class Action(enum.StrEnum):
    ISSUE = "issue"
    REISSUE = "reissue"  # revoke the current credential, issue one for this result
    REVOKE = "revoke"
    NOTHING = "nothing"


def decide_on_result(result: AssessedResult, earlier: Sequence[EarlierCredential]) -> Action:
    """One valid credential per enrolment, always stating its current result.

    A result already issued for is done. A passed result issues; when the enrolment already
    holds a credential (a correction, e.g. a new grade) that one is revoked as superseded and
    a new one states the corrected result. A failed correction revokes. A credential the
    issuer revoked by decision (misconduct, issued in error) is not re-issued by a result.
    """
    if any(credential.result_id == result.result_id for credential in earlier):
        return Action.NOTHING
    current = any(not credential.revoked for credential in earlier)
    if result.outcome is Outcome.FAILED:
        return Action.REVOKE if current else Action.NOTHING
    if current:
        return Action.REISSUE
    withheld = any(
        credential.revoked and credential.revocation_reason not in _AUTOMATIC_REVOCATIONS
        for credential in earlier
    )
    return Action.NOTHING if withheld else Action.ISSUE


_AUTOMATIC_REVOCATIONS = frozenset({RevocationReason.RESULT_SUPERSEDED.value})
