"""Signing, verification, tampering, key rotation and DIDs."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.credentials import (
    KeyResolutionError,
    KeyResolver,
    MicroCredentialData,
    ProofError,
    build_did_document,
    build_microcredential,
    did_key,
    did_key_verification_method,
    did_web,
    did_web_document_url,
    public_key_from_did_key,
    sign_credential,
    verification_method_id,
    verify_credential,
)
from shared.credentials.loader import OB_V3P0
from shared.registry import public_key_multibase

CREATED = "2025-06-30T12:00:01Z"


def _signed(data: MicroCredentialData, key: Ed25519PrivateKey) -> dict[str, Any]:
    document = build_microcredential(data)
    method = verification_method_id(data.issuer.id, key.public_key())
    return sign_credential(document, key, method, CREATED)


def _resolver(data: MicroCredentialData, *keys: Ed25519PrivateKey) -> KeyResolver:
    public = [key.public_key() for key in keys]
    return KeyResolver([build_did_document(data.issuer.id, public)])


def test_round_trip(data: MicroCredentialData, issuer_key: Ed25519PrivateKey) -> None:
    signed = _signed(data, issuer_key)
    result = verify_credential(signed, _resolver(data, issuer_key))
    assert result.verified, result.reason
    assert result.verification_method == signed["proof"]["verificationMethod"]
    assert signed["proof"]["proofValue"].startswith("z")


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        target: Any = document
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return change


TAMPERING: dict[str, Callable[[dict[str, Any]], None]] = {
    "name": _set(("name",), "Forged title"),
    "validFrom": _set(("validFrom",), "2025-06-30T12:00:00.5Z"),
    "issuer name": _set(("issuer", "name"), "Someone else"),
    "result status": _set(("credentialSubject", "result", 0, "status"), "Failed"),
    "grade": _set(("credentialSubject", "result", 1, "value"), "A"),
    "credits": _set(("credentialSubject", "achievement", "creditsAvailable"), 30),
    "EQF level": _set(
        ("credentialSubject", "achievement", "alignment", 0, "targetUrl"),
        "http://data.europa.eu/snb/eqf/8",
    ),
    "learner hash": _set(("credentialSubject", "identifier", 0, "identityHash"), "sha256$00"),
    "criteria": _set(("credentialSubject", "achievement", "criteria", "narrative"), "x"),
    "status index": _set(("credentialStatus", "statusListIndex"), "1"),
    "added claim": _set(("credentialSubject", "activityEndDate"), "2025-01-01"),
    "proof created": _set(("proof", "created"), "2025-06-30T12:00:02Z"),
    "context removed": lambda document: document["@context"].remove(OB_V3P0),
}


@pytest.mark.parametrize("change", list(TAMPERING), ids=list(TAMPERING))
def test_any_change_breaks_the_signature(
    change: str, data: MicroCredentialData, issuer_key: Ed25519PrivateKey
) -> None:
    signed = _signed(data, issuer_key)
    tampered = copy.deepcopy(signed)
    TAMPERING[change](tampered)
    assert tampered != signed
    result = verify_credential(tampered, _resolver(data, issuer_key))
    assert not result.verified
    assert result.reason


def test_swapped_issuer_is_rejected(
    data: MicroCredentialData, issuer_key: Ed25519PrivateKey
) -> None:
    signed = _signed(data, issuer_key)
    signed["issuer"]["id"] = "did:web:other.example"
    result = verify_credential(signed, _resolver(data, issuer_key))
    assert not result.verified
    assert "issuer" in (result.reason or "")


def test_rotated_out_key_still_verifies_old_credentials(
    data: MicroCredentialData, issuer_key: Ed25519PrivateKey
) -> None:
    old = _signed(data, issuer_key)
    new_key = Ed25519PrivateKey.generate()
    resolver = _resolver(data, new_key, issuer_key)  # old key kept for earlier credentials
    assert verify_credential(old, resolver).verified
    assert verify_credential(_signed(data, new_key), resolver).verified
    dropped = _resolver(data, new_key)
    result = verify_credential(old, dropped)
    assert not result.verified
    assert "cannot resolve" in (result.reason or "")


def test_key_not_in_assertion_method_is_refused(
    data: MicroCredentialData, issuer_key: Ed25519PrivateKey
) -> None:
    document = build_did_document(data.issuer.id, [issuer_key.public_key()])
    method = verification_method_id(data.issuer.id, issuer_key.public_key())
    # An assertion key is not one to authenticate with (a presentation's proof).
    with pytest.raises(KeyResolutionError, match="authentication"):
        KeyResolver([document], "authentication")(method)
    document["assertionMethod"] = []
    with pytest.raises(KeyResolutionError, match=r"not in .*'s assertionMethod"):
        KeyResolver([document])(method)


def test_did_key_round_trip(issuer_key: Ed25519PrivateKey) -> None:
    public = issuer_key.public_key()
    did = did_key(public)
    assert did.startswith("did:key:z6Mk")
    method = did_key_verification_method(public)
    assert method == f"{did}#{did.removeprefix('did:key:')}"
    for value in (did, method):
        assert public_key_multibase(public_key_from_did_key(value)) == public_key_multibase(public)
    with pytest.raises(KeyResolutionError):
        public_key_from_did_key(did + "#z6MkOther")


def test_did_key_signed_credential_verifies(
    data: MicroCredentialData, issuer_key: Ed25519PrivateKey
) -> None:
    issuer = did_key(issuer_key.public_key())
    document = build_microcredential(
        MicroCredentialData(
            **{
                **data.__dict__,
                "issuer": data.issuer.__class__(issuer, data.issuer.name, data.issuer.country_code),
            }
        )
    )
    signed = sign_credential(
        document, issuer_key, did_key_verification_method(issuer_key.public_key()), CREATED
    )
    assert verify_credential(signed, KeyResolver()).verified


def test_did_web_identifiers() -> None:
    assert did_web("example.edu") == "did:web:example.edu"
    assert did_web("localhost:8443", "issuers", "a") == "did:web:localhost%3A8443:issuers:a"
    assert did_web_document_url("did:web:example.edu") == "https://example.edu/.well-known/did.json"
    assert (
        did_web_document_url("did:web:localhost%3A8443:issuers:a")
        == "https://localhost:8443/issuers/a/did.json"
    )


def test_did_document_shape(issuer_key: Ed25519PrivateKey) -> None:
    did = did_web("issuer.example")
    second = Ed25519PrivateKey.generate().public_key()
    document = build_did_document(did, [issuer_key.public_key(), second])
    assert document["@context"] == [
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/multikey/v1",
    ]
    assert [m["type"] for m in document["verificationMethod"]] == ["Multikey", "Multikey"]
    assert document["assertionMethod"] == [m["id"] for m in document["verificationMethod"]]
    assert all(m["controller"] == did for m in document["verificationMethod"])


def test_sign_refuses_bad_inputs(data: MicroCredentialData, issuer_key: Ed25519PrivateKey) -> None:
    signed = _signed(data, issuer_key)
    with pytest.raises(ProofError, match="already"):
        sign_credential(signed, issuer_key, "did:web:x#k", CREATED)
    with pytest.raises(ProofError, match="dateTime"):
        sign_credential(build_microcredential(data), issuer_key, "did:web:x#k", "yesterday")


def test_wrong_suite_or_purpose_is_reported(
    data: MicroCredentialData, issuer_key: Ed25519PrivateKey
) -> None:
    signed = _signed(data, issuer_key)
    for field, value, words in (
        ("cryptosuite", "ecdsa-rdfc-2019", "cryptosuite"),
        ("proofPurpose", "authentication", "proofPurpose"),
        ("proofValue", "mNotBase58", "base58btc"),
    ):
        tampered = copy.deepcopy(signed)
        tampered["proof"][field] = value
        result = verify_credential(tampered, _resolver(data, issuer_key))
        assert not result.verified
        assert words in (result.reason or "")
    assert not verify_credential({"issuer": "x"}, _resolver(data, issuer_key)).verified
