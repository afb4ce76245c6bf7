"""Data Integrity proofs with the `eddsa-rdfc-2022` cryptosuite (W3C VC-DI-EdDSA v1.0).

hashData = SHA-256(canonical proof configuration) || SHA-256(canonical document), signed
with Ed25519; `proofValue` is the signature in multibase base58btc (`z...`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from shared.credentials.canon import canonicalize
from shared.credentials.did import ASSERTION_METHOD, AUTHENTICATION
from shared.credentials.reference import CanonicalizationError
from shared.registry import b58decode, b58encode

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"
# A holder may also authenticate with the older Ed25519Signature2020 (DCC's Learner
# Credential Wallet signs with it): the same hashData, the proof options carrying the
# document's @context, the signature in base58btc.
ED25519_SIGNATURE_2020 = "Ed25519Signature2020"
# The (type, cryptosuite) pairs each proof purpose is verified for.
SUITES = {
    ASSERTION_METHOD: frozenset({(PROOF_TYPE, CRYPTOSUITE)}),
    AUTHENTICATION: frozenset({(PROOF_TYPE, CRYPTOSUITE), (ED25519_SIGNATURE_2020, None)}),
}

# XML Schema dateTime as Data Integrity requires for `created`.
_DATETIME = re.compile(r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


class ProofError(Exception):
    """A proof cannot be created from the given inputs."""


@dataclass(frozen=True)
class VerificationResult:
    verified: bool
    reason: str | None = None
    verification_method: str | None = None

    def __bool__(self) -> bool:
        return self.verified


def proof_configuration(
    document: dict[str, Any], verification_method: str, created: str
) -> dict[str, Any]:
    """The proof options that are signed alongside the document (carrying its @context)."""
    if not _DATETIME.match(created):
        raise ProofError(f"created {created!r} is not an XML Schema dateTime")
    return {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": ASSERTION_METHOD,
        "@context": document["@context"],
    }


def hash_data(proof_config: dict[str, Any], document: dict[str, Any]) -> bytes:
    """SHA-256 of the canonical proof configuration followed by that of the document."""
    return sha256_pair(canonicalize(proof_config), canonicalize(document))


def sha256_pair(canonical_proof_config: str, canonical_document: str) -> bytes:
    """hashData of eddsa-rdfc-2022 from the two canonical N-Quads strings."""
    return (
        hashlib.sha256(canonical_proof_config.encode()).digest()
        + hashlib.sha256(canonical_document.encode()).digest()
    )


def sign_credential(
    document: dict[str, Any],
    signer: Ed25519PrivateKey,
    verification_method: str,
    created: str,
) -> dict[str, Any]:
    """`document` with an embedded eddsa-rdfc-2022 `DataIntegrityProof`."""
    if "proof" in document:
        raise ProofError("document already carries a proof")
    if "@context" not in document:
        raise ProofError("document has no @context")
    config = proof_configuration(document, verification_method, created)
    signature = signer.sign(hash_data(config, document))
    proof = {key: value for key, value in config.items() if key != "@context"}
    proof["proofValue"] = "z" + b58encode(signature)
    return {**document, "proof": proof}


def verify_credential(
    document: dict[str, Any],
    resolve_key: Callable[[str], Ed25519PublicKey],
    *,
    check_issuer: bool = True,
) -> VerificationResult:
    """Check every embedded proof; never raises for a bad credential, says why instead.

    Several proofs are a proof set (each signs the document alone) or a chain (a proof
    naming others in `previousProof` signs the document carrying them, VC Data Integrity
    4.5); all must hold. With `check_issuer`, one of them must be by the credential's
    issuer (its verification method's id, before `#`, is the issuer's id), so a valid key
    of someone else does not pass; `verification_method` is then that proof's.
    """
    proofs = _as_list(document.get("proof"))
    if not proofs or not all(isinstance(proof, dict) for proof in proofs):
        return VerificationResult(False, "no embedded proof")
    unsecured = {key: value for key, value in document.items() if key != "proof"}
    by_id = {proof["id"]: proof for proof in proofs if isinstance(proof.get("id"), str)}
    issuer = document.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    methods = [proof.get("verificationMethod") for proof in proofs]
    issuers = [m for m in methods if isinstance(m, str) and m.split("#", 1)[0] == issuer_id]
    if check_issuer and not issuers:
        named = ", ".join(str(method) for method in methods)
        return VerificationResult(
            False, f"verification method {named} is not the issuer's ({issuer_id})", named
        )
    for number, proof in enumerate(proofs, 1):
        label = f"proof {number} of {len(proofs)}: " if len(proofs) > 1 else ""
        previous = _as_list(proof.get("previousProof"))
        missing = [ref for ref in previous if ref not in by_id]
        if missing:
            return VerificationResult(False, f"{label}previousProof {missing} is not in the set")
        chained = {**unsecured, "proof": [by_id[ref] for ref in previous]}
        result = _verify_proof(chained if previous else unsecured, proof, resolve_key)
        if not result.verified:
            return VerificationResult(False, f"{label}{result.reason}", result.verification_method)
    return VerificationResult(True, None, (issuers or methods)[0])


def verify_presentation_proof(
    presentation: dict[str, Any],
    resolve_key: Callable[[str], Ed25519PublicKey],
    *,
    challenge: str | None,
    domain: str | None,
) -> VerificationResult:
    """The presentation's `authentication` proof, by its holder when it names one, for the
    verifier's `challenge` and `domain` when it gave them (VC Data Integrity 4.2, 4.3: a
    proof made for another verifier or another request is refused, so a presentation cannot
    be replayed); never raises for a bad presentation, says why instead."""
    proofs = _as_list(presentation.get("proof"))
    if len(proofs) != 1 or not isinstance(proofs[0], dict):
        return VerificationResult(False, "a presentation carries one embedded proof")
    proof = proofs[0]
    holder = presentation.get("holder")
    holder_id = holder.get("id") if isinstance(holder, dict) else holder
    method = proof.get("verificationMethod")
    if holder_id is not None and not (
        isinstance(method, str) and method.split("#", 1)[0] == holder_id
    ):
        return VerificationResult(False, f"proof by {method}, not by the holder {holder_id}")
    for name, expected in (("challenge", challenge), ("domain", domain)):
        if expected is not None and proof.get(name) != expected:
            return VerificationResult(False, f"the proof's {name} is not the one asked for")
    unsecured = {key: value for key, value in presentation.items() if key != "proof"}
    return _verify_proof(unsecured, proof, resolve_key, AUTHENTICATION)


def _verify_proof(
    unsecured: dict[str, Any],
    proof: dict[str, Any],
    resolve_key: Callable[[str], Ed25519PublicKey],
    purpose: str = ASSERTION_METHOD,
) -> VerificationResult:
    """One eddsa-rdfc-2022 proof over `unsecured` (which carries any previous proofs)."""
    method = proof.get("verificationMethod")
    if not isinstance(method, str):
        return VerificationResult(False, "proof has no verificationMethod")
    problem = _check_proof_fields(proof, purpose)
    if problem:
        return VerificationResult(False, problem, method)
    try:
        signature = b58decode(proof["proofValue"][1:])
    except ValueError:
        return VerificationResult(False, "proofValue is not base58btc", method)
    if len(signature) != 64:
        return VerificationResult(False, "proofValue is not a 64-byte Ed25519 signature", method)
    options = {key: value for key, value in proof.items() if key != "proofValue"}
    if "@context" in options:
        # The proof's own @context must be a prefix of the document's (VC-DI-EdDSA 3.3.2).
        contexts = _as_list(options.pop("@context"))
        if _as_list(unsecured.get("@context"))[: len(contexts)] != contexts:
            return VerificationResult(False, "proof @context does not match document", method)
        unsecured = {**unsecured, "@context": contexts}
    options["@context"] = unsecured.get("@context")
    try:
        public_key = resolve_key(method)
    except Exception as exc:  # resolvers raise their own error types
        return VerificationResult(False, f"cannot resolve {method}: {exc}", method)
    try:
        data = hash_data(options, unsecured)
    except CanonicalizationError as exc:
        return VerificationResult(False, f"cannot canonicalize: {exc}", method)
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return VerificationResult(False, "signature does not match the document", method)
    return VerificationResult(True, None, method)


def _check_proof_fields(proof: dict[str, Any], purpose: str) -> str | None:
    if (proof.get("type"), proof.get("cryptosuite")) not in SUITES[purpose]:
        if proof.get("type") != PROOF_TYPE:
            return f"proof type is {proof.get('type')!r}, not {PROOF_TYPE}"
        return f"cryptosuite is {proof.get('cryptosuite')!r}, not {CRYPTOSUITE}"
    if proof.get("proofPurpose") != purpose:
        return f"proofPurpose is {proof.get('proofPurpose')!r}, not {purpose}"
    created = proof.get("created")
    if created is not None and not (isinstance(created, str) and _DATETIME.match(created)):
        return "proof created is not an XML Schema dateTime"
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value.startswith("z"):
        return "proofValue is not multibase base58btc"
    return None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]
