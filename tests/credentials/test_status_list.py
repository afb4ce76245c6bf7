"""Bitstring Status List encoding, bit order and the list credential."""

from __future__ import annotations

import base64
import gzip

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.credentials import (
    StatusListError,
    build_status_list_credential,
    canonicalize_fast,
    canonicalize_reference,
    decode_status_list,
    did_key,
    did_key_verification_method,
    encode_status_list,
    get_status,
    new_status_list,
    random_status_index,
    set_status,
    sign_credential,
    status_list_entry,
    verify_credential,
)
from shared.credentials.did import KeyResolver


def test_encode_decode_with_a_revoked_index() -> None:
    bits = new_status_list()
    assert len(bits) * 8 == 131072
    set_status(bits, 94567)
    encoded = encode_status_list(bits)
    assert encoded.startswith("u")
    assert "=" not in encoded
    decoded = decode_status_list(encoded)
    assert get_status(decoded, 94567)
    assert not get_status(decoded, 94566)
    assert not get_status(decoded, 94568)
    set_status(decoded, 94567, False)
    assert not any(decoded)


def test_index_zero_is_the_leftmost_bit() -> None:
    bits = new_status_list()
    set_status(bits, 0)
    set_status(bits, 9)
    assert bits[:2] == b"\x80\x40"
    raw = gzip.decompress(base64.urlsafe_b64decode(encode_status_list(bits)[1:] + "=="))
    assert raw[:2] == b"\x80\x40"


def test_short_or_malformed_lists_are_refused() -> None:
    with pytest.raises(StatusListError):
        new_status_list(1024)
    with pytest.raises(StatusListError):
        encode_status_list(bytes(100))
    with pytest.raises(StatusListError):
        decode_status_list("zNotBase64url")
    with pytest.raises(StatusListError):
        get_status(new_status_list(), 131072)


def test_random_index_avoids_used_ones() -> None:
    used = set(range(0, 131072, 2))
    for _ in range(50):
        index = random_status_index(used)
        assert index % 2 == 1
        used.add(index)


def test_status_list_credential_signs_and_verifies() -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes(32))
    issuer = did_key(key.public_key())
    bits = new_status_list()
    set_status(bits, 42)
    credential = build_status_list_credential(
        "https://issuer.example/status/1", issuer, "2025-01-01T00:00:00Z", bits
    )
    assert credential["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert credential["credentialSubject"]["type"] == "BitstringStatusList"
    assert canonicalize_fast(credential) == canonicalize_reference(credential)
    signed = sign_credential(
        credential, key, did_key_verification_method(key.public_key()), "2025-01-01T00:00:00Z"
    )
    assert verify_credential(signed, KeyResolver()).verified
    assert get_status(decode_status_list(signed["credentialSubject"]["encodedList"]), 42)


def test_status_entry_shape() -> None:
    entry = status_list_entry("https://issuer.example/status/1", 7)
    assert entry == {
        "id": "https://issuer.example/status/1#7",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "7",
        "statusListCredential": "https://issuer.example/status/1",
    }
