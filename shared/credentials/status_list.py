"""W3C Bitstring Status List v1.0: the revocation and suspension bitstrings and their
credentials.

Index 0 is the left-most (most significant) bit of the first byte. The list is GZIP-ed and
written as multibase base64url without padding (`u...`); at least 131,072 entries, so a
single revocation does not single out a holder (herd privacy).
"""

from __future__ import annotations

import base64
import gzip
import secrets
from collections.abc import Container
from typing import Any

from shared.credentials.loader import VC_V2

MIN_LENGTH = 131_072
REVOCATION = "revocation"
# Reversible: a suspension bit is cleared again when the credential is reinstated.
SUSPENSION = "suspension"
PURPOSES = (REVOCATION, SUSPENSION)


class StatusListError(Exception):
    """A status list or index is malformed."""


def new_status_list(length: int = MIN_LENGTH) -> bytearray:
    """An all-clear list of `length` entries (a multiple of 8, at least 131,072)."""
    if length < MIN_LENGTH or length % 8:
        raise StatusListError(f"length must be a multiple of 8 and >= {MIN_LENGTH}")
    return bytearray(length // 8)


def encode_status_list(bits: bytes | bytearray) -> str:
    """GZIP then multibase base64url (`u...`), as `encodedList` carries it."""
    if len(bits) * 8 < MIN_LENGTH:
        raise StatusListError(f"a status list holds at least {MIN_LENGTH} entries")
    # mtime=0 keeps the encoding a pure function of the bits.
    compressed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")


def decode_status_list(encoded: str) -> bytearray:
    if not encoded.startswith("u"):
        raise StatusListError("encodedList is not multibase base64url")
    body = encoded[1:]
    try:
        compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        bits = bytearray(gzip.decompress(compressed))
    except (ValueError, OSError, EOFError) as exc:
        raise StatusListError(f"encodedList does not decode: {exc}") from exc
    if len(bits) * 8 < MIN_LENGTH:
        raise StatusListError(f"status list shorter than {MIN_LENGTH} entries")
    return bits


def _position(bits: bytes | bytearray, index: int) -> tuple[int, int]:
    if not 0 <= index < len(bits) * 8:
        raise StatusListError(f"index {index} outside a list of {len(bits) * 8}")
    return index // 8, 0x80 >> (index % 8)


def get_status(bits: bytes | bytearray, index: int) -> bool:
    byte, mask = _position(bits, index)
    return bool(bits[byte] & mask)


def set_status(bits: bytearray, index: int, value: bool = True) -> None:
    """Set (revoke, suspend) or clear (reinstate, on a suspension list) the entry at `index`."""
    byte, mask = _position(bits, index)
    if value:
        bits[byte] |= mask
    else:
        bits[byte] &= ~mask & 0xFF


def random_status_index(used: Container[int], length: int = MIN_LENGTH) -> int:
    """A random free index: sequential ones would leak issuance order and volume."""
    for _ in range(1000):
        index = secrets.randbelow(length)
        if index not in used:
            return index
    raise StatusListError("status list is (nearly) full")


def status_list_entry(
    status_list_credential: str, index: int, purpose: str = REVOCATION
) -> dict[str, Any]:
    """The `credentialStatus` of a credential whose status lives at `index`."""
    return {
        "id": f"{status_list_credential}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": status_list_credential,
    }


def build_status_list_credential(
    credential_id: str,
    issuer: str,
    valid_from: str,
    bits: bytes | bytearray,
    purpose: str = REVOCATION,
) -> dict[str, Any]:
    """The unsigned `BitstringStatusListCredential` publishing `bits`."""
    return {
        "@context": [VC_V2],
        "id": credential_id,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": valid_from,
        "credentialSubject": {
            "id": f"{credential_id}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encode_status_list(bits),
        },
    }
