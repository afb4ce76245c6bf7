"""DIDs for issuer keys: `did:key` (Ed25519) and `did:web` documents with Multikey methods.

A did:web document lists every key the issuer has used: after a rotation the old keys stay
in `assertionMethod` so credentials signed earlier still verify.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote, unquote

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shared.registry import RegistryError, public_key_from_multibase, public_key_multibase

# DID Core's verification relationships a proof's purpose names: an issuer's assertions, a
# holder's authentication.
ASSERTION_METHOD = "assertionMethod"
AUTHENTICATION = "authentication"

DID_V1 = "https://www.w3.org/ns/did/v1"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"


class KeyResolutionError(Exception):
    """A verification method cannot be turned into a usable public key."""


def did_key(public_key: Ed25519PublicKey) -> str:
    return "did:key:" + public_key_multibase(public_key)


def did_key_verification_method(public_key: Ed25519PublicKey) -> str:
    """`did:key:z6Mk...#z6Mk...`, the method id a did:key signer puts in its proofs."""
    multibase = public_key_multibase(public_key)
    return f"did:key:{multibase}#{multibase}"


def public_key_from_did_key(did_or_method: str) -> Ed25519PublicKey:
    """The Ed25519 key inside a did:key DID or verification method id."""
    did, _, fragment = did_or_method.partition("#")
    if not did.startswith("did:key:"):
        raise KeyResolutionError(f"{did_or_method} is not a did:key")
    multibase = did.removeprefix("did:key:")
    if fragment and fragment != multibase:
        raise KeyResolutionError(f"{did_or_method}: fragment does not name the key")
    try:
        return public_key_from_multibase(multibase)
    except (RegistryError, ValueError) as exc:
        raise KeyResolutionError(f"{did_or_method}: {exc}") from exc


def did_web(host: str, *path: str) -> str:
    """`did:web:` for a host (a port is percent-encoded) and optional path segments."""
    segments = [quote(host, safe="")] + [quote(segment, safe="") for segment in path]
    return "did:web:" + ":".join(segments)


def did_web_document_url(did: str) -> str:
    """Where a did:web document is served (`/.well-known/did.json` for a bare host)."""
    if not did.startswith("did:web:"):
        raise KeyResolutionError(f"{did} is not a did:web")
    host, *path = did.removeprefix("did:web:").split(":")
    base = "https://" + unquote(host)
    if path:
        return base + "/" + "/".join(unquote(segment) for segment in path) + "/did.json"
    return base + "/.well-known/did.json"


def verification_method_id(did: str, public_key: Ed25519PublicKey) -> str:
    """A key's method id within a DID document: the DID plus `#` and its Multikey."""
    return f"{did}#{public_key_multibase(public_key)}"


def build_did_document(did: str, keys: Sequence[Ed25519PublicKey]) -> dict[str, Any]:
    """A DID document listing `keys` (current and rotated-out) as assertion methods."""
    if not keys:
        raise ValueError("a DID document needs at least one key")
    methods = [
        {
            "id": verification_method_id(did, key),
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": public_key_multibase(key),
        }
        for key in keys
    ]
    return {
        "@context": [DID_V1, MULTIKEY_V1],
        "id": did,
        "verificationMethod": methods,
        ASSERTION_METHOD: [method["id"] for method in methods],
    }


class KeyResolver:
    """Resolves the keys of one verification relationship (assertion keys unless told):
    did:key by itself, others from known DID documents.

    Documents come from the caller (e.g. the alliance registry or a fetched did.json);
    nothing is fetched here.
    """

    def __init__(
        self, did_documents: Iterable[dict[str, Any]] = (), relation: str = ASSERTION_METHOD
    ) -> None:
        self._documents = {document["id"]: document for document in did_documents}
        self._relation = relation

    def __call__(self, method_id: str) -> Ed25519PublicKey:
        if method_id.startswith("did:key:"):
            return public_key_from_did_key(method_id)
        controller = method_id.split("#", 1)[0]
        document = self._documents.get(controller)
        if document is None:
            raise KeyResolutionError(f"no DID document known for {controller}")
        if method_id not in _references(document.get(self._relation, []), controller):
            raise KeyResolutionError(f"{method_id} is not in {controller}'s {self._relation}")
        for method in document.get("verificationMethod", []):
            if _absolute(method.get("id", ""), controller) == method_id:
                if method.get("type") != "Multikey" or method.get("controller") != controller:
                    raise KeyResolutionError(f"{method_id} is not a Multikey of {controller}")
                try:
                    return public_key_from_multibase(method["publicKeyMultibase"])
                except (RegistryError, KeyError, ValueError) as exc:
                    raise KeyResolutionError(f"{method_id}: {exc}") from exc
        raise KeyResolutionError(f"{method_id} is not listed in {controller}'s document")


def _absolute(reference: str, did: str) -> str:
    return did + reference if reference.startswith("#") else reference


def _references(entries: Iterable[Any], did: str) -> set[str]:
    # Relations may hold method ids or embedded methods; ids may be relative (`#key-1`).
    found = set()
    for entry in entries:
        reference = entry.get("id", "") if isinstance(entry, dict) else entry
        if isinstance(reference, str):
            found.add(_absolute(reference, did))
    return found
