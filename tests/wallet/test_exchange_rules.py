"""The rules of a VC API exchange without processes: which presentations authenticate a
holder, and when an offer's exchange asks and takes a challenge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.issuance.domain import (
    OID4VCI,
    VC_API,
    CredentialOffer,
    ExchangeClosed,
    ProofRefused,
    derived_secret,
    secret_hash,
)
from services.issuance.exchanges import presenter_of
from shared.credentials import did_key
from shared.credentials.loader import ED25519_2020_V1, VC_V1, VC_V2
from tests.support.presentations import presentation

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
DOMAIN = "https://issuance.example.eu"
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


def offer(**changes: Any) -> CredentialOffer:
    fields: dict[str, Any] = {
        "offer_id": "offer-1",
        "credential_id": "cred-1234",
        "learner_id": "learner-1",
        "code_hash": secret_hash("code"),
        "tx_code_hash": secret_hash("tx"),
        "expires_at": NOW + timedelta(minutes=10),
        "exchange_hash": secret_hash("exchange"),
    }
    return CredentialOffer(**{**fields, **changes})


def test_one_interaction_derives_two_unrelated_secrets() -> None:
    code, exchange = derived_secret("interaction", OID4VCI), derived_secret("interaction", VC_API)
    assert code != exchange
    assert len(exchange) == 64
    assert derived_secret("another", VC_API) != exchange


def test_a_signed_authentication_names_its_holder_and_challenge() -> None:
    holder = presenter_of(presentation(KEY, "the-challenge", DOMAIN), DOMAIN)
    assert (holder.did, holder.nonce) == (did_key(KEY.public_key()), "the-challenge")


# DID authentication as DCC's Learner Credential Wallet signs it, made with its libraries
# (`infra/wallet`: @digitalcredentials/vc 10.0.2, Ed25519Signature2020 7.0.0) for a holder
# key from 32 bytes of 7, challenge "c1" and domain "http://127.0.0.1:1". The wallet adds the
# suite's context; the presentation's base context is VC 1.1 or 2.0 by library version
# (the signature is the same: both name the same terms).
LCW_HOLDER = "did:key:z6MkvDqGT54cXesYGvABpF1UapVNwjCqRcafi4Px6Thv5T3Z"
LCW_PROOF = {
    "type": "Ed25519Signature2020",
    "created": "2026-12-06T04:03:03Z",
    "verificationMethod": f"{LCW_HOLDER}#{LCW_HOLDER.removeprefix('did:key:')}",
    "proofPurpose": "authentication",
    "challenge": "c1",
    "domain": "http://127.0.0.1:1",
    "proofValue": (
        "zeesdPLGA5cisM3zkZye981vKRY1poiTasoLgGiuMg1iXRk7QNNFK2rHMmXHnw6RpnrwJGvgUyTriYpXBzVWSwgh"
    ),
}


@pytest.mark.parametrize("base", [VC_V1, VC_V2])
def test_the_learner_credential_wallets_ed25519_signature_2020_authenticates(base: str) -> None:
    signed = {
        "@context": [base, ED25519_2020_V1],
        "type": ["VerifiablePresentation"],
        "holder": LCW_HOLDER,
        "proof": LCW_PROOF,
    }
    holder = presenter_of(signed, "http://127.0.0.1:1")
    assert (holder.did, holder.nonce) == (LCW_HOLDER, "c1")
    with pytest.raises(ProofRefused, match="does not verify"):
        presenter_of({**signed, "proof": {**LCW_PROOF, "challenge": "c2"}}, "http://127.0.0.1:1")


def _tampered(field: str, value: Any) -> dict[str, Any]:
    signed = presentation(KEY, "the-challenge", DOMAIN)
    signed["proof"][field] = value
    return signed


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ({"type": ["VerifiableCredential"]}, "VerifiablePresentation"),
        ({**presentation(KEY, "c", DOMAIN), "proof": None}, "one proof"),
        (presentation(KEY, "c", DOMAIN, "assertionMethod"), "purpose"),
        (presentation(KEY, "c", "https://elsewhere.example"), "domain"),
        (_tampered("challenge", "another"), "does not verify"),
        (_tampered("cryptosuite", "ecdsa-rdfc-2019"), "eddsa-rdfc-2022"),
        (_tampered("verificationMethod", "did:web:example.org#key-1"), "did:key"),
        (_tampered("verificationMethod", "did:key:z6MkNotAKey"), "cannot be read"),
        (_tampered("proofValue", "not-multibase"), "does not verify"),
        (
            {**presentation(KEY, "c", DOMAIN), "holder": "did:key:z6MkSomeoneElse"},
            "not the key",
        ),
    ],
)
def test_presentations_that_do_not_authenticate_are_refused(given: Any, why: str) -> None:
    with pytest.raises(ProofRefused, match=why):
        presenter_of(given, DOMAIN)


def test_the_last_challenge_asked_takes_the_credential_once() -> None:
    first = offer().challenged("first", NOW)
    second = first.challenged("second", NOW)
    with pytest.raises(ProofRefused, match="challenge"):
        second.taken_through_exchange("first", NOW)
    taken = second.taken_through_exchange("second", NOW)
    assert taken.redeemed_at == taken.delivered_at == NOW
    with pytest.raises(ExchangeClosed, match="used already"):
        taken.challenged("third", NOW)


def test_an_exchange_without_a_challenge_or_past_its_time_is_refused() -> None:
    with pytest.raises(ProofRefused, match="challenge"):
        offer().taken_through_exchange("never-asked", NOW)
    late = NOW + timedelta(minutes=10)
    with pytest.raises(ExchangeClosed, match="expired"):
        offer().challenged("c", late)
    with pytest.raises(ExchangeClosed, match="used already"):
        offer(redeemed_at=NOW).exchange_open(NOW)
