"""The rules of an offer and of a wallet's proof of possession, without processes: when an
offer may be traded, how wrong transaction codes spend it, and which proofs are refused."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jwt
from joserfc.jwk import OKPKey

from services.issuance.domain import (
    TX_CODE_ATTEMPTS,
    AccessTokenRefused,
    CredentialOffer,
    NonceRefused,
    OfferNotRedeemable,
    ProofRefused,
    bound_to_holder,
    secret_hash,
    tx_code_hash,
)
from services.issuance.oid4vci import PROOF_TYPE, holder_of, offer_link
from shared.credentials import did_key, did_key_verification_method

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
CODE, TX_CODE = "pre-authorized-code", "123456"
ISSUER = "https://issuance.example.eu"
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


def offer(**changes: Any) -> CredentialOffer:
    fields: dict[str, Any] = {
        "offer_id": "offer-1",
        "credential_id": "cred-1234",
        "learner_id": "learner-1",
        "code_hash": secret_hash(CODE),
        "tx_code_hash": tx_code_hash(CODE, TX_CODE),
        "expires_at": NOW + timedelta(minutes=10),
        **changes,
    }
    return CredentialOffer(**fields)


def test_the_right_transaction_code_trades_the_offer_once() -> None:
    redeemed = offer().redeem(CODE, TX_CODE, "token", NOW)
    assert redeemed.redeemed_at == NOW
    assert redeemed.token_hash == secret_hash("token")
    redeemed.deliverable(NOW)
    with pytest.raises(OfferNotRedeemable, match="used already"):
        redeemed.redeem(CODE, TX_CODE, "another token", NOW)


def test_an_expired_offer_is_refused() -> None:
    with pytest.raises(OfferNotRedeemable, match="expired"):
        offer().redeem(CODE, TX_CODE, "token", NOW + timedelta(minutes=10))


def test_wrong_transaction_codes_are_counted_until_the_offer_is_spent() -> None:
    current = offer()
    for attempt in range(1, TX_CODE_ATTEMPTS + 1):
        current = current.redeem(CODE, "000000", "token", NOW)
        assert (current.failed_attempts, current.redeemed_at) == (attempt, None)
    with pytest.raises(OfferNotRedeemable, match="Too many"):
        current.redeem(CODE, TX_CODE, "token", NOW)


def test_a_token_takes_one_credential_while_it_lasts() -> None:
    redeemed = offer().redeem(CODE, TX_CODE, "token", NOW)
    with pytest.raises(AccessTokenRefused, match="expired"):
        redeemed.deliverable(NOW + timedelta(minutes=5))
    with pytest.raises(AccessTokenRefused, match="issued already"):
        offer(**{**redeemed.__dict__, "delivered_at": NOW}).deliverable(NOW)


def test_the_holder_becomes_the_subject_and_the_rest_stays() -> None:
    document = {"id": "urn:x", "credentialSubject": {"type": ["AchievementSubject"]}, "proof": {}}
    bound = bound_to_holder(document, "did:key:z6Mk")
    subject = {"type": ["AchievementSubject"], "id": "did:key:z6Mk"}
    assert bound == {"id": "urn:x", "credentialSubject": subject}


def test_the_offer_link_carries_the_offer_by_value() -> None:
    link = offer_link({"credential_issuer": ISSUER})
    encoded = "%7B%22credential_issuer%22%3A%22https%3A%2F%2Fissuance.example.eu%22%7D"
    assert link == f"openid-credential-offer://?credential_offer={encoded}"


def proof(header: dict[str, Any] | None = None, **claims: Any) -> str:
    kid = did_key_verification_method(KEY.public_key())
    headers = {"alg": "Ed25519", "typ": PROOF_TYPE, "kid": kid}
    headers.update(header or {})
    headers = {name: value for name, value in headers.items() if value is not None}
    payload = {"aud": ISSUER, "nonce": "n-1", "iat": int(time.time()), **claims}
    payload = {name: value for name, value in payload.items() if value is not None}
    return jwt.encode(headers, payload, OKPKey.import_key(KEY), algorithms=[headers["alg"]])


def test_a_proof_names_its_key_as_did_key_or_jwk() -> None:
    holder = holder_of(proof(), ISSUER)
    assert (holder.did, holder.nonce) == (did_key(KEY.public_key()), "n-1")
    jwk = OKPKey.import_key(KEY.public_key()).as_dict()
    assert holder_of(proof({"kid": None, "jwk": jwk}), ISSUER).did == holder.did


@pytest.mark.parametrize(
    ("header", "claims", "refusal"),
    [
        ({"typ": "JWT"}, {}, "typ"),
        ({}, {"aud": "https://elsewhere.example"}, "aud"),
        ({}, {"iat": int(time.time()) - 3600}, "iat"),
        (
            {"kid": did_key_verification_method(Ed25519PrivateKey.generate().public_key())},
            {},
            "signature",
        ),
        ({"kid": None}, {}, "kid"),
        ({"kid": "did:key:z6MkNotAKey"}, {}, "cannot be read"),
        ({"kid": None, "jwk": OKPKey.import_key(KEY).as_dict(private=True)}, {}, "public"),
        ({"jwk": OKPKey.import_key(KEY.public_key()).as_dict()}, {}, "not both"),
    ],
)
def test_proofs_that_do_not_hold_are_refused(
    header: dict[str, Any], claims: dict[str, Any], refusal: str
) -> None:
    with pytest.raises(ProofRefused, match=refusal):
        holder_of(proof(header, **claims), ISSUER)


def test_a_proof_without_a_nonce_is_refused_for_its_nonce() -> None:
    with pytest.raises(NonceRefused):
        holder_of(proof(nonce=None), ISSUER)
