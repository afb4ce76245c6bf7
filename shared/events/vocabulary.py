"""Value sets and small value types shared by every event payload.

Enum values are snake_case for machines; each enum's docstring gives the EU label it stands
for (Council Recommendation 2022/C 243/02, ELM v3 value sets), so the label travels into the
JSON Schema descriptions.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

T = TypeVar("T")


class Payload(BaseModel):
    """Base of every payload and value type: immutable, and unknown fields are an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _unique(items: tuple[T, ...]) -> tuple[T, ...]:
    # Compared by equality, not hashing: models holding multilingual dicts are unhashable.
    for index, item in enumerate(items):
        if item in items[:index]:
            raise ValueError(f"items must be unique; {item!r} is repeated")
    return items


# A non-empty list without repeats (JSON: array, minItems 1, uniqueItems).
NonEmptyUnique = Annotated[
    tuple[T, ...],
    Field(min_length=1, json_schema_extra={"uniqueItems": True}),
    AfterValidator(_unique),
]
# A possibly empty list without repeats.
Unique = Annotated[
    tuple[T, ...], Field(json_schema_extra={"uniqueItems": True}), AfterValidator(_unique)
]


def _id(prefix: str, what: str) -> Any:
    return Field(
        pattern=rf"^{prefix}-[a-z0-9-]{{4,64}}$",
        description=f"Identifier of {what} (`{prefix}-` followed by 4-64 of a-z, 0-9, -).",
    )


LearnerId = Annotated[
    str,
    Field(
        pattern=r"^lrn-[a-z0-9-]{4,64}$",
        description=(
            "Pseudonymous learner identifier (`lrn-...`). Events never carry names, e-mail "
            "addresses or other personal data."
        ),
    ),
]
OfferingId = Annotated[str, _id("off", "an offering")]
EnrolmentId = Annotated[str, _id("enr", "an enrolment")]
ResultId = Annotated[str, _id("res", "an assessment result")]
CredentialId = Annotated[str, _id("cred", "an issued credential")]
PathwayId = Annotated[str, _id("pth", "a learning pathway")]
RecognitionId = Annotated[str, _id("rec", "a recognition request")]
PartnerId = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9-]{1,31}$",
        description="Alliance partner identifier: a short slug as listed in the registry.",
    ),
]
Version = Annotated[
    int, Field(ge=1, description="Version of the entity; increases with every change.")
]
Timestamp = Annotated[AwareDatetime, Field(description="RFC 3339 date-time with a UTC offset.")]
# Free text carries no control characters but tab and line ends: PostgreSQL refuses NUL and
# the credential signer refuses the rest, so one service must not accept what another cannot
# apply. The rule is in the JSON Schema, where a partner system in any language reads it.
PLAIN_TEXT = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$"
Text = Annotated[str, Field(min_length=1, max_length=4000, pattern=PLAIN_TEXT)]
ShortText = Annotated[str, Field(min_length=1, max_length=300, pattern=PLAIN_TEXT)]
LanguageCode = Annotated[
    str,
    Field(
        pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$",
        description="Language tag: ISO 639 code, optionally with a region (`en`, `pt-BR`).",
    ),
]
# Keys are language tags; `propertyNames` makes the JSON Schema reject any other key.
MultilingualText = Annotated[
    dict[LanguageCode, Text],
    Field(
        min_length=1,
        description="The same text in one or more languages, keyed by language tag.",
        json_schema_extra={"propertyNames": {"pattern": r"^[a-z]{2,3}(-[A-Z]{2})?$"}},
    ),
]
CountryCode = Annotated[
    str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country code.")
]
Url = Annotated[
    str,
    Field(
        pattern=r"^https?://\S+$",
        max_length=2048,
        description="Absolute http(s) URL.",
        json_schema_extra={"format": "uri"},
    ),
]
EscoSkillUri = Annotated[
    str,
    Field(
        pattern=r"^http://data\.europa\.eu/esco/skill/[A-Za-z0-9-]+$",
        description="ESCO skill concept URI.",
        json_schema_extra={"format": "uri"},
    ),
]
Did = Annotated[
    str,
    Field(
        pattern=r"^did:(web|key):[A-Za-z0-9._:%-]+$",
        description="Decentralised identifier (`did:web` or `did:key`) of the issuer.",
        json_schema_extra={"format": "uri"},
    ),
]
# The pattern cannot exclude the bare `P`/`PT` without look-ahead (unsupported by some
# regex engines), so the minimum length does.
IsoDuration = Annotated[
    str,
    Field(
        pattern=r"^P([0-9]+[YMWD])*(T([0-9]+[HMS])+)?$",
        min_length=3,
        description="ISO 8601 duration, e.g. `PT150H`.",
    ),
]
Ects = Annotated[float, Field(gt=0, le=180, description="ECTS credit points.")]
EqfLevel = Annotated[int, Field(ge=1, le=8, description="European Qualifications Framework level.")]


