"""The Europass export (ELM v3, EDC application profile) of an issued micro-credential:
the EU's SHACL profile `EDC-generic-no-cv` accepts it and refuses a copy missing a mandatory
element, and each EU element is where ELM puts it, with the Commission's value-set URIs."""

from __future__ import annotations

import copy
import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import rdflib
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyshacl import validate
from rdflib.namespace import SH

from services.issuance.domain import Issuance, Party, microcredential_data
from shared.credentials import (
    MicroCredentialData,
    build_microcredential,
    sign_credential,
    verification_method_id,
)
from shared.credentials.data_model import check_credential
from shared.credentials.elm import ElmExportError, to_elm
from shared.credentials.loader import EDC_AP, load_context
from shared.credentials.microcredential import UNSUPERVISED_NO_ID_URI
from shared.credentials.reference import canonicalize_reference
from shared.events import (
    Grade,
    LearningOutcome,
    Prerequisites,
    ResultRecorded,
    Stackability,
    SupervisionAndIdentityVerification,
)
from tests.contracts.examples import example_event
from tests.support.builders import offering_published

# The Commission's reference files are handed out beside the repository (in CI too).
ELM_REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "elm-v3"
PROFILE = ELM_REFERENCE / "EDC-generic-no-cv.ttl"
SAMPLE = ELM_REFERENCE / "sample-microcredential-annex1-unsigned.jsonld"

ISSUER = Party("nordhavn", "did:web:issuer.example:partners:nordhavn", "Nordhavn", "DK")
AWARDING = Party(
    "rheinfeld", "did:web:issuer.example:partners:rheinfeld", "Rheinfeld", "DE",
    "https://rheinfeld.example.eu",
)  # fmt: skip
ESCO = "http://data.europa.eu/esco/skill/b5a0f7b6-3e09-4b5d-9f0c-2f1ad2f5b0c1"
PREREQUISITES = "Introduction to Data Science (nordhavn) or equivalent."
ELM = "http://data.europa.eu/snb/model/elm/"
CRED = "https://www.w3.org/2018/credentials#"
DC = "http://purl.org/dc/terms/"


@pytest.fixture(scope="module")
def shapes() -> rdflib.Graph:
    if not PROFILE.is_file():
        pytest.fail(
            f"the EU's SHACL profile is missing: expected {PROFILE} (shared/reference/elm-v3, "
            "handed out beside the repository)"
        )
    return rdflib.Graph().parse(PROFILE, format="turtle")


def _data(
    *,
    grade: Grade | None = Grade(value="1,7", scheme="de-1-5"),  # noqa: B008
    awarding: Party = AWARDING,
    supervision: SupervisionAndIdentityVerification = (
        SupervisionAndIdentityVerification.SUPERVISED_WITH_IDENTITY_VERIFICATION
    ),
    **offering: Any,
) -> MicroCredentialData:
    """The credential data issuance derives from an offering and a result."""
    terms = offering_published(
        "rheinfeld",
        **{
            "prerequisites": Prerequisites(description={"en": PREREQUISITES}),
            "stackability": Stackability.STACKABLE,
            "fields_of_study": ("0613", "Ethics"),
            **offering,
        },
    )
    result = example_event("assessment.result_recorded")
    assert isinstance(result, ResultRecorded)
    result = result.model_copy(
        update={"grade": grade, "supervision_and_identity_verification": supervision}
    )
    issuance = Issuance(
        credential_url="https://issuer.example/credentials/cred-abcd",
        achievement_id="https://issuer.example/achievements/off-x",
        issuer=ISSUER,
        awarding_body=awarding,
        assessing_body=awarding,
        issued_at=dt.datetime(2026, 7, 1, 9, 30, tzinfo=dt.UTC),
        status_list_url="https://issuer.example/status/nordhavn/revocation",
        status_list_index=42,
    )
    return microcredential_data(terms, result, issuance)


def _issued(data: MicroCredentialData, key: Ed25519PrivateKey) -> dict[str, Any]:
    method = verification_method_id(data.issuer.id, key.public_key())
    return sign_credential(build_microcredential(data), key, method, data.valid_from)


@pytest.fixture
def issued(issuer_key: Ed25519PrivateKey) -> dict[str, Any]:
    return _issued(_data(), issuer_key)


def _shacl(document: dict[str, Any], shapes: rdflib.Graph) -> tuple[bool, set[str], str]:
    """Whether the profile accepts `document`, the paths of its violations (nested ones
    included) and the report. The RDF comes from pyld in safe mode with the local contexts:
    no term is dropped and nothing is fetched."""
    graph = rdflib.Graph().parse(data=canonicalize_reference(document), format="nt")
    conforms, report, text = validate(graph, shacl_graph=shapes)
    assert isinstance(report, rdflib.Graph)
    paths = {str(path) for path in report.objects(None, SH.resultPath)}
    return bool(conforms), paths, str(text)


