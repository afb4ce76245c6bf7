"""Verifiable-credential core: OB 3.0 micro-credentials, eddsa-rdfc-2022 proofs, DIDs and
Bitstring Status Lists. Pure library: no web or messaging code."""

from shared.credentials.canon import (
    FastPathUnsupported,
    canonicalize,
    canonicalize_fast,
)
from shared.credentials.did import (
    KeyResolutionError,
    KeyResolver,
    build_did_document,
    did_key,
    did_key_verification_method,
    did_web,
    did_web_document_url,
    public_key_from_did_key,
    verification_method_id,
)
from shared.credentials.microcredential import (
    Concept,
    LearningOutcome,
    MicroCredentialData,
    Organisation,
    Translation,
    build_microcredential,
    identity_hash,
)
from shared.credentials.proof import (
    ProofError,
    VerificationResult,
    sign_credential,
    verify_credential,
)
from shared.credentials.reference import (
    CanonicalizationError,
    UndefinedTermError,
    canonicalize_reference,
)
from shared.credentials.status_list import (
    StatusListError,
    build_status_list_credential,
    decode_status_list,
    encode_status_list,
    get_status,
    new_status_list,
    random_status_index,
    set_status,
    status_list_entry,
)

__all__ = [
    "CanonicalizationError",
    "Concept",
    "FastPathUnsupported",
    "KeyResolutionError",
    "KeyResolver",
    "LearningOutcome",
    "MicroCredentialData",
    "Organisation",
    "ProofError",
    "StatusListError",
    "Translation",
    "UndefinedTermError",
    "VerificationResult",
    "build_did_document",
    "build_microcredential",
    "build_status_list_credential",
    "canonicalize",
    "canonicalize_fast",
    "canonicalize_reference",
    "decode_status_list",
    "did_key",
    "did_key_verification_method",
    "did_web",
    "did_web_document_url",
    "encode_status_list",
    "get_status",
    "identity_hash",
    "new_status_list",
    "public_key_from_did_key",
    "random_status_index",
    "set_status",
    "sign_credential",
    "status_list_entry",
    "verification_method_id",
    "verify_credential",
]
