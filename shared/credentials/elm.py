"""Europass: an issued OB 3.0 micro-credential as a European Learning Model (ELM v3)
credential in the EDC application profile (VC 1.1 JSON-LD, context `edc-ap`).

Where each EU element goes, as the Commission's sample micro-credential puts it
(shared/reference/elm-v3/sample-microcredential-annex1-unsigned.jsonld), all under
`credentialSubject.hasClaim`, a `LearningAchievement`:

- title and description: `title`, `description`, in every language the credential carries;
- awarding body (and its country): `awardedBy.awardingBody`, an `Organisation` with
  `location.address.countryCode`; the signing issuer is the credential's `issuer`;
- date of issuing: `issued` (and `validFrom`, `awardedBy.awardingDate`);
- credits earned: `creditReceived`; type of assessment, grade, identity verification and
  the assessing organisation: `provenBy`, a `LearningAssessment` (`grade`, `idVerification`,
  `assessedBy`, `specifiedBy.dcType` and `specifiedBy.gradingScheme`);
- what was achieved: `specifiedBy`, a `Qualification` with `creditPoint` (ECTS), `eqfLevel`,
  `learningOutcome[]` (each with its `relatedESCOSkill`), `mode` (form of participation),
  `entryRequirement` (prerequisites), the outcomes and prerequisites in every language the
  credential's criteria state them in, `isPartialQualification` (stackability), `thematicArea`
  (ISCED-F), `language`, `homepage` (further information) and the type of quality assurance
  as an `additionalNote`.

The learner appears only as the credential identifies them: the DID they brought, if any,
and the salted identity hashes; the export adds no personal data. Every other node gets an
id derived from the credential's, so the same credential always exports the same document.
The export is unsigned: sealing (JAdES) comes on top of it.
"""

from __future__ import annotations

import base64
import re
import textwrap
import uuid
from collections.abc import Sequence
from html import escape
from typing import Any

from shared.credentials.data_model import OB_TYPES, as_list
from shared.credentials.loader import EDC_AP, VC_V1
from shared.credentials.microcredential import read_narrative

# The profile the export conforms to (the SHACL shapes' ontology IRI).
EDC_PROFILE = "http://data.europa.eu/snb/model/ap/edc-generic-no-cv"
SNB = "http://data.europa.eu/snb/"
ESCO_SKILL = "http://data.europa.eu/esco/skill/"
ESCO_SKILLS_SCHEME = "http://data.europa.eu/esco/concept-scheme/skills"
COUNTRY_AUTHORITY = "http://publications.europa.eu/resource/authority/country"
LANGUAGE_AUTHORITY = "http://publications.europa.eu/resource/authority/language"
FILE_TYPE_AUTHORITY = "http://publications.europa.eu/resource/authority/file-type"
# Value-set concepts as the Commission's sample names them.
GENERIC_PROFILE_URI = "http://data.europa.eu/snb/credential/e34929035b"
ECTS_URI = "http://data.europa.eu/snb/education-credit/6fcec5c5af"
BASE64_URI = "http://data.europa.eu/snb/encoding/6146cde7dd"
ISCED_F = "http://data.europa.eu/snb/isced-f/"
# How our issuance labels the alignments that carry the EU value sets.
_EQF = "ext:EQFLevel"
_MODE = "ext:ModeOfLearning"
_QA = "ext:QualityAssurance"
_SUPERVISION = "ext:SupervisionVerification"
_STACKABILITY = "ext:Stackability"
_ASSESSMENT = "ext:AssessmentType"
_FURTHER = "ext:FurtherInformation"
_COMPETENCY = "ceasn:Competency"
# Value-set labels travel in English (the EU's labels); the credential's own text in its
# languages.
LABEL_LANGUAGE = "en"