def _claim(elm: dict[str, Any]) -> dict[str, Any]:
    claim: dict[str, Any] = elm["credentialSubject"]["hasClaim"]
    return claim


def test_the_export_of_an_issued_credential_passes_the_edc_profile(
    issued: dict[str, Any], shapes: rdflib.Graph
) -> None:
    elm = to_elm(issued)
    start = time.perf_counter()
    conforms, _, report = _shacl(elm, shapes)
    elapsed = time.perf_counter() - start
    assert conforms, report
    assert elapsed < 5, f"SHACL validation took {elapsed:.2f} s"  # about 0.1 s here
    assert check_credential(elm) == "1.1"  # and a VC Data Model 1.1 credential


@pytest.mark.parametrize(
    ("remove", "path"),
    [
        (lambda elm: elm.pop("issued"), CRED + "issued"),
        (lambda elm: elm.pop("credentialProfiles"), ELM + "credentialProfiles"),
        (lambda elm: elm.pop("displayParameter"), ELM + "displayParameter"),
        (lambda elm: elm["issuer"].pop("eIDASIdentifier"), ELM + "eidasLegalIdentifier"),
        (lambda elm: elm["credentialSubject"].pop("hasClaim"), ELM + "hasClaim"),
        (lambda elm: _claim(elm).pop("title"), DC + "title"),
        (lambda elm: _claim(elm)["provenBy"].pop("grade"), ELM + "grade"),
        (lambda elm: _claim(elm)["creditReceived"].pop("point"), ELM + "point"),
    ],
    ids=[
        "issued", "credentialProfiles", "displayParameter", "issuer-legal-identifier",
        "hasClaim", "title", "grade", "credit-point",
    ],
)  # fmt: skip
def test_a_copy_without_a_mandatory_element_fails_the_profile(
    issued: dict[str, Any],
    shapes: rdflib.Graph,
    remove: Callable[[dict[str, Any]], object],
    path: str,
) -> None:
    broken = copy.deepcopy(to_elm(issued))
    remove(broken)
    conforms, paths, report = _shacl(broken, shapes)
    assert not conforms
    assert path in paths, report


