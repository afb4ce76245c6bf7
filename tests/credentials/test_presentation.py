"""The presentation verifier: a holder's presentation verifies only with its holder's
`authentication` proof, made for the verifier's challenge and domain, over what it carries,
and with every credential in it verifying; each refusal says which check failed."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.credentials import did_key, did_key_verification_method, sign_credential
from shared.credentials.loader import ED25519_2020_V1, VC_V1, VC_V2
from shared.credentials.verifier import (
    MAX_PRESENTED_CREDENTIALS,
    OfflineResolver,
    PresentationReport,
    verify_presentation,
)
from tests.independent.test_digitalbazaar import node  # noqa: F401 - a fixture
from tests.support.presentations import presentation
from tests.wallet.test_exchange import independent_presentation
from tests.wallet.test_exchange_rules import LCW_HOLDER, LCW_PROOF

HOLDER = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
ISSUER = Ed25519PrivateKey.from_private_bytes(bytes(range(2, 34)))
CHALLENGE = "a-challenge-this-verifier-made"
DOMAIN = "https://verifier.example"


def credential() -> dict[str, Any]:
    """A VC 2.0 credential of the holder, issued by a did:key issuer (not a partner)."""
    unsigned = {
        "@context": [VC_V2],
        "type": ["VerifiableCredential"],
        "issuer": did_key(ISSUER.public_key()),
        "credentialSubject": {"id": did_key(HOLDER.public_key())},
    }
    method = did_key_verification_method(ISSUER.public_key())
    return sign_credential(unsigned, ISSUER, method, "2026-01-01T00:00:00Z")


def checked(
    presented: Any, challenge: str | None = CHALLENGE, domain: str | None = DOMAIN
) -> PresentationReport:
    return asyncio.run(
        verify_presentation(presented, OfflineResolver(), challenge=challenge, domain=domain)
    )


def test_a_holders_presentation_for_this_challenge_verifies() -> None:
    report = checked(presentation(HOLDER, CHALLENGE, DOMAIN, credentials=[credential()]))
    answer = report.vc_api()
    assert report.verified, answer
    assert answer["checks"] == ["structure", "proof"]
    assert answer["errors"] == []
    [result] = answer["credentialResults"]
    assert result["verified"]
    assert "proof" in result["checks"]
    # A did:key issuer is no partner of the alliance: said, not refused.
    assert answer["warnings"] == [f"verifiableCredential[0] {w}" for w in result["warnings"]]
    assert any(w.startswith("verifiableCredential[0] trust:") for w in answer["warnings"])


def test_a_presentation_signed_by_digital_bazaars_libraries_verifies(
    node: str,  # noqa: F811 - the fixture's value
    tmp_path: Path,
) -> None:
    signed = independent_presentation(node, tmp_path, CHALLENGE, DOMAIN)
    answer = checked(signed).vc_api()
    assert answer["verified"], answer
    assert not checked(signed, challenge="another").verified


@pytest.mark.parametrize("base", [VC_V1, VC_V2])
def test_the_learner_credential_wallets_ed25519_signature_2020_presentation_verifies(
    base: str,
) -> None:
    signed = {
        "@context": [base, ED25519_2020_V1],
        "type": ["VerifiablePresentation"],
        "holder": LCW_HOLDER,
        "proof": LCW_PROOF,
    }
    assert checked(signed, challenge="c1", domain="http://127.0.0.1:1").verified
    assert not checked(signed, challenge="c2", domain="http://127.0.0.1:1").verified


def test_a_verifier_that_gave_no_challenge_does_not_check_one() -> None:
    signed = presentation(HOLDER, "any", "https://anyone.example")
    assert checked(signed, challenge=None, domain=None).verified
    assert not checked(signed).verified


def _signed(
    challenge: str = CHALLENGE, domain: str = DOMAIN, purpose: str = "authentication"
) -> Callable[[], dict[str, Any]]:
    """A presentation the holder signed, for what it was asked or not."""
    return lambda: presentation(HOLDER, challenge, domain, purpose)


def _changed(key: str, value: Any) -> Callable[[], dict[str, Any]]:
    """A presentation signed for this verifier, then changed."""

    def made() -> dict[str, Any]:
        presented = presentation(HOLDER, CHALLENGE, DOMAIN)
        if value is _REMOVED:
            del presented[key]
        else:
            presented[key] = value
        return presented

    return made


_REMOVED = object()

# Each presentation, and the check that refuses it with why.
REFUSED: dict[str, tuple[Callable[[], dict[str, Any]], str]] = {
    # Signed by the holder, but not for this request or not as an authentication.
    "made for another challenge (a replay)": (
        _signed(challenge="an-old-challenge"),
        "proof: the proof's challenge",
    ),
    "made for another verifier": (
        _signed(domain="https://elsewhere.example"),
        "proof: the proof's domain",
    ),
    "an assertion, not an authentication": (
        _signed(purpose="assertionMethod"),
        "proof: proofPurpose is 'assertionMethod'",
    ),
    # Changed after signing.
    "another holder named": (_changed("holder", did_key(ISSUER.public_key())), "proof: proof by"),
    "a credential added": (
        _changed("verifiableCredential", [credential()]),
        "proof: signature does not match",
    ),
    "no proof": (_changed("proof", _REMOVED), "proof: a presentation carries one embedded proof"),
    "no @context": (_changed("@context", _REMOVED), "structure: contexts"),
    "the base context second": (
        _changed("@context", ["https://www.w3.org/ns/credentials/examples/v2", VC_V2]),
        "structure: contexts",
    ),
    "a context that is not a URL": (
        _changed("@context", [VC_V2, 123192875]),
        "structure: contexts",
    ),
    "no VerifiablePresentation type": (_changed("type", ["Presentation"]), "structure: types"),
    "a holder that is no URL": (_changed("holder", {"name": "me"}), "structure: presentations"),
    "a credential given as a URL": (
        _changed("verifiableCredential", ["https://x.example/credential/1"]),
        "structure: presentations",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_presentation_is_refused_by_the_check_it_fails(case: str) -> None:
    made, error = REFUSED[case]
    answer = checked(made()).vc_api()
    assert not answer["verified"]
    assert [e for e in answer["errors"] if e.startswith(error)], answer["errors"]


def test_two_proofs_are_refused() -> None:
    signed = presentation(HOLDER, CHALLENGE, DOMAIN)
    answer = checked({**signed, "proof": [signed["proof"]] * 2}).vc_api()
    assert answer["errors"] == ["proof: a presentation carries one embedded proof"]


def test_a_presentation_fails_with_any_credential_in_it() -> None:
    tampered = copy.deepcopy(credential())
    tampered["credentialSubject"]["id"] = "did:example:someone-else"
    report = checked(presentation(HOLDER, CHALLENGE, DOMAIN, credentials=[credential(), tampered]))
    answer = report.vc_api()
    assert not report.verified
    assert answer["checks"] == ["structure", "proof"]  # the holder's own proof holds
    assert [e for e in answer["errors"] if e.startswith("verifiableCredential[1] proof:")]
    assert [r["verified"] for r in answer["credentialResults"]] == [True, False]


def test_a_presentation_of_too_many_credentials_is_refused_unread() -> None:
    many = [credential()] * (MAX_PRESENTED_CREDENTIALS + 1)
    report = checked(presentation(HOLDER, CHALLENGE, DOMAIN, credentials=many))
    assert report.structure == "this verifier takes at most 20 credentials a presentation, not 21"
    assert report.credentials == ()
    assert checked(presentation(HOLDER, CHALLENGE, DOMAIN, credentials=many[1:])).verified


def test_what_is_not_a_presentation_is_refused() -> None:
    answer = checked({"type": ["NonconformingDocument"]}).vc_api()
    assert not answer["verified"]
    assert answer["errors"][0].startswith("structure:")
    assert answer["errors"][1] == "proof: not checked: the presentation is malformed"
