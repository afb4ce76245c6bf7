"""The OB 3.0 micro-credential: every EU element present, nothing dropped, nothing leaked."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from shared.credentials import (
    MicroCredentialData,
    Organisation,
    Translation,
    build_microcredential,
    canonicalize_fast,
    canonicalize_reference,
    identity_hash,
)
from shared.credentials.microcredential import read_narrative


def _statements(node: Any, found: set[tuple[str, str, str]] | None = None) -> int:
    """How many RDF statements a compact JSON-LD tree yields if no key is dropped.

    Every key other than @context and id gives one statement per value (a nested object
    adds the link plus its own); statements about the same identified node merge. A
    silently dropped term would lower pyld's count below this.
    """
    found = set() if found is None else found
    subject = node.get("id") or f"_:{id(node)}"
    for key, value in node.items():
        if key in ("@context", "id"):
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                _statements(item, found)
                target = item.get("id") or f"_:{id(item)}"
            else:
                target = json.dumps(item)
            found.add((subject, key, target))
    return len(found)


@pytest.mark.parametrize("same_body", [False, True])
def test_no_term_is_dropped(data: MicroCredentialData, same_body: bool) -> None:
    if same_body:
        data = replace(data, awarding_body=data.issuer)
    credential = build_microcredential(data)
    canonical = canonicalize_reference(credential)  # pyld, independent of the fast path
    assert len(canonical.splitlines()) == _statements(credential)
    assert canonicalize_fast(credential) == canonical


def test_mandatory_eu_elements(data: MicroCredentialData) -> None:
    credential = build_microcredential(data)
    subject = credential["credentialSubject"]
    achievement = subject["achievement"]
    alignment_types = {a["targetType"] for a in achievement["alignment"]}
    assert credential["@context"][:2] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert subject["identifier"][0]["identityHash"].startswith("sha256$")  # 1 learner
    assert achievement["name"] == data.title  # 2 title
    assert credential["issuer"]["address"]["addressCountryCode"] == "BE"  # 3 country
    assert achievement["creator"]["id"] == data.awarding_body.id  # 4 awarding body
    assert achievement["creator"]["address"]["addressCountryCode"] == "PT"
    assert credential["validFrom"] == data.valid_from  # 5 date of issuing
    assert "Apply FAIR principles" in achievement["criteria"]["narrative"]  # 6 outcomes
    assert "ceasn:Competency" in alignment_types
    assert achievement["creditsAvailable"] == 3  # 7 workload (ECTS)
    assert {
        "ext:EQFLevel",  # 8 level
        "ext:AssessmentType",  # 9 assessment
        "ext:ModeOfLearning",  # 10 participation
        "ext:QualityAssurance",  # 11 quality assurance
    } <= alignment_types
    eqf = next(a for a in achievement["alignment"] if a["targetType"] == "ext:EQFLevel")
    assert eqf["targetUrl"] == "http://data.europa.eu/snb/eqf/7"
    assert achievement["achievementType"] == "MicroCredential"
    assert subject["result"][1]["value"] == "B"  # optional: grade
    assert credential["credentialStatus"]["statusListIndex"] == str(data.status_list_index)
    assert achievement["related"][0]["inLanguage"] == "pt"


def test_learner_identity_is_only_hashed(data: MicroCredentialData) -> None:
    data = replace(data, learner_id="s1234567", learner_name="Zoë Example", salt="pepper")
    text = json.dumps(build_microcredential(data), ensure_ascii=False)
    assert "s1234567" not in text
    assert "Zoë" not in text
    assert identity_hash("s1234567", "pepper") in text


def test_random_salt_by_default(data: MicroCredentialData) -> None:
    data = replace(data, salt=None)
    first = build_microcredential(data)["credentialSubject"]["identifier"][0]
    second = build_microcredential(data)["credentialSubject"]["identifier"][0]
    assert first["salt"] != second["salt"]


def test_awarding_body_differing_from_issuer_is_stated(data: MicroCredentialData) -> None:
    achievement = build_microcredential(data)["credentialSubject"]["achievement"]
    assert "issued on its behalf by" in achievement["criteria"]["narrative"]


@pytest.mark.parametrize(
    "change",
    [
        {"eqf_level": 9},
        {"language": "English"},
        {"valid_from": "2025-01-01"},
        {"credential_id": "not an iri"},
        {"issuer": Organisation("did:web:x", "X", "Belgium")},
        {"title": "bell\x07"},
        {"learning_outcomes": []},
        {"translations": [Translation("xx_YY", "bad")]},
        {"prerequisites": "p", "prerequisites_translations": {"Deutsch": "p"}},
        {"status_list_index": None},
    ],
)
def test_invalid_inputs_are_refused(data: MicroCredentialData, change: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"must|not|required|contains|go together"):
        build_microcredential(replace(data, **change))


def test_text_is_normalised(data: MicroCredentialData) -> None:
    credential = build_microcredential(replace(data, description="a\tb\r\nc"))
    assert credential["credentialSubject"]["achievement"]["description"] == "a b\nc"


def _in_languages(data: MicroCredentialData) -> MicroCredentialData:
    """`data` with its outcomes and prerequisites in Portuguese and German too, the second
    outcome lacking German, its texts starting with what could read as a mark or running
    over several lines."""
    first, second = data.learning_outcomes
    return replace(
        data,
        learning_outcomes=[
            replace(first, translations={"pt": "Aplicar os princípios FAIR",
                                         "de": "FAIR anwenden"}),
            replace(second, text="[draft] Document\n## de\n\nprovenance",
                    translations={"pt": "\\Documentar a proveniência"}),
        ],
        prerequisites="Basic statistics.\nA laptop.",
        prerequisites_translations={"pt": "Estatística básica.", "de": "Grundlagen der Statistik."},
    )  # fmt: skip


def _narrative(credential: dict[str, Any]) -> str:
    narrative: str = credential["credentialSubject"]["achievement"]["criteria"]["narrative"]
    return narrative


def test_outcomes_and_prerequisites_travel_in_every_language_given(
    data: MicroCredentialData,
) -> None:
    data = _in_languages(data)
    credential = build_microcredential(data)
    narrative = _narrative(credential)
    # One section per language, the credential's own first; an outcome the offering lacks
    # in German is stated in English there, marked.
    sections = [line for line in narrative.split("\n") if line.startswith("## ")]
    assert sections == ["## en", "## pt", "## de"]
    assert "\n- [en] \\[draft] Document\n" in narrative
    stated = read_narrative(narrative, "en")
    assert stated.learning_outcomes == (
        {"en": "Apply FAIR principles to a data set", "pt": "Aplicar os princípios FAIR",
         "de": "FAIR anwenden"},
        {"en": "[draft] Document\n## de\n\nprovenance", "pt": "\\Documentar a proveniência"},
    )  # fmt: skip
    assert stated.prerequisites == {
        "en": "Basic statistics.\nA laptop.",
        "pt": "Estatística básica.",
        "de": "Grundlagen der Statistik.",
    }
    # Only terms the contexts define: nothing is dropped from what is signed.
    assert len(canonicalize_reference(credential).splitlines()) == _statements(credential)


def test_a_credential_of_one_language_states_its_criteria_without_sections(
    data: MicroCredentialData,
) -> None:
    narrative = _narrative(build_microcredential(replace(data, prerequisites="A laptop.")))
    assert "## " not in narrative
    assert narrative.startswith("Learning outcomes:\n- Apply FAIR principles to a data set\n")
    stated = read_narrative(narrative, "pt")
    assert [texts for texts in stated.learning_outcomes] == [
        {"pt": "Apply FAIR principles to a data set"},
        {"pt": "Document a data set's provenance"},
    ]
    assert stated.prerequisites == {"pt": "A laptop."}


def test_a_narrative_issued_before_the_sections_reads_back() -> None:
    issued_before = (
        "Learning outcomes:\n- Size a converter\nfor a wind turbine.\n- Simulate an inverter.\n\n"
        "Workload: 5 ECTS\nPrerequisites: Basic circuits.\nA laptop.\n"
        "Awarded by TH Rheinfeld, issued on its behalf by Nordhavn."
    )
    stated = read_narrative(issued_before, "en")
    assert stated.learning_outcomes == (
        {"en": "Size a converter\nfor a wind turbine."},
        {"en": "Simulate an inverter."},
    )
    assert stated.prerequisites == {"en": "Basic circuits.\nA laptop."}
    assert read_narrative("Pass the project.", "en") == read_narrative("", "en")