def test_each_eu_element_is_where_elm_puts_it(issued: dict[str, Any]) -> None:
    elm = to_elm(issued)
    assert elm["@context"] == ["https://www.w3.org/2018/credentials/v1", EDC_AP]
    assert elm["type"] == ["VerifiableCredential", "EuropeanDigitalCredential"]
    assert elm["credentialProfiles"]["id"] == "http://data.europa.eu/snb/credential/e34929035b"
    assert elm["identifier"]["notation"] == issued["id"]  # the signed original
    assert elm["issued"] == elm["validFrom"] == issued["validFrom"] == "2026-07-01T09:30:00Z"
    assert not {"proof", "credentialStatus"} & set(elm)
    # The issuer (signing by mandate) and its country.
    assert elm["issuer"]["id"] == ISSUER.did
    assert elm["issuer"]["location"]["address"]["countryCode"]["id"] == (
        "http://publications.europa.eu/resource/authority/country/DNK"
    )
    assert elm["issuer"]["eIDASIdentifier"]["notation"] == ISSUER.did
    claim = _claim(elm)
    assert claim["type"] == "LearningAchievement"
    assert claim["title"] == {"en": "Data Ethics in Practice", "de": "Datenethik in der Praxis"}
    # Awarding body and its country.
    body = claim["awardedBy"]["awardingBody"]
    assert (body["id"], body["legalName"]) == (AWARDING.did, {"en": "Rheinfeld"})
    assert body["location"]["address"]["countryCode"]["id"].endswith("/country/DEU")
    assert body["homepage"]["contentURL"] == "https://rheinfeld.example.eu"
    assert claim["awardedBy"]["awardingDate"] == issued["validFrom"]
    qualification = claim["specifiedBy"]
    assert qualification["type"] == "Qualification"
    assert qualification["id"] == issued["credentialSubject"]["achievement"]["id"]
    # Credit points (ECTS), offered and received.
    ects = "http://data.europa.eu/snb/education-credit/6fcec5c5af"
    assert qualification["creditPoint"]["framework"]["id"] == ects
    assert qualification["creditPoint"]["point"] == "5"
    assert claim["creditReceived"]["framework"]["id"] == ects
    assert claim["creditReceived"]["point"] == "5"
    # EQF level.
    assert qualification["eqfLevel"]["id"] == "http://data.europa.eu/snb/eqf/6"
    assert qualification["eqfLevel"]["inScheme"]["id"] == "http://data.europa.eu/snb/eqf/25831c2"
    # Learning outcomes, the ESCO skill on the outcome it belongs to.
    outcomes = qualification["learningOutcome"]
    assert [o["title"] for o in outcomes] == [
        {"en": "Assess a data-driven system for bias and privacy risks."},
        {"en": "Write a data protection impact assessment."},
    ]
    assert outcomes[0]["relatedESCOSkill"]["id"] == ESCO
    assert outcomes[0]["relatedESCOSkill"]["inScheme"]["id"] == (
        "http://data.europa.eu/esco/concept-scheme/skills"
    )
    assert "relatedESCOSkill" not in outcomes[1]
    # Mode of learning (form of participation).
    assert qualification["mode"]["id"] == "http://data.europa.eu/snb/learning-assessment/e92d221e4d"
    assert qualification["mode"]["inScheme"]["id"] == (
        "http://data.europa.eu/snb/learning-assessment/25831c2"
    )
    # Entry requirements, partial qualification (stackable), field, language, more information.
    assert qualification["entryRequirement"]["noteLiteral"] == {"en": PREREQUISITES}
    assert qualification["isPartialQualification"] is True
    assert [a["id"] for a in qualification["thematicArea"]] == [
        "http://data.europa.eu/snb/isced-f/0613"
    ]
    assert qualification["language"]["id"] == (
        "http://publications.europa.eu/resource/authority/language/ENG"
    )
    assert qualification["homepage"]["contentURL"] == (
        "https://valdemora.example.eu/courses/data-ethics"
    )
    assert qualification["additionalNote"]["subject"]["prefLabel"] == {
        "en": "Institutional quality assurance"
    }
    # The assessment: grade with its grading scheme, type, identity verification, assessor.
    assessment = claim["provenBy"]
    assert assessment["type"] == "LearningAssessment"
    assert assessment["grade"]["noteLiteral"] == {"en": "1,7"}
    assert assessment["specifiedBy"]["gradingScheme"]["title"] == {"en": "de-1-5"}
    assert assessment["specifiedBy"]["dcType"]["id"].endswith("/assessment-type/project_work")
    assert assessment["idVerification"]["prefLabel"] == {
        "en": "Supervised online or onsite with identity verification"
    }
    assert assessment["assessedBy"]["id"] == AWARDING.did
    # Display: languages, and the image Europass shows.
    display = elm["displayParameter"]
    assert display["primaryLanguage"]["id"].endswith("/language/ENG")
    assert [c["id"][-3:] for c in display["language"]] == ["ENG", "DEU"]
    image = display["individualDisplay"]["displayDetail"]["image"]
    assert image["contentType"]["id"] == (
        "http://publications.europa.eu/resource/authority/file-type/SVG"
    )


def test_the_learner_is_only_what_the_credential_says(
    issued: dict[str, Any], issuer_key: Ed25519PrivateKey
) -> None:
    person = to_elm(issued)["credentialSubject"]
    assert set(person) == {"id", "type", "hasClaim", "identifier"}  # no name, no birth date
    identity = issued["credentialSubject"]["identifier"][0]
    assert person["identifier"][0]["notation"] == identity["identityHash"]
    assert identity["salt"] in person["identifier"][0]["schemeName"]
    assert person["id"].startswith("urn:uuid:")
    holder = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    with_did = _issued(replace(_data(), learner_did=holder), issuer_key)
    assert to_elm(with_did)["credentialSubject"]["id"] == holder


def test_the_commissions_value_set_uris(issuer_key: Ed25519PrivateKey) -> None:
    """Every EU concept scheme, and every EU concept not numbered by its own standard (EQF,
    ISCED-F, ESCO, countries, languages, file types), is one the Commission's sample uses."""
    data = _data(
        supervision=SupervisionAndIdentityVerification.UNSUPERVISED_NO_IDENTITY_VERIFICATION
    )
    elm = to_elm(_issued(data, issuer_key))
    verification = _claim(elm)["provenBy"]["idVerification"]
    assert verification["id"] == UNSUPERVISED_NO_ID_URI
    assert verification["inScheme"]["id"] == (
        "http://data.europa.eu/snb/supervision-verification/25831c2"
    )
    schemes: set[str] = set()
    concepts: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            if node.get("type") == "ConceptScheme":
                schemes.add(node["id"])
            if node.get("type") == "Concept":
                concepts.add(node["id"])
            for value in node.values():
                walk(value)

    walk(elm)
    numbered = ("/eqf/", "/isced-f/", "/esco/skill/", "/country/", "/language/", "/file-type/")
    eu = {c for c in concepts if "europa.eu" in c and not any(n in c for n in numbered)}
    assert UNSUPERVISED_NO_ID_URI in eu
    sample = SAMPLE.read_text(encoding="utf-8")
    assert [uri for uri in sorted(eu | schemes) if f'"{uri}"' not in sample] == []


