"""Open Badges 3.0 `OpenBadgeCredential` for an EU micro-credential.

Where the eleven mandatory elements of the Council Recommendation (2022/C 243/02, Annex I)
and the optional ones live; only terms the VC 2.0 / OB 3.0.3 contexts define are used,
because JSON-LD silently drops anything else from the signed data:

1. learner: `credentialSubject.identifier[]`, `IdentityObject`s holding salted SHA-256
   hashes (`sha256$<hex>`) of the learner's id (and name, if given); never the raw values.
   `credentialSubject.id` only when the learner brings a DID.
2. title: `achievement.name` (and the credential's `name`); other languages as
   `achievement.related[]` entries (`Related` with `inLanguage`, `name`, `description`),
   OB 3.0's place for alternate language editions, the primary language in `inLanguage`.
3. country of the issuer: `issuer.address` (`addressCountryCode`, ISO 3166-1 alpha-2), and
   the awarding body's too when it differs.
4. awarding body: `achievement.creator`; `issuer` is who signs (e.g. the alliance's issuing
   partner, "issued by mandate"); `credentialSubject.source` the assessing organisation.
5. date of issuing: `validFrom`.
6. learning outcomes: listed in `criteria.narrative`, in every language the offering gives
   them in (see `_narrative`); those linked to ESCO are also `alignment[]` entries
   (`targetType: ceasn:Competency`, `targetFramework: ESCO`).
7. workload: `achievement.creditsAvailable` (ECTS) and `credentialSubject.creditsEarned`.
8. level: an `alignment` to `http://data.europa.eu/snb/eqf/<n>` (`targetType: ext:EQFLevel`).
9-11. type of assessment, form of participation, quality assurance: `alignment[]` entries
   to the ELM value-set concepts (`ext:AssessmentType`, `ext:ModeOfLearning`,
   `ext:QualityAssurance`), also spelled out in `criteria.narrative`.
Optional: supervision and identity verification (`ext:SupervisionVerification`), grade
(`result[]` with its `ResultDescription`), stackability (`ext:Stackability`), prerequisites
(`criteria.narrative`, in every language given), further information
(`ext:FurtherInformation` alignment).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.credentials.loader import OB_V3P0, OB_V3P0_EXTENSIONS, VC_V2
from shared.credentials.status_list import status_list_entry

OB_SCHEMA = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
)
EQF_FRAMEWORK = "European Qualifications Framework"
ELM_FRAMEWORK = "European Learning Model"
# Concepts whose URIs appear in the Commission's ELM v3 sample micro-credential.
MODE_ONLINE_URI = "http://data.europa.eu/snb/learning-assessment/920fbb3cbe"
MODE_BLENDED_URI = "http://data.europa.eu/snb/learning-assessment/e92d221e4d"
UNSUPERVISED_NO_ID_URI = "http://data.europa.eu/snb/supervision-verification/c598449d64"

DATETIME_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TAG = r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*"
_LANGUAGE = re.compile(rf"^{_TAG}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
IRI_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|^`\\]+$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# How the criteria narrative introduces the outcomes and the prerequisites, and each language's
# section of it (read back by `read_narrative`).
OUTCOMES_HEADING = "Learning outcomes:"
PREREQUISITES_LABEL = "Prerequisites: "
LANGUAGE_HEADING = "## "
AWARDED_BY = "Awarded by "
_SECTION = re.compile(rf"^{re.escape(LANGUAGE_HEADING)}({_TAG})$")
# An item stated in another language than its section's, for want of a translation.
_MARKED = re.compile(rf"^\[({_TAG})\] ")
_CONTINUED = "  "  # a text's further lines, indented under its first
_RESULT_STATUSES = frozenset(
    ["Completed", "Enrolled", "Failed", "InProgress", "OnHold", "Provisional", "Withdrew"]
)


@dataclass(frozen=True)
class Organisation:
    id: str  # DID or URL
    name: str
    country_code: str  # ISO 3166-1 alpha-2
    country: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Concept:
    """A value-set concept (e.g. from ELM) with its label; `uri` is where it is defined."""

    uri: str
    label: str
    framework: str = ELM_FRAMEWORK
    code: str | None = None


@dataclass(frozen=True)
class LearningOutcome:
    text: str  # in the credential's language
    esco_uri: str | None = None  # an ESCO skill or competence
    # The outcome in other languages, language -> text.
    translations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Translation:
    language: str
    name: str
    description: str | None = None


@dataclass(frozen=True)
class MicroCredentialData:
    credential_id: str
    achievement_id: str
    issuer: Organisation
    awarding_body: Organisation
    learner_id: str
    title: str
    description: str
    language: str
    valid_from: str
    learning_outcomes: Sequence[LearningOutcome]
    ects: float
    eqf_level: int
    assessment_type: Concept
    participation_form: Concept
    quality_assurance: Concept
    status: str = "Completed"
    assessing_body: Organisation | None = None  # defaults to the awarding body
    learner_did: str | None = None
    learner_name: str | None = None
    salt: str | None = None  # random per credential when not given
    ects_earned: float | None = None
    field_of_study: str | None = None
    grade: str | None = None
    grade_scale: str | None = None
    supervision: Concept | None = None
    stackability: Concept | None = None
    prerequisites: str | None = None
    prerequisites_translations: Mapping[str, str] = field(default_factory=dict)
    further_information: str | None = None  # a URL
    activity_start: str | None = None
    activity_end: str | None = None
    valid_until: str | None = None
    translations: Sequence[Translation] = field(default_factory=tuple)
    status_list_credential: str | None = None
    status_list_index: int | None = None
    include_schema: bool = True


def identity_hash(value: str, salt: str) -> str:
    """OB 3.0 hashed identity: `sha256$` + hex SHA-256 of the value followed by the salt."""
    return "sha256$" + hashlib.sha256((value + salt).encode("utf-8")).hexdigest()


def build_microcredential(data: MicroCredentialData) -> dict[str, Any]:
    """The unsigned `OpenBadgeCredential` carrying every mandatory EU element."""
    _check(data)
    salt = data.salt or secrets.token_hex(16)
    issuer = profile_of(data.issuer, with_address=True)
    same_body = data.awarding_body.id == data.issuer.id
    # The issuer's node already carries its address; a second identical address blank
    # node would only make canonicalization ambiguous.
    creator = profile_of(data.awarding_body, with_address=not same_body)
    assessing = data.assessing_body or data.awarding_body
    achievement: dict[str, Any] = {
        "id": data.achievement_id,
        "type": ["Achievement"],
        "achievementType": "MicroCredential",
        "name": signed_text(data.title),
        "description": signed_text(data.description),
        "criteria": {"narrative": _narrative(data)},
        "creator": creator,
        "creditsAvailable": json_number(data.ects),
        "inLanguage": data.language,
        "alignment": _alignments(data),
        "resultDescription": _result_descriptions(data),
    }
    if data.field_of_study:
        achievement["fieldOfStudy"] = signed_text(data.field_of_study)
    if data.translations:
        achievement["related"] = [
            _related(data.achievement_id, translation) for translation in data.translations
        ]
    identifiers = [identity_object(data.learner_id, "identifier", salt)]
    if data.learner_name:
        identifiers.append(identity_object(data.learner_name, "name", salt))
    subject: dict[str, Any] = {"type": ["AchievementSubject"]}
    if data.learner_did:
        subject["id"] = _iri(data.learner_did)
    subject.update(
        {
            "identifier": identifiers,
            "achievement": achievement,
            "creditsEarned": json_number(
                data.ects if data.ects_earned is None else data.ects_earned
            ),
            "result": _results(data),
            "source": {
                "id": assessing.id,
                "type": ["Profile"],
                "name": signed_text(assessing.name),
            },
        }
    )
    if data.activity_start:
        subject["activityStartDate"] = data.activity_start
    if data.activity_end:
        subject["activityEndDate"] = data.activity_end
    contexts = [VC_V2, OB_V3P0]
    if data.include_schema:
        # 1EdTechJsonSchemaValidator2019 is defined only in the OB extensions context.
        contexts.append(OB_V3P0_EXTENSIONS)
    credential: dict[str, Any] = {
        "@context": contexts,
        "id": data.credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer,
        "validFrom": data.valid_from,
        "name": signed_text(data.title),
        "credentialSubject": subject,
    }
    if data.valid_until:
        credential["validUntil"] = data.valid_until
    if data.status_list_credential is not None and data.status_list_index is not None:
        credential["credentialStatus"] = status_list_entry(
            data.status_list_credential, data.status_list_index
        )
    if data.include_schema:
        credential["credentialSchema"] = [
            {"id": OB_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}
        ]
    return credential


def _check(data: MicroCredentialData) -> None:
    for label, value in (
        ("credential_id", data.credential_id),
        ("achievement_id", data.achievement_id),
        ("issuer.id", data.issuer.id),
        ("awarding_body.id", data.awarding_body.id),
    ):
        _iri(value, label)
    for organisation in (data.issuer, data.awarding_body, data.assessing_body):
        if organisation is not None and not _COUNTRY.match(organisation.country_code):
            raise ValueError(f"{organisation.name}: country_code must be ISO 3166-1 alpha-2")
    if not DATETIME_PATTERN.match(data.valid_from):
        raise ValueError("valid_from must be an XML Schema dateTime")
    if data.valid_until is not None and not DATETIME_PATTERN.match(data.valid_until):
        raise ValueError("valid_until must be an XML Schema dateTime")
    for label, day in (
        ("activity_start", data.activity_start),
        ("activity_end", data.activity_end),
    ):
        if day is not None and not _DATE.match(day):
            raise ValueError(f"{label} must be a date (YYYY-MM-DD)")
    for language in [data.language, *(t.language for t in data.translations),
                     *_narrative_languages(data)]:  # fmt: skip
        if not _LANGUAGE.match(language):
            raise ValueError(f"language {language!r} is not a BCP 47 tag")
    if not 1 <= data.eqf_level <= 8:
        raise ValueError("eqf_level must be 1..8")
    if data.ects <= 0:
        raise ValueError("ects must be positive")
    if data.status not in _RESULT_STATUSES:
        raise ValueError(f"status must be one of {sorted(_RESULT_STATUSES)}")
    if not data.learning_outcomes:
        raise ValueError("at least one learning outcome is required")
    if (data.status_list_credential is None) != (data.status_list_index is None):
        raise ValueError("status_list_credential and status_list_index go together")


def _iri(value: str, label: str = "IRI") -> str:
    if not IRI_PATTERN.match(value):
        raise ValueError(f"{label} {value!r} is not an absolute IRI")
    return value


def signed_text(value: str) -> str:
    """Text as signed: line ends normalised, tabs as spaces, no other control characters.

    JSON-LD libraries escape control characters differently in N-Quads, which would make
    the same credential hash differently in different verifiers.
    """
    cleaned = value.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    if _CONTROL.search(cleaned):
        raise ValueError("text contains control characters")
    return cleaned


def json_number(value: float) -> float | int:
    # An integral value is written as a JSON integer: 5 and 5.0 canonicalize differently
    # across JSON-LD libraries, 5 the same everywhere.
    return int(value) if float(value).is_integer() else float(value)


def profile_of(organisation: Organisation, *, with_address: bool) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "id": _iri(organisation.id),
        "type": ["Profile"],
        "name": signed_text(organisation.name),
    }
    if organisation.url:
        profile["url"] = _iri(organisation.url)
    if with_address:
        address: dict[str, Any] = {"type": ["Address"]}
        if organisation.country:
            address["addressCountry"] = signed_text(organisation.country)
        address["addressCountryCode"] = organisation.country_code
        profile["address"] = address
    return profile


def identity_object(value: str, kind: str, salt: str) -> dict[str, Any]:
    """An OB 3.0 `IdentityObject` of `kind` (its `identityType`: identifier, emailAddress,
    name ...) holding only the salted hash of `value`, never the value itself."""
    return {
        "type": "IdentityObject",
        "identityHash": identity_hash(value, salt),
        "identityType": kind,
        "hashed": True,
        "salt": salt,
    }


def _alignment(target_type: str, concept: Concept) -> dict[str, Any]:
    alignment: dict[str, Any] = {
        "type": ["Alignment"],
        "targetType": target_type,
        "targetName": signed_text(concept.label),
        "targetFramework": signed_text(concept.framework),
        "targetUrl": _iri(concept.uri),
    }
    if concept.code is not None:
        alignment["targetCode"] = concept.code
    return alignment


def _alignments(data: MicroCredentialData) -> list[dict[str, Any]]:
    level = str(data.eqf_level)
    alignments = [
        _alignment(
            "ext:EQFLevel",
            Concept(
                f"http://data.europa.eu/snb/eqf/{level}",
                f"EQF level {level}",
                EQF_FRAMEWORK,
                level,
            ),
        ),
        _alignment("ext:AssessmentType", data.assessment_type),
        _alignment("ext:ModeOfLearning", data.participation_form),
        _alignment("ext:QualityAssurance", data.quality_assurance),
    ]
    if data.supervision is not None:
        alignments.append(_alignment("ext:SupervisionVerification", data.supervision))
    if data.stackability is not None:
        alignments.append(_alignment("ext:Stackability", data.stackability))
    if data.further_information is not None:
        alignments.append(
            _alignment(
                "ext:FurtherInformation",
                Concept(data.further_information, "Further information", data.issuer.name),
            )
        )
    seen: set[str] = set()
    for outcome in data.learning_outcomes:
        if outcome.esco_uri and outcome.esco_uri not in seen:
            seen.add(outcome.esco_uri)
            alignments.append(
                _alignment("ceasn:Competency", Concept(outcome.esco_uri, outcome.text, "ESCO"))
            )
    return alignments


def _result_descriptions(data: MicroCredentialData) -> list[dict[str, Any]]:
    descriptions: list[dict[str, Any]] = [
        {
            "id": f"{data.achievement_id}#status",
            "type": ["ResultDescription"],
            "name": signed_text(f"Assessment: {data.assessment_type.label}"),
            "resultType": "Status",
        }
    ]
    if data.grade is not None:
        grade: dict[str, Any] = {
            "id": f"{data.achievement_id}#grade",
            "type": ["ResultDescription"],
            "name": signed_text(data.grade_scale or "Grade"),
            "resultType": "LetterGrade",
        }
        descriptions.append(grade)
    return descriptions


def _results(data: MicroCredentialData) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = [
        {
            "type": ["Result"],
            "resultDescription": f"{data.achievement_id}#status",
            "status": data.status,
        }
    ]
    if data.grade is not None:
        results.append(
            {
                "type": ["Result"],
                "resultDescription": f"{data.achievement_id}#grade",
                "value": signed_text(data.grade),
            }
        )
    return results


def _related(achievement_id: str, translation: Translation) -> dict[str, Any]:
    related: dict[str, Any] = {
        "id": f"{achievement_id}#{translation.language}",
        "type": ["Related"],
        "inLanguage": translation.language,
        "name": signed_text(translation.name),
    }
    if translation.description:
        related["description"] = signed_text(translation.description)
    return related


def _narrative(data: MicroCredentialData) -> str:
    """The human-readable criteria (Markdown), spelling out the EU elements.

    The learning outcomes and prerequisites are the offering's own words, often given in
    several languages. OB 3.0 has no per-language place for them: a `Related` edition has a
    name and a description only (its scoped context defines no `criteria`), and a language
    map is no OB value. So the narrative, which is for people and free Markdown, states them
    once per language: a section headed `## <tag>`, the credential's own language first
    (with the facts stated once, under it); an item the offering lacks in a section's
    language is stated in the credential's, marked `[<tag>] `. A credential of one language
    has no headings. `read_narrative` reads it back.
    """
    own = [OUTCOMES_HEADING, *(f"- {_stated(o.text)}" for o in data.learning_outcomes)]
    own += [
        "",
        f"Workload: {json_number(data.ects)} ECTS",
        f"EQF level: {data.eqf_level}",
        f"Type of assessment: {signed_text(data.assessment_type.label)}",
        f"Form of participation: {signed_text(data.participation_form.label)}",
        f"Quality assurance: {signed_text(data.quality_assurance.label)}",
    ]
    if data.supervision is not None:
        own.append(f"Supervision and identity verification: {signed_text(data.supervision.label)}")
    if data.stackability is not None:
        own.append(f"Integration/stackability: {signed_text(data.stackability.label)}")
    if data.prerequisites:
        own.append(PREREQUISITES_LABEL + _stated(data.prerequisites))
    if data.awarding_body.id != data.issuer.id:
        own.append(
            f"{AWARDED_BY}{signed_text(data.awarding_body.name)}, issued on its behalf by "
            f"{signed_text(data.issuer.name)}."
        )
    others = _narrative_languages(data)
    if not others:
        return "\n".join(own)
    lines = [LANGUAGE_HEADING + data.language, "", *own]
    for language in others:
        lines += ["", LANGUAGE_HEADING + language, "", OUTCOMES_HEADING]
        lines += [
            f"- {_translated(o.text, o.translations, language, data.language)}"
            for o in data.learning_outcomes
        ]
        if data.prerequisites:
            translated = _translated(
                data.prerequisites, data.prerequisites_translations, language, data.language
            )
            lines += ["", PREREQUISITES_LABEL + translated]
    return "\n".join(lines)


def _narrative_languages(data: MicroCredentialData) -> list[str]:
    """The languages other than the credential's the outcomes or prerequisites are given in."""
    given = [language for o in data.learning_outcomes for language in o.translations]
    if data.prerequisites:
        given += data.prerequisites_translations
    return [language for language in dict.fromkeys(given) if language != data.language]


