"""The fast canonicalizer gives the reference's bytes, or steps aside."""

from __future__ import annotations

import random
from typing import Any, TypeVar

import pytest

from shared.credentials import (
    CanonicalizationError,
    Concept,
    FastPathUnsupported,
    LearningOutcome,
    MicroCredentialData,
    Organisation,
    Translation,
    UndefinedTermError,
    build_microcredential,
    canonicalize,
    canonicalize_fast,
    canonicalize_reference,
)
from shared.credentials.canon import canonical_double
from shared.credentials.loader import OB_V3P0, VC_V2

# Text that exercises N-Quads escaping and code-point ordering.
TRICKY = [
    "plain",
    'with "quotes"',
    "back\\slash",
    "multi\nline\r\nwindows",
    "tab\tinside",
    "Ωμέγα ελληνικά",
    "日本語のコース",
    "עברית RTL",
    "emoji 🎓📚",
    "combining e\u0301",
    "line\u2028separator",
    "zero-width\u200bspace",
    "<not a tag> & {braces}",
    "",
]
T = TypeVar("T")
LANGUAGES = ["en", "fr", "de", "pt-BR", "es", "pl", "it", "fi", "sv"]


def _organisation(rng: random.Random, n: int) -> Organisation:
    return Organisation(
        f"did:web:org{n}.example.eu" if rng.random() < 0.7 else f"https://org{n}.example.eu",
        rng.choice(TRICKY[:-1]) + f" University {n}",
        rng.choice(["DE", "FR", "PT", "PL", "IT", "FI"]),
        rng.choice([None, "Somewhere"]),
        rng.choice([None, f"https://org{n}.example.eu/home"]),
    )


def random_credential(rng: random.Random) -> dict[str, Any]:
    issuer = _organisation(rng, rng.randrange(3))
    awarding = issuer if rng.random() < 0.3 else _organisation(rng, 3 + rng.randrange(3))
    outcomes = [
        LearningOutcome(
            rng.choice(TRICKY[:-1]) + f" outcome {i}",
            f"http://data.europa.eu/esco/skill/{rng.getrandbits(64):016x}"
            if rng.random() < 0.6
            else None,
        )
        for i in range(1, rng.randint(1, 5) + 1)
    ]

    def concept(kind: str) -> Concept:
        return Concept(
            f"http://data.europa.eu/snb/{kind}/{rng.getrandbits(32):08x}",
            rng.choice(TRICKY[:-1]) + " " + kind,
        )

    def optional(value: T) -> T | None:
        return value if rng.random() < 0.5 else None

    data = MicroCredentialData(
        credential_id=f"urn:uuid:{rng.getrandbits(128):032x}",
        achievement_id=f"https://alliance.example.eu/achievements/{rng.randrange(10**6)}",
        issuer=issuer,
        awarding_body=awarding,
        assessing_body=optional(_organisation(rng, 9)),
        learner_id=rng.choice(TRICKY) + str(rng.randrange(10**9)),
        learner_name=optional(rng.choice(TRICKY)),
        learner_did=optional(f"did:key:z6Mk{rng.getrandbits(64):x}"),
        salt=f"{rng.getrandbits(64):x}",
        title=rng.choice(TRICKY[:-1]),
        description=rng.choice(TRICKY),
        language=rng.choice(LANGUAGES),
        valid_from=rng.choice(
            ["2025-01-01T00:00:00Z", "2024-02-29T23:59:59.123Z", "2026-07-01T10:00:00+02:00"]
        ),
        valid_until=optional("2030-01-01T00:00:00Z"),
        learning_outcomes=outcomes,
        ects=rng.choice([1, 2, 2.5, 3, 4.5, 5, 6, 7.5, 10, 0.1, 1.25]),
        ects_earned=optional(rng.choice([1, 1.5, 3])),
        eqf_level=rng.randint(1, 8),
        assessment_type=concept("assessment"),
        participation_form=concept("learning-assessment"),
        quality_assurance=concept("accreditation"),
        status=rng.choice(["Completed", "Failed", "Provisional"]),
        field_of_study=optional(rng.choice(TRICKY[:-1])),
        grade=optional(rng.choice(["A", "B+", "18/20", "sehr gut", "10"])),
        grade_scale=optional("ECTS grading scale"),
        supervision=optional(concept("supervision-verification")),
        stackability=optional(concept("stackability")),
        prerequisites=optional(rng.choice(TRICKY[:-1])),
        further_information=optional("https://alliance.example.eu/info?x=1&y=2"),
        activity_start=optional("2024-09-01"),
        activity_end=optional("2024-12-31"),
        translations=[
            Translation(language, rng.choice(TRICKY[:-1]), optional(rng.choice(TRICKY)))
            for language in rng.sample(LANGUAGES, rng.randint(0, 3))
        ],
        status_list_credential=f"https://alliance.example.eu/status/{rng.randrange(9)}",
        status_list_index=rng.randrange(131072),
        include_schema=rng.random() < 0.8,
    )
    return build_microcredential(data)


@pytest.mark.parametrize("seed", range(60))
def test_fast_equals_reference_for_built_credentials(seed: int) -> None:
    document = random_credential(random.Random(seed))
    # Our own credentials must never need the slow path.
    assert canonicalize_fast(document) == canonicalize_reference(document)