def test_ungraded_stand_alone_credential_by_its_own_issuer(
    issuer_key: Ed25519PrivateKey, shapes: rdflib.Graph
) -> None:
    """No grade: the result's status is the grade the profile requires; a stand-alone
    credential is no partial qualification; prerequisites over several lines stay whole when
    no "awarded by" line follows them."""
    prerequisites = "Basic statistics.\nA laptop."
    data = _data(
        grade=None,
        awarding=ISSUER,
        stackability=Stackability.STAND_ALONE,
        prerequisites=Prerequisites(description={"en": prerequisites}),
    )
    elm = to_elm(_issued(data, issuer_key))
    conforms, _, report = _shacl(elm, shapes)
    assert conforms, report
    claim = _claim(elm)
    assert claim["provenBy"]["grade"]["noteLiteral"] == {"en": "Completed"}
    assert "gradingScheme" not in claim["provenBy"]["specifiedBy"]
    assert claim["specifiedBy"]["isPartialQualification"] is False
    assert claim["specifiedBy"]["entryRequirement"]["noteLiteral"] == {"en": prerequisites}
    assert claim["awardedBy"]["awardingBody"]["id"] == elm["issuer"]["id"] == ISSUER.did


def test_multi_line_prerequisites_before_the_awarded_by_line(
    issuer_key: Ed25519PrivateKey,
) -> None:
    prerequisites = "Basic statistics.\nA laptop."
    data = _data(prerequisites=Prerequisites(description={"en": prerequisites}))
    qualification = _claim(to_elm(_issued(data, issuer_key)))["specifiedBy"]
    assert qualification["entryRequirement"]["noteLiteral"] == {"en": prerequisites}


def test_outcomes_and_entry_requirements_in_every_language_the_offering_gives(
    issuer_key: Ed25519PrivateKey, shapes: rdflib.Graph
) -> None:
    """What the offering states in several languages the export states in each: a language
    one outcome lacks is left out of that outcome's title, not filled with another's."""
    assess = "Assess a data-driven system for bias and privacy risks."
    data = _data(
        learning_outcomes=(
            LearningOutcome(
                text={"en": assess, "de": "Ein datengetriebenes System auf Risiken prüfen.",
                      "es": "Evaluar los riesgos de un sistema basado en datos."},
                esco_skill_uri=ESCO,
            ),
            LearningOutcome(text={"en": "Write a data protection impact assessment.",
                                  "es": "Redactar una evaluación de impacto."}),
        ),
        prerequisites=Prerequisites(
            description={"en": PREREQUISITES, "de": "Einführung in die Datenwissenschaft."}
        ),
    )  # fmt: skip
    elm = to_elm(_issued(data, issuer_key))
    conforms, _, report = _shacl(elm, shapes)
    assert conforms, report
    qualification = _claim(elm)["specifiedBy"]
    outcomes = qualification["learningOutcome"]
    assert [o["title"] for o in outcomes] == [
        {"en": assess, "de": "Ein datengetriebenes System auf Risiken prüfen.",
         "es": "Evaluar los riesgos de un sistema basado en datos."},
        {"en": "Write a data protection impact assessment.",
         "es": "Redactar una evaluación de impacto."},
    ]  # fmt: skip
    assert outcomes[0]["relatedESCOSkill"]["id"] == ESCO
    assert "relatedESCOSkill" not in outcomes[1]
    assert qualification["entryRequirement"]["noteLiteral"] == {
        "en": PREREQUISITES,
        "de": "Einführung in die Datenwissenschaft.",
    }


def test_the_export_is_the_same_every_time(issued: dict[str, Any]) -> None:
    assert json.dumps(to_elm(issued)) == json.dumps(to_elm(copy.deepcopy(issued)))


def test_what_cannot_be_exported_is_refused(issued: dict[str, Any]) -> None:
    with pytest.raises(ElmExportError, match="Open Badges"):
        to_elm({**issued, "type": ["VerifiableCredential"]})
    foreign = copy.deepcopy(issued)
    foreign["issuer"]["address"]["addressCountryCode"] = "ZZ"
    with pytest.raises(ElmExportError, match="'ZZ'"):
        to_elm(foreign)


def test_the_edc_context_is_served_locally() -> None:
    vendored = load_context(EDC_AP)
    assert vendored["@context"]["elm"] == ELM
    if SAMPLE.parent.is_dir():  # the copy is the Commission's, unchanged
        reference = json.loads((ELM_REFERENCE / "edc-ap-context.jsonld").read_text("utf-8"))
        assert vendored == reference
