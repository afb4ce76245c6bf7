"""The rules of an offer and of a wallet's proof of possession, without processes: when an
offer may be traded, how wrong transaction codes spend it, and which proofs are refused."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jwt
from joserfc.jwk import OKPKey

from services.issuance.clients import OAuthError
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
from services.issuance.oid4vci import (
    CONFIGURATIONS,
    CREDENTIAL_DETAILS,
    PROOF_TYPE,
    authorization_details,
    credential_request,
    holder_of,
    offer_link,
)
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


def test_a_proof_without_a_nonce_is_an_invalid_proof_not_an_invalid_nonce() -> None:
    # OpenID4VCI 1.0 §8.3.1.2: a missing c_nonce is invalid_proof; invalid_nonce tells the
    # wallet that the nonce it sent is stale.
    with pytest.raises(ProofRefused, match="no nonce") as refused:
        holder_of(proof(nonce=None), ISSUER)
    assert not isinstance(refused.value, NonceRefused)


CONFIGURATION = next(iter(CONFIGURATIONS))


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ([], "invalid_credential_request"),
        ({"proofs": {"jwt": ["a.b.c"]}}, "invalid_credential_request"),
        (
            {
                "credential_configuration_id": CONFIGURATION,
                "credential_identifier": CONFIGURATION,
                "proofs": {"jwt": ["a.b.c"]},
            },
            "invalid_credential_request",
        ),
        (
            {"credential_configuration_id": 7, "proofs": {"jwt": ["a.b.c"]}},
            "invalid_credential_request",
        ),
        (
            {"credential_configuration_id": "UniversityDegree", "proofs": {"jwt": ["a.b.c"]}},
            "unknown_credential_configuration",
        ),
        (
            {
                "format": "jwt_vc_json",
                "credential_definition": {"type": ["VerifiableCredential"]},
                "proofs": {"jwt": ["a.b.c"]},
            },
            "unknown_credential_configuration",
        ),
        (
            {
                "format": "ldp_vc",
                "credential_definition": {"type": ["VerifiableCredential", "Degree"]},
                "proofs": {"jwt": ["a.b.c"]},
            },
            "unknown_credential_configuration",
        ),
        ({"credential_configuration_id": CONFIGURATION}, "invalid_proof"),
        (
            {"credential_configuration_id": CONFIGURATION, "proofs": {"di_vp": [{}]}},
            "invalid_proof",
        ),
        (
            {"credential_configuration_id": CONFIGURATION, "proofs": {"jwt": []}},
            "invalid_proof",
        ),
        (
            {"credential_configuration_id": CONFIGURATION, "proofs": {"jwt": [7]}},
            "invalid_proof",
        ),
        (
            {"credential_configuration_id": CONFIGURATION, "proofs": {"jwt": ["a", "b"]}},
            "invalid_credential_request",
        ),
        (
            {
                "credential_configuration_id": CONFIGURATION,
                "proofs": {"jwt": ["a.b.c"], "attestation": ["d.e.f"]},
            },
            "invalid_credential_request",
        ),
        (
            {
                "credential_configuration_id": CONFIGURATION,
                "proofs": {"jwt": ["a.b.c"]},
                "proof": {"proof_type": "jwt", "jwt": "a.b.c"},
            },
            "invalid_credential_request",
        ),
        (
            {
                "credential_configuration_id": CONFIGURATION,
                "proofs": {"jwt": ["a.b.c"]},
                "credential_response_encryption": {"jwk": {}, "enc": "A256GCM"},
            },
            "invalid_encryption_parameters",
        ),
    ],
)
def test_credential_requests_that_do_not_read_as_1_0_are_refused(body: Any, error: str) -> None:
    with pytest.raises(OAuthError) as refused:
        credential_request(body)
    assert (refused.value.status, refused.value.error) == (400, error)


def test_a_request_names_its_credential_one_way_and_gives_one_jwt_proof() -> None:
    by_configuration = credential_request(
        {"credential_configuration_id": CONFIGURATION, "proofs": {"jwt": ["a.b.c"]}}
    )
    assert (by_configuration.configuration_id, by_configuration.identifier) == (CONFIGURATION, None)
    assert by_configuration.proof_jwt == "a.b.c"
    by_identifier = credential_request(
        {"credential_identifier": "anything", "proofs": {"jwt": ["a.b.c"]}}
    )
    assert (by_identifier.configuration_id, by_identifier.identifier) == (None, "anything")
    # The singular proof of drafts 13 to 15, as Sphereon's client still sends it.
    draft = credential_request(
        {
            "credential_configuration_id": CONFIGURATION,
            "proof": {"proof_type": "jwt", "jwt": "d.e.f"},
        }
    )
    assert draft.proof_jwt == "d.e.f"
    # Draft 13 describes the credential by format and types (walt.id's wallet).
    _, types, _ = CONFIGURATIONS[CONFIGURATION]
    described = credential_request(
        {
            "format": "ldp_vc",
            "credential_definition": {"type": list(reversed(types))},
            "proof": {"proof_type": "jwt", "jwt": "d.e.f"},
        }
    )
    assert described.configuration_id == CONFIGURATION


def test_authorization_details_name_one_offered_configuration_and_get_its_identifier() -> None:
    assert authorization_details({}, ISSUER) is None
    detail = {"type": CREDENTIAL_DETAILS, "credential_configuration_id": CONFIGURATION}
    granted = authorization_details({"authorization_details": json.dumps([detail])}, ISSUER)
    assert granted == [{**detail, "credential_identifiers": [CONFIGURATION]}]
    located = {**detail, "locations": [ISSUER]}
    assert authorization_details({"authorization_details": json.dumps([located])}, ISSUER)


@pytest.mark.parametrize(
    "details",
    [
        "not json",
        "[]",
        json.dumps({"type": CREDENTIAL_DETAILS, "credential_configuration_id": CONFIGURATION}),
        json.dumps([{"type": "payment_initiation"}]),
        json.dumps([{"type": CREDENTIAL_DETAILS, "credential_configuration_id": "Unknown"}]),
        json.dumps(
            [
                {
                    "type": CREDENTIAL_DETAILS,
                    "credential_configuration_id": CONFIGURATION,
                    "locations": ["https://another-issuer.example"],
                }
            ]
        ),
        json.dumps(
            [{"type": CREDENTIAL_DETAILS, "credential_configuration_id": CONFIGURATION}] * 2
        ),
    ],
)
def test_authorization_details_that_cannot_be_granted_are_refused(details: str) -> None:
    with pytest.raises(OAuthError) as refused:
        authorization_details({"authorization_details": details}, ISSUER)
    assert (refused.value.status, refused.value.error) == (400, "invalid_authorization_details")