def _translated(text: str, translations: Mapping[str, str], language: str, own: str) -> str:
    """The text in `language`, else in the credential's own, marked as such."""
    return _stated(translations[language]) if language in translations else _stated(text, own)


def _stated(text: str, marked: str | None = None) -> str:
    """`text` as the narrative states it: a leading `\\` or `[` escaped (Markdown's way) so
    that no text reads as a language mark, marked with the language `marked` if given, its
    further lines indented under the first (so none reads as a heading)."""
    text = signed_text(text)
    if text.startswith(("\\", "[")):
        text = "\\" + text
    if marked is not None:
        text = f"[{marked}] {text}"
    return text.replace("\n", "\n" + _CONTINUED)


@dataclass(frozen=True)
class NarrativeTexts:
    """The offering's words a criteria narrative states, each as a language map (language ->
    text), in the order of the narrative's sections: the credential's own language first."""

    learning_outcomes: tuple[dict[str, str], ...] = ()
    prerequisites: dict[str, str] = field(default_factory=dict)


def read_narrative(narrative: str, language: str) -> NarrativeTexts:
    """The learning outcomes and prerequisites of a narrative `_narrative` wrote, read
    leniently; text before any language heading (all of it, in a credential of one language
    or one issued before the sections) is in `language`. An item marked with another
    language than its section's counts as that language's, unless it has its own."""
    outcomes: list[dict[str, str]] = []
    prerequisites: dict[str, str] = {}
    for section, lines in _sections(narrative, language):
        listed, required = _section_texts(lines)
        for n, item in enumerate(listed):
            if n == len(outcomes):
                outcomes.append({})
            _read_into(outcomes[n], item, section)
        if required is not None:
            _read_into(prerequisites, required, section)
    return NarrativeTexts(tuple(outcomes), prerequisites)