def _raw_document(rng: random.Random) -> dict[str, Any]:
    """Hand-shaped documents using features the builder does not (value objects, etc.)."""
    name: Any = rng.choice(
        [
            rng.choice(TRICKY),
            {"@value": rng.choice(TRICKY), "@language": rng.choice(["en", "EN-gb", "fr-CA"])},
            [{"@value": "Titre", "@language": "fr"}, {"@value": "Title", "@language": "en"}],
        ]
    )
    return {
        "@context": [VC_V2, OB_V3P0],
        "id": f"urn:uuid:{rng.getrandbits(64):x}",
        "type": rng.choice(
            ["VerifiableCredential", ["VerifiableCredential", "OpenBadgeCredential"]]
        ),
        "issuer": rng.choice(["did:web:x.example", {"id": "did:web:x.example", "type": "Profile"}]),
        "validFrom": "2025-01-01T00:00:00Z",
        "name": name,
        "description": None,
        "credentialSubject": {
            "type": "AchievementSubject",
            "creditsEarned": rng.choice([0, 3, 2.75, -1.5, 10**6, 1e-7]),
            "result": [
                {"type": "Result", "status": "Completed"},
                {"type": "Result", "value": rng.choice(TRICKY)},
            ],
            "achievement": {
                "id": "https://x.example/a",
                "type": "Achievement",
                "name": "A",
                "criteria": {"narrative": rng.choice(TRICKY)},
                "tag": rng.sample(["x", "y", "z", "x"], rng.randint(0, 4)),
            },
            "identifier": [
                {"type": "IdentityObject", "hashed": rng.choice([True, False]), "salt": "s"}
            ],
        },
    }


@pytest.mark.parametrize("seed", range(40))
def test_canonicalize_equals_reference_for_hand_shaped_documents(seed: int) -> None:
    document = _raw_document(random.Random(1000 + seed))
    assert canonicalize(document) == canonicalize_reference(document)


def test_two_identical_blank_nodes_are_labelled_by_n_degree_hashing() -> None:
    document = _raw_document(random.Random(1))
    document["credentialSubject"]["result"] = [
        {"type": "Result", "status": "Completed"},
        {"type": "Result", "status": "Completed"},
    ]
    assert canonicalize_fast(document) == canonicalize_reference(document)


def _creator(country: str) -> dict[str, Any]:
    return {
        "type": "Profile",
        "name": "U",
        "address": {"type": "Address", "addressCountry": country},
    }


@pytest.mark.parametrize("seed", range(20))
def test_symmetric_chains_of_blank_nodes_equal_the_reference(seed: int) -> None:
    """Achievements without ids whose creators and addresses are blank nodes too, some of
    them identical: the n-degree hashing recurses along the chains to tell them apart."""
    rng = random.Random(seed)
    document = _raw_document(rng)
    document["credentialSubject"]["achievement"] = [
        {
            "type": "Achievement",
            "name": rng.choice(["A", "B"]),
            "criteria": {"narrative": "n"},
            "creator": _creator(rng.choice(["DK", "ES"])),
            "alignment": [
                {
                    "type": "Alignment",
                    "targetName": rng.choice(["x", "y"]),
                    "targetUrl": "https://t",
                }
                for _ in range(rng.randint(0, 3))
            ],
        }
        for _ in range(rng.randint(2, 4))
    ]
    assert canonicalize_fast(document) == canonicalize_reference(document)


def test_too_many_interchangeable_blank_nodes_go_to_the_reference() -> None:
    # Eight identical alignments under each of two identical achievements: the n-degree
    # hashing would try 8! orders per achievement, past the bound.
    document = _raw_document(random.Random(3))
    achievement = {
        "type": "Achievement",
        "name": "A",
        "criteria": {"narrative": "n"},
        "alignment": [{"type": "Alignment", "targetName": "x", "targetUrl": "https://t"}] * 8,
    }
    document["credentialSubject"]["achievement"] = [achievement, achievement]
    with pytest.raises(FastPathUnsupported, match="permutations"):
        canonicalize_fast(document)
    assert canonicalize(document) == canonicalize_reference(document)


def test_undefined_term_is_an_error_not_a_silent_drop() -> None:
    document = _raw_document(random.Random(2))
    document["credentialSubject"]["achievement"]["notATerm"] = "would vanish"
    with pytest.raises(UndefinedTermError, match="notATerm"):
        canonicalize(document)
    # pyld alone drops it silently, which is why the fast path refuses.
    del document["credentialSubject"]["achievement"]["notATerm"]
    assert canonicalize(document) == canonicalize_reference(document)


@pytest.mark.parametrize(
    ("value", "text"), [(2.5, "2.5E0"), (0.1, "1.0E-1"), (-1.5, "-1.5E0"), (1e-7, "1.0E-7")]
)
def test_canonical_double(value: float, text: str) -> None:
    assert canonical_double(value) == text


def test_inline_context_goes_to_the_reference() -> None:
    document = {
        "@context": [VC_V2, {"@vocab": "https://example.org/vocab#"}],
        "id": "urn:x",
        "type": "VerifiableCredential",
        "anything": "kept via @vocab",
    }
    with pytest.raises(FastPathUnsupported, match="inline"):
        canonicalize_fast(document)
    assert "https://example.org/vocab#anything" in canonicalize(document)


def test_a_context_pyld_cannot_process_is_refused_as_a_document_error() -> None:
    # The W3C data-model suite's "unmapped type" credential: pyld fails on it with a bare
    # KeyError, which reached the issue route as a 500.
    document = {
        "@context": [VC_V2, {"@vocab": None}],
        "id": "urn:x",
        "type": ["VerifiableCredential", "UnmappedType"],
    }
    with pytest.raises(CanonicalizationError, match="cannot be processed"):
        canonicalize(document)