# ISO 3166-1 alpha-2 -> the EU country authority's code (alpha-3), for the countries of the
# European Higher Education Area.
_COUNTRIES = {
    "AD": "AND", "AL": "ALB", "AM": "ARM", "AT": "AUT", "AZ": "AZE", "BA": "BIH", "BE": "BEL",
    "BG": "BGR", "BY": "BLR", "CH": "CHE", "CY": "CYP", "CZ": "CZE", "DE": "DEU", "DK": "DNK",
    "EE": "EST", "ES": "ESP", "FI": "FIN", "FR": "FRA", "GB": "GBR", "GE": "GEO", "GR": "GRC",
    "HR": "HRV", "HU": "HUN", "IE": "IRL", "IS": "ISL", "IT": "ITA", "KZ": "KAZ", "LI": "LIE",
    "LT": "LTU", "LU": "LUX", "LV": "LVA", "MC": "MCO", "MD": "MDA", "ME": "MNE", "MK": "MKD",
    "MT": "MLT", "NL": "NLD", "NO": "NOR", "PL": "POL", "PT": "PRT", "RO": "ROU", "RS": "SRB",
    "RU": "RUS", "SE": "SWE", "SI": "SVN", "SK": "SVK", "SM": "SMR", "TR": "TUR", "UA": "UKR",
    "VA": "VAT",
}  # fmt: skip
# ISO 639-1 -> the EU language authority's code, for the EU's official languages and some
# other European ones.
_LANGUAGES = {
    "bg": "BUL", "ca": "CAT", "cs": "CES", "da": "DAN", "de": "DEU", "el": "ELL", "en": "ENG",
    "es": "SPA", "et": "EST", "eu": "EUS", "fi": "FIN", "fr": "FRA", "ga": "GLE", "gl": "GLG",
    "hr": "HRV", "hu": "HUN", "is": "ISL", "it": "ITA", "lt": "LIT", "lv": "LAV", "mk": "MKD",
    "mt": "MLT", "nb": "NOB", "nl": "NLD", "nn": "NNO", "no": "NOR", "pl": "POL", "pt": "POR",
    "ro": "RON", "sk": "SLK", "sl": "SLV", "sq": "SQI", "sr": "SRP", "sv": "SWE", "tr": "TUR",
    "uk": "UKR",
}  # fmt: skip
_ISCED_CODE = re.compile(r"(?:^|, )(\d{2,4})(?= |,|$)")


class ElmExportError(ValueError):
    """The credential lacks something the EDC profile requires and nothing it carries gives."""


def to_elm(credential: dict[str, Any]) -> dict[str, Any]:
    """The ELM v3 (EDC application profile) credential for an issued OB 3.0 micro-credential."""
    if not OB_TYPES & set(as_list(credential.get("type"))):
        raise ElmExportError("only an Open Badges 3.0 credential can be exported to ELM")
    try:
        return _Export(credential).document()
    except KeyError as exc:
        raise ElmExportError(f"the credential has no {exc.args[0]!r}") from exc