def _sections(narrative: str, language: str) -> list[tuple[str, list[str]]]:
    sections: list[tuple[str, list[str]]] = [(language, [])]
    for line in narrative.split("\n"):
        heading = _SECTION.match(line)
        if heading:
            sections.append((heading[1], []))
        else:
            sections[-1][1].append(line)
    return sections


def _section_texts(lines: list[str]) -> tuple[list[str], str | None]:
    """A section's outcome items and prerequisites, as stated (marks and escapes kept)."""
    items: list[str] = []
    prerequisites: list[str] = []
    reading: list[str] | None = None  # the list whose last text a further line continues
    for line in lines:
        if line == OUTCOMES_HEADING:
            reading = items
        elif reading is items and line.startswith("- "):
            items.append(line[2:])
        elif line.startswith(PREREQUISITES_LABEL):
            prerequisites.append(line.removeprefix(PREREQUISITES_LABEL))
            reading = prerequisites
        elif reading and line and not line.startswith(AWARDED_BY):
            # A further line: indented as written now, unindented in older credentials.
            reading[-1] += "\n" + line.removeprefix(_CONTINUED)
        else:
            reading = None
    return items, prerequisites[0] if prerequisites else None


def _read_into(texts: dict[str, str], stated: str, section: str) -> None:
    marked = _MARKED.match(stated)
    language, text = (marked[1], stated[marked.end() :]) if marked else (section, stated)
    texts.setdefault(language, text[1:] if text.startswith("\\") else text)
