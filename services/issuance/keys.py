"""The partners' credential-signing keys, held in custody by issuance, and their DIDs.

Each partner has its own Ed25519 keys, `<partner>-<n>.pem`; rotating means adding a file with
a higher `n`. New credentials are signed with the newest key, and the partner's DID document
keeps listing the older ones so credentials signed before the rotation still verify. The
private keys stay in this module: nothing here returns them to callers outside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from shared.credentials import (
    KeyResolver,
    build_did_document,
    did_key,
    did_key_verification_method,
    did_web,
    sign_credential,
    verification_method_id,
)

_KEY_FILE = re.compile(r"^(?P<partner>[a-z][a-z0-9-]{1,31})-(?P<n>[0-9]+)\.pem$")


class UnknownPartnerKey(Exception):
    """Issuance holds no credential-signing key for this partner."""


@dataclass(frozen=True)
class _PartnerKeys:
    did_web: str
    keys: tuple[Ed25519PrivateKey, ...]  # newest first


class CredentialKeys:
    def __init__(
        self,
        keys: dict[str, list[tuple[int, Ed25519PrivateKey]]],
        public_base_url: str,
        did_method: Literal["web", "key"] = "web",
    ) -> None:
        host = urlsplit(public_base_url).netloc
        self._did_method = did_method
        self._partners = {
            partner: _PartnerKeys(
                did_web(host, "partners", partner),
                tuple(key for _, key in sorted(numbered, key=lambda item: -item[0])),
            )
            for partner, numbered in keys.items()
            if numbered
        }

    @classmethod
    def load(
        cls, folder: Path, public_base_url: str, did_method: Literal["web", "key"] = "web"
    ) -> CredentialKeys:
        found: dict[str, list[tuple[int, Ed25519PrivateKey]]] = {}
        for path in sorted(folder.glob("*.pem")) if folder.is_dir() else []:
            match = _KEY_FILE.match(path.name)
            if match is None:
                continue
            key = load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ValueError(f"{path.name} does not hold an Ed25519 key")
            found.setdefault(match["partner"], []).append((int(match["n"]), key))
        return cls(found, public_base_url, did_method)

    @property
    def partners(self) -> tuple[str, ...]:
        return tuple(sorted(self._partners))

    def _entry(self, partner_id: str) -> _PartnerKeys:
        entry = self._partners.get(partner_id)
        if entry is None:
            raise UnknownPartnerKey(f"no credential-signing key for partner {partner_id!r}")
        return entry

    def did(self, partner_id: str) -> str:
        """The DID the partner issues under now."""
        entry = self._entry(partner_id)
        if self._did_method == "key":
            return did_key(entry.keys[0].public_key())
        return entry.did_web

    def dids(self, partner_id: str) -> tuple[str, ...]:
        """Every DID the partner has issued under: its did:web and each key's did:key."""
        entry = self._entry(partner_id)
        return (entry.did_web, *(did_key(key.public_key()) for key in entry.keys))

    def did_document(self, partner_id: str) -> dict[str, Any]:
        """The partner's did:web document: every key it has used, the newest first."""
        entry = self._entry(partner_id)
        return build_did_document(entry.did_web, self._public_keys(entry))

    def trusted_issuers(self) -> dict[str, str]:
        """DID -> partner, for every DID an alliance partner issues under."""
        return {did: partner for partner in self._partners for did in self.dids(partner)}

    def resolver(self) -> KeyResolver:
        """Resolves alliance did:web methods from the local documents (no network) and any
        did:key by itself."""
        return KeyResolver(self.did_document(partner) for partner in self._partners)

    def verification_method(self, partner_id: str) -> str:
        """The method new proofs of the partner name: its newest key."""
        entry = self._entry(partner_id)
        key = entry.keys[0].public_key()
        if self._did_method == "key":
            return did_key_verification_method(key)
        return verification_method_id(entry.did_web, key)

    def sign(self, partner_id: str, document: dict[str, Any], created: str) -> dict[str, Any]:
        """`document` secured with the partner's newest key, under its current DID."""
        key = self._entry(partner_id).keys[0]
        return sign_credential(document, key, self.verification_method(partner_id), created)

    @staticmethod
    def _public_keys(entry: _PartnerKeys) -> list[Ed25519PublicKey]:
        return [key.public_key() for key in entry.keys]