class _Export:
    def __init__(self, credential: dict[str, Any]) -> None:
        self.credential = credential
        self.subject: dict[str, Any] = credential["credentialSubject"]
        self.achievement: dict[str, Any] = self.subject["achievement"]
        self.language: str = self.achievement.get("inLanguage", LABEL_LANGUAGE)
        self.alignments: list[dict[str, Any]] = as_list(self.achievement.get("alignment"))
        issuer = credential["issuer"]
        self.issuer: dict[str, Any] = issuer if isinstance(issuer, dict) else {"id": issuer}
        creator = self.achievement.get("creator")
        # OB 3.0 makes the creator optional; without one the issuer awarded it.
        self.creator: dict[str, Any] = creator if isinstance(creator, dict) else self.issuer

    def node_id(self, role: str) -> str:
        """A stable id for a node of this credential's export."""
        return _derived(self.credential["id"], role)

    def text(self, value: str) -> dict[str, str]:
        return {self.language: value}

    def texts(self, key: str) -> dict[str, str]:
        """The achievement's `key` (name, description) in every language it carries."""
        values = {self.language: self.achievement[key]} if key in self.achievement else {}
        for related in as_list(self.achievement.get("related")):
            if key in related and "inLanguage" in related:
                values.setdefault(related["inLanguage"], related[key])
        return values

    def languages(self) -> list[str]:
        return list(self.texts("name"))

    def document(self) -> dict[str, Any]:
        issued = self.credential.get("validFrom") or self.credential["issuanceDate"]
        document: dict[str, Any] = {
            "@context": [VC_V1, EDC_AP],
            "id": f"urn:credential:{uuid.uuid5(uuid.NAMESPACE_URL, self.credential['id'])}",
            "type": ["VerifiableCredential", "EuropeanDigitalCredential"],
            "credentialProfiles": _concept(GENERIC_PROFILE_URI, "Generic"),
            "credentialSchema": {"id": EDC_PROFILE, "type": "ShaclValidator2017"},
            # The signed original this export re-expresses.
            "identifier": {
                "id": self.node_id("original"),
                "type": "Identifier",
                "notation": self.credential["id"],
                "schemeName": "Open Badges 3.0 credential",
            },
            "issuer": self.issuer_organisation(),
            "issuanceDate": issued,
            "issued": issued,
            "validFrom": issued,
            "credentialSubject": self.person(issued),
            "displayParameter": self.display(issued),
        }
        valid_until = self.credential.get("validUntil") or self.credential.get("expirationDate")
        if valid_until:
            document["expirationDate"] = valid_until
            document["validUntil"] = valid_until
        # No `credentialStatus`: the profile takes only a bare URI there, not a Bitstring
        # Status List entry; the status stays with the signed original.
        return document

    # Organisations.
    def organisation(self, organisation_id: str) -> dict[str, Any]:
        """The issuer or the awarding body as an ELM Organisation, the same wherever it
        appears (issuance writes an address once, on the issuer when it also awards)."""
        nodes = [node for node in (self.issuer, self.creator) if node["id"] == organisation_id]
        address = next((n["address"] for n in nodes if isinstance(n.get("address"), dict)), None)
        if address is None:
            raise ElmExportError(f"the credential gives no country for {organisation_id}")
        node = nodes[0]
        organisation: dict[str, Any] = {
            "id": organisation_id,
            "type": "Organisation",
            "legalName": self.text(node.get("name") or organisation_id),
            "location": {
                "id": _derived(organisation_id, "location"),
                "type": "Location",
                "address": {
                    "id": _derived(organisation_id, "address"),
                    "type": "Address",
                    "countryCode": _country(address),
                },
            },
        }
        if node.get("url"):
            organisation["homepage"] = _web_resource(
                _derived(organisation_id, "homepage"), node["url"]
            )
        return organisation

    def issuer_organisation(self) -> dict[str, Any]:
        organisation = self.organisation(self.issuer["id"])
        # The profile wants the issuer's eIDAS legal identifier, which belongs in its seal
        # certificate (organizationIdentifier) and which no OB credential carries. Until the
        # export is sealed, the identifier the issuer signed the original with stands in,
        # named for what it is.
        organisation["eIDASIdentifier"] = {
            "id": _derived(self.issuer["id"], "legal-identifier"),
            "type": "LegalIdentifier",
            "notation": self.issuer["id"],
            "schemeName": "Decentralized Identifier the issuer signs with",
            "spatial": organisation["location"]["address"]["countryCode"],
        }
        return organisation

    # The learner and the claim.
    def person(self, issued: str) -> dict[str, Any]:
        person: dict[str, Any] = {
            "id": self.subject.get("id") or self.node_id("learner"),
            "type": "Person",
            "hasClaim": self.achievement_claim(issued),
        }
        identifiers = [
            {
                "id": self.node_id(f"learner-identifier-{n}"),
                "type": "Identifier",
                "notation": identity["identityHash"],
                # The hash is OB 3.0's: SHA-256 over the value followed by the salt.
                "schemeName": (
                    f"Open Badges 3.0 hashed {identity.get('identityType', 'identifier')}, "
                    f"salt {identity.get('salt', '')}"
                ),
            }
            for n, identity in enumerate(as_list(self.subject.get("identifier")))
        ]
        if identifiers:
            person["identifier"] = identifiers
        return person

    def achievement_claim(self, issued: str) -> dict[str, Any]:
        awarding = {
            "id": self.node_id("awarding-process"),
            "type": "AwardingProcess",
            "awardingBody": self.organisation(self.creator["id"]),
            "awardingDate": issued,
        }
        claim: dict[str, Any] = {
            "id": self.node_id("achievement"),
            "type": "LearningAchievement",
            "title": self.texts("name"),
            "awardedBy": awarding,
            "provenBy": self.assessment(awarding),
            "specifiedBy": self.qualification(),
        }
        if self.texts("description"):
            claim["description"] = self.texts("description")
        earned = self.subject.get("creditsEarned")
        if earned is not None:
            claim["creditReceived"] = self.credit("credit-received", earned)
        return claim

    def assessment(self, awarding: dict[str, Any]) -> dict[str, Any]:
        results = {r.get("resultDescription"): r for r in as_list(self.subject.get("result"))}
        descriptions = as_list(self.achievement.get("resultDescription"))
        graded = next(
            (d for d in descriptions if d.get("resultType") != "Status" and d["id"] in results),
            None,
        )
        specification: dict[str, Any] = {
            "id": self.node_id("assessment-specification"),
            "type": "LearningAssessmentSpecification",
            "title": self.texts("name"),
        }
        assessment_type = self.alignment(_ASSESSMENT)
        if assessment_type is not None:
            specification["dcType"] = _aligned(assessment_type)
        if graded is not None:
            grade = self.text(results[graded["id"]]["value"])
            specification["gradingScheme"] = {
                "id": self.node_id("grading-scheme"),
                "type": "GradingScheme",
                "title": self.text(graded["name"]),
            }
        else:
            # The profile requires a grade; an ungraded credential's grade is the status its
            # result records (e.g. Completed), OB 3.0's word for it.
            status = next((r["status"] for r in results.values() if "status" in r), "Completed")
            grade = {LABEL_LANGUAGE: status}
        assessment: dict[str, Any] = {
            "id": self.node_id("assessment"),
            "type": "LearningAssessment",
            "title": self.texts("name"),
            "grade": {"id": self.node_id("grade"), "type": "Note", "noteLiteral": grade},
            # Every claim names its awarding process; the assessment's is the achievement's.
            "awardedBy": awarding,
            "specifiedBy": specification,
        }
        supervision = self.alignment(_SUPERVISION)
        if supervision is not None:
            assessment["idVerification"] = _aligned(supervision)
        source = self.subject.get("source")
        # An assessing organisation whose country the credential does not give cannot be an
        # ELM Organisation; it is named only when it is the issuer or the awarding body.
        if isinstance(source, dict) and source.get("id") in (self.issuer["id"], self.creator["id"]):
            assessment["assessedBy"] = self.organisation(source["id"])
        return assessment

    def qualification(self) -> dict[str, Any]:
        stated = read_narrative(
            self.achievement.get("criteria", {}).get("narrative", ""), self.language
        )
        qualification: dict[str, Any] = {
            "id": self.achievement["id"],
            "type": "Qualification",
            "title": self.texts("name"),
        }
        if self.texts("description"):
            qualification["description"] = self.texts("description")
        if self.achievement.get("creditsAvailable") is not None:
            qualification["creditPoint"] = self.credit(
                "credit-point", self.achievement["creditsAvailable"]
            )
        eqf = self.alignment(_EQF)
        if eqf is not None:
            qualification["eqfLevel"] = _aligned(eqf)
        outcomes = self.learning_outcomes(stated.learning_outcomes)
        if outcomes:
            qualification["learningOutcome"] = outcomes
        mode = self.alignment(_MODE)
        if mode is not None:
            qualification["mode"] = _aligned(mode)
        if stated.prerequisites:
            qualification["entryRequirement"] = {
                "id": self.node_id("entry-requirement"),
                "type": "Note",
                "noteLiteral": stated.prerequisites,
            }
        stackability = self.alignment(_STACKABILITY)
        if stackability is not None and stackability.get("targetCode") in _PARTIAL:
            # Annex I's integration/stackability option is ELM's partial-qualification flag,
            # as in the Commission's sample: a stand-alone micro-credential is not partial.
            qualification["isPartialQualification"] = _PARTIAL[stackability["targetCode"]]
        areas = self.thematic_areas()
        if areas:
            qualification["thematicArea"] = areas
        qualification["language"] = _language(self.language)
        further = self.alignment(_FURTHER)
        if further is not None:
            qualification["homepage"] = _web_resource(
                self.node_id("further-information"), further["targetUrl"]
            )
        qa = self.alignment(_QA)
        if qa is not None:
            # ELM's accreditation needs the accrediting agency, which the credential does not
            # name: the type of quality assurance goes in a note about the concept instead.
            qualification["additionalNote"] = {
                "id": self.node_id("quality-assurance"),
                "type": "Note",
                "noteLiteral": {LABEL_LANGUAGE: f"Quality assurance: {qa['targetName']}"},
                "subject": _aligned(qa),
            }
        return qualification

    def credit(self, role: str, points: float) -> dict[str, Any]:
        return {
            "id": self.node_id(role),
            "type": "CreditPoint",
            "framework": _concept(ECTS_URI, "European Credit Transfer System"),
            "point": str(points),
        }

    def alignment(self, target_type: str) -> dict[str, Any] | None:
        return next((a for a in self.alignments if a.get("targetType") == target_type), None)

    def learning_outcomes(self, listed: Sequence[dict[str, str]]) -> list[dict[str, Any]]:
        """The outcomes the narrative lists, in each language it gives them in, each with the
        ESCO skill aligned to it (by its text in the credential's language, as issuance
        names the alignment); an ESCO alignment matching no listed outcome is an outcome of
        its own."""
        skills = {
            a["targetName"]: a["targetUrl"]
            for a in self.alignments
            if a.get("targetType") == _COMPETENCY and a.get("targetUrl", "").startswith(ESCO_SKILL)
        }
        # The first text of each is the one in the credential's own section.
        titles = [(next(iter(texts.values())), texts) for texts in listed if texts]
        named = {own for own, _ in titles}
        titles += [(name, self.text(name)) for name in skills if name not in named]
        outcomes = []
        for n, (own, title) in enumerate(titles):
            outcome: dict[str, Any] = {
                "id": self.node_id(f"learning-outcome-{n}"),
                "type": "LearningOutcome",
                "title": title,
            }
            if own in skills:
                # The ESCO concept without a label: ours is the outcome's text, not ESCO's.
                outcome["relatedESCOSkill"] = _concept(skills[own])
            outcomes.append(outcome)
        return outcomes

    def thematic_areas(self) -> list[dict[str, Any]]:
        # fieldOfStudy joins the offering's fields with ", ": ISCED-F 2013 codes (alone or
        # before their label, which may hold a comma itself) or free text. The codes become
        # ISCED-F concepts, known by their URI; free text has no place there.
        codes = _ISCED_CODE.findall(self.achievement.get("fieldOfStudy", ""))
        return [_concept(ISCED_F + code) for code in dict.fromkeys(codes)]

    # How Europass shows it.
    def display(self, issued: str) -> dict[str, Any]:
        languages = [code for code in self.languages() if _base(code) in _LANGUAGES]
        image = _card(
            self.achievement["name"],
            self.creator.get("name", self.creator["id"]),
            self.achievement.get("creditsAvailable"),
            self.alignment(_EQF),
            issued,
        )
        return {
            "id": self.node_id("display"),
            "type": "DisplayParameter",
            "title": self.texts("name"),
            "language": [_language(code) for code in languages],
            "primaryLanguage": _language(self.language),
            "individualDisplay": {
                "id": self.node_id("individual-display"),
                "type": "IndividualDisplay",
                "language": _language(self.language),
                "displayDetail": {
                    "id": self.node_id("display-detail"),
                    "type": "DisplayDetail",
                    "page": 1,
                    "image": {
                        "id": self.node_id("display-image"),
                        "type": "MediaObject",
                        "content": base64.b64encode(image.encode("utf-8")).decode("ascii"),
                        "contentEncoding": _concept(BASE64_URI, "base64"),
                        "contentType": _concept(f"{FILE_TYPE_AUTHORITY}/SVG", "SVG"),
                    },
                },
            },
        }