class AssessmentType(StrEnum):
    """Type of assessment (ELM value set). EU labels: peer assessment, marked assignment,
    continuous evaluation, portfolio, group performance, practical assessment, written
    examination, level of attendance, project work, peer review, quiz, problem-based learning,
    oral examination, artefact assessment."""

    PEER_ASSESSMENT = "peer_assessment"
    MARKED_ASSIGNMENT = "marked_assignment"
    CONTINUOUS_EVALUATION = "continuous_evaluation"
    PORTFOLIO = "portfolio"
    GROUP_PERFORMANCE = "group_performance"
    PRACTICAL_ASSESSMENT = "practical_assessment"
    WRITTEN_EXAMINATION = "written_examination"
    LEVEL_OF_ATTENDANCE = "level_of_attendance"
    PROJECT_WORK = "project_work"
    PEER_REVIEW = "peer_review"
    QUIZ = "quiz"
    PROBLEM_BASED_LEARNING = "problem_based_learning"
    ORAL_EXAMINATION = "oral_examination"
    ARTEFACT_ASSESSMENT = "artefact_assessment"


class ParticipationMode(StrEnum):
    """Form of participation in the learning activity (ELM `mode`). EU labels: online,
    presential (on site) = `presential`, blended, work-based, project-based,
    research-lab-based."""

    ONLINE = "online"
    PRESENTIAL = "presential"
    BLENDED = "blended"
    WORK_BASED = "work_based"
    PROJECT_BASED = "project_based"
    RESEARCH_LAB_BASED = "research_lab_based"


class QualityAssuranceType(StrEnum):
    """Type of quality assurance (ELM accreditation types). EU labels: institutional
    license, programme quality assurance, institutional quality assurance, programme
    license."""

    INSTITUTIONAL_LICENSE = "institutional_license"
    PROGRAMME_QUALITY_ASSURANCE = "programme_quality_assurance"
    INSTITUTIONAL_QUALITY_ASSURANCE = "institutional_quality_assurance"
    PROGRAMME_LICENSE = "programme_license"


class SupervisionAndIdentityVerification(StrEnum):
    """Supervision and identity verification during assessment. EU labels:
    `unsupervised_no_identity_verification` = unsupervised with no identity verification;
    `supervised_no_identity_verification` = supervised with no identity verification;
    `supervised_with_identity_verification` = supervised online or onsite with identity
    verification."""

    UNSUPERVISED_NO_IDENTITY_VERIFICATION = "unsupervised_no_identity_verification"
    SUPERVISED_NO_IDENTITY_VERIFICATION = "supervised_no_identity_verification"
    SUPERVISED_WITH_IDENTITY_VERIFICATION = "supervised_with_identity_verification"


class Stackability(StrEnum):
    """Integration/stackability options. EU labels: `stand_alone` = stand-alone, independent
    micro-credential; `stackable` = integrated, stackable towards another credential."""

    STAND_ALONE = "stand_alone"
    STACKABLE = "stackable"


class AwardingBody(Payload):
    """An awarding body (EU mandatory element 4) and its country (element 3)."""

    partner_id: PartnerId
    legal_name: ShortText
    country: CountryCode


class LearningOutcome(Payload):
    """One learning outcome (EU mandatory element 6), optionally linked to an ESCO skill."""

    text: MultilingualText
    esco_skill_uri: EscoSkillUri | None = None


class Workload(Payload):
    """Notional workload (EU mandatory element 7)."""

    ects: Ects
    volume_of_learning: IsoDuration | None = Field(
        default=None, description="Volume of learning as an ISO 8601 duration, e.g. `PT150H`."
    )


class Grade(Payload):
    """Grade achieved (EU optional element)."""

    value: Annotated[
        str,
        Field(min_length=1, max_length=32, pattern=PLAIN_TEXT, description="Grade as awarded."),
    ]
    scheme: Annotated[
        str,
        Field(
            min_length=1,
            max_length=64,
            pattern=PLAIN_TEXT,
            description="Grading scheme the value belongs to, e.g. `nl-0-10` or `ects-a-f`.",
        ),
    ]
    normalised: float | None = Field(
        default=None, ge=0, le=100, description="The grade mapped onto 0-100, when known."
    )


__all__ = [
    "PLAIN_TEXT",
    "AssessmentType",
    "AwardingBody",
    "CountryCode",
    "CredentialId",
    "Did",
    "Ects",
    "EnrolmentId",
    "EqfLevel",
    "EscoSkillUri",
    "Grade",
    "IsoDuration",
    "LanguageCode",
    "LearnerId",
    "LearningOutcome",
    "MultilingualText",
    "NonEmptyUnique",
    "OfferingId",
    "ParticipationMode",
    "PartnerId",
    "PathwayId",
    "Payload",
    "QualityAssuranceType",
    "RecognitionId",
    "ResultId",
    "ShortText",
    "Stackability",
    "SupervisionAndIdentityVerification",
    "Text",
    "Timestamp",
    "Unique",
    "Url",
    "Version",
    "Workload",
]
