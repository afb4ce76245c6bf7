"""The verifier takes any eddsa-rdfc-2022 credential: VC 1.1 and 2.0, proof sets and
previousProof chains, no validFrom; and answers the VC API with the checks asked for."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.credentials import did_key, did_key_verification_method, sign_credential
from shared.credentials.proof import hash_data, proof_configuration
from shared.credentials.verifier import OfflineResolver, Outcome, vc_api_response, verify
from shared.registry import b58encode
from tests.credentials.test_data_model import plain_v1, plain_v2

CREATED = "2026-01-02T00:00:00Z"


def _key() -> tuple[Ed25519PrivateKey, str]:
    key = Ed25519PrivateKey.generate()
    return key, did_key_verification_method(key.public_key())


def _issued_by(key: Ed25519PrivateKey, credential: dict[str, Any]) -> dict[str, Any]:
    return {**credential, "issuer": did_key(key.public_key())}


def _proof(
    document: dict[str, Any],
    key: Ed25519PrivateKey,
    method: str,
    proof_id: str,
    previous: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A proof with an id, over `document` carrying the `previous` proofs (a chain)."""
    config = {**proof_configuration(document, method, CREATED), "id": proof_id}
    if previous:
        config["previousProof"] = [proof["id"] for proof in previous]
    secured = {**document, "proof": previous} if previous else document
    signature = key.sign(hash_data(config, secured))
    proof = {k: v for k, v in config.items() if k != "@context"}
    return {**proof, "proofValue": "z" + b58encode(signature)}


async def _outcomes(credential: dict[str, Any]) -> dict[str, Outcome]:
    report = await verify(credential, OfflineResolver())
    return {str(check.name): check.outcome for check in report.checks}


@pytest.mark.parametrize("make", [plain_v1, plain_v2])
async def test_vc_1_1_and_2_0_credentials_verify(make: Any) -> None:
    key, method = _key()
    signed = sign_credential(_issued_by(key, make()), key, method, CREATED)
    outcomes = await _outcomes(signed)
    assert outcomes["structure"] is Outcome.PASSED
    assert outcomes["proof"] is Outcome.PASSED
    assert outcomes["validity"] is Outcome.PASSED
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["id"] = "did:example:someone-else"
    assert (await _outcomes(tampered))["proof"] is Outcome.FAILED


async def test_a_vc_2_0_credential_without_valid_from_is_valid() -> None:
    key, method = _key()
    credential = _issued_by(key, plain_v2())
    del credential["validFrom"]
    signed = sign_credential(credential, key, method, CREATED)
    report = await verify(signed, OfflineResolver())
    assert report.check("validity").outcome is Outcome.PASSED, report.to_dict()
    assert "no start date" in report.check("validity").message


async def test_a_proof_set_verifies_only_when_every_proof_holds() -> None:
    key, method = _key()
    cosigner, cosigner_method = _key()
    document = _issued_by(key, plain_v2())
    proofs = [
        _proof(document, key, method, "urn:uuid:proof-1"),
        _proof(document, cosigner, cosigner_method, "urn:uuid:proof-2"),
    ]
    report = await verify({**document, "proof": proofs}, OfflineResolver())
    assert report.check("proof").outcome is Outcome.PASSED, report.check("proof").message
    assert "2 proofs" in report.check("proof").message

    broken = copy.deepcopy(proofs)
    broken[1]["proofValue"] = proofs[0]["proofValue"]
    report = await verify({**document, "proof": broken}, OfflineResolver())
    assert report.check("proof").outcome is Outcome.FAILED
    assert "proof 2 of 2" in report.check("proof").message

    # Cosigned only by someone else: no proof binds the issuer.
    others = {**document, "proof": [proofs[1]]}
    assert (await _outcomes(others))["proof"] is Outcome.FAILED


async def test_a_previous_proof_chain_verifies_in_order() -> None:
    key, method = _key()
    endorser, endorser_method = _key()
    document = _issued_by(key, plain_v2())
    first = _proof(document, key, method, "urn:uuid:first")
    second = _proof(document, endorser, endorser_method, "urn:uuid:second", previous=[first])
    report = await verify({**document, "proof": [first, second]}, OfflineResolver())
    assert report.check("proof").outcome is Outcome.PASSED, report.check("proof").message

    # The second proof signed the document with the first: without it, it does not hold.
    unchained = _proof(document, endorser, endorser_method, "urn:uuid:second")
    unchained["previousProof"] = "urn:uuid:first"
    report = await verify({**document, "proof": [first, unchained]}, OfflineResolver())
    assert report.check("proof").outcome is Outcome.FAILED

    dangling = {**second, "previousProof": "urn:uuid:gone"}
    report = await verify({**document, "proof": [first, dangling]}, OfflineResolver())
    assert report.check("proof").outcome is Outcome.FAILED
    assert "previousProof ['urn:uuid:gone'] is not in the set" in report.check("proof").message


async def test_the_vc_api_answer_honours_options_checks() -> None:
    key, method = _key()
    credential = _issued_by(key, plain_v2())
    credential["validUntil"] = "2026-01-03T00:00:00Z"  # expired by now
    report = await verify(sign_credential(credential, key, method, CREATED), OfflineResolver())
    assert report.check("validity").outcome is Outcome.FAILED

    full = vc_api_response(report)
    assert not full["verified"]
    assert any(error.startswith("validity:") for error in full["errors"])

    only_proof = vc_api_response(report, ["proof"])
    assert only_proof == {
        "verified": True,
        "checks": ["proof", "structure"],
        "warnings": [],
        "errors": [],
    }
    expiration = vc_api_response(report, ["expiration"])
    assert expiration["errors"]
    assert expiration["errors"][0].startswith("expiration:")
    with pytest.raises(ValueError, match="unknown"):
        vc_api_response(report, ["astrology"])