_PARTIAL = {"stackable": True, "stand_alone": False}


def _derived(node_id: str, role: str) -> str:
    """A stable id for a node belonging to `node_id` (the same in every export)."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, node_id + '#' + role)}"


def _scheme(uri: str) -> str | None:
    """The concept scheme of an EU value-set concept, as the Commission's sample names it."""
    if uri.startswith(ESCO_SKILL):
        return ESCO_SKILLS_SCHEME
    for authority in (COUNTRY_AUTHORITY, LANGUAGE_AUTHORITY, FILE_TYPE_AUTHORITY):
        if uri.startswith(authority + "/"):
            return authority
    if uri.startswith(SNB):
        value_set = uri.removeprefix(SNB).split("/")[0]
        return f"{SNB}{value_set}/25831c2"
    return None  # the alliance's own vocabulary: the concept stands on its URI and label


def _concept(uri: str, label: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {"id": uri, "type": "Concept"}
    scheme = _scheme(uri)
    if scheme is not None:
        concept["inScheme"] = {"id": scheme, "type": "ConceptScheme"}
    if label:
        concept["prefLabel"] = {LABEL_LANGUAGE: label}
    return concept


def _aligned(alignment: dict[str, Any]) -> dict[str, Any]:
    """The value-set concept an OB 3.0 alignment points to."""
    return _concept(alignment["targetUrl"], alignment.get("targetName"))


def _country(address: dict[str, Any]) -> dict[str, Any]:
    code = address.get("addressCountryCode", "")
    if code not in _COUNTRIES:
        raise ElmExportError(f"no EU country authority code is known for {code!r}")
    return _concept(f"{COUNTRY_AUTHORITY}/{_COUNTRIES[code]}", address.get("addressCountry"))


def _base(language: str) -> str:
    return language.split("-")[0].lower()


def _language(language: str) -> dict[str, Any]:
    code = _LANGUAGES.get(_base(language))
    if code is None:
        raise ElmExportError(f"no EU language authority code is known for {language!r}")
    return _concept(f"{LANGUAGE_AUTHORITY}/{code}")


def _web_resource(node_id: str, url: str) -> dict[str, Any]:
    return {"id": node_id, "type": "WebResource", "contentURL": url}


def _card(
    title: str,
    awarded_by: str,
    credits: float | None,
    eqf: dict[str, Any] | None,
    issued: str,
) -> str:
    """The image Europass shows for the credential (the profile requires one): an SVG card
    with the title, the awarding body, credits, level and date, in no language but the
    credential's own."""
    facts = []
    if credits is not None:
        facts.append(f"{credits} ECTS")
    if eqf is not None:
        facts.append(f"EQF {eqf.get('targetCode') or eqf['targetUrl'].rsplit('/', 1)[-1]}")
    facts.append(issued[:10])
    lines = [(line, 34, "bold") for line in textwrap.wrap(title, 36)[:4]]
    lines += [(line, 22, "normal") for line in textwrap.wrap(awarded_by, 56)[:2]]
    lines.append((" · ".join(facts), 22, "normal"))
    # The block of lines centred on an A4 landscape card.
    texts, y = [], (595 - sum(size + 18 for _, size, _ in lines)) // 2 + 34
    for line, size, weight in lines:
        texts.append(
            f'<text x="60" y="{y}" font-size="{size}" font-weight="{weight}">{escape(line)}</text>'
        )
        y += size + 18
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="842" height="595" '
        'viewBox="0 0 842 595" font-family="sans-serif">'
        '<rect width="842" height="595" fill="#ffffff" stroke="#003399" stroke-width="12"/>'
        + "".join(texts)
        + "</svg>"
    )
