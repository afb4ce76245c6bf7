"""A holder's verifiable presentation, signed as a wallet signs it (eddsa-rdfc-2022, the
`authentication` purpose, for a verifier's challenge and domain)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.credentials import did_key, did_key_verification_method
from shared.credentials.loader import VC_V2
from shared.credentials.proof import CRYPTOSUITE, PROOF_TYPE, hash_data
from shared.registry import b58encode


def presentation(
    key: Ed25519PrivateKey,
    challenge: str,
    domain: str,
    purpose: str = "authentication",
    credentials: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The holder's presentation of `credentials` (none: DID authentication)."""
    unsecured: dict[str, Any] = {
        "@context": [VC_V2],
        "type": ["VerifiablePresentation"],
        "holder": did_key(key.public_key()),
    }
    if credentials:
        unsecured["verifiableCredential"] = list(credentials)
    options = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "verificationMethod": did_key_verification_method(key.public_key()),
        "proofPurpose": purpose,
        "challenge": challenge,
        "domain": domain,
    }
    signature = key.sign(hash_data({**options, "@context": unsecured["@context"]}, unsecured))
    return {**unsecured, "proof": {**options, "proofValue": "z" + b58encode(signature)}}
