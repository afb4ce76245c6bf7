"""A learner's token may carry the OpenID Connect `email` and `name` claims: the principal
holds a verified address and a usable name, and never shows either in its repr. The
development identity provider puts them in on request, and refuses what no provider would."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from pydantic import ValidationError

from shared.auth import Principal, TokenVerifier
from shared.dev_idp import AUDIENCE, JWKS_FILE, KEY_ID, TokenRequest, _private_key, issue_token
from tests.support.identities import ISSUER

EMAIL = "Ada.Lovelace@Example.org"
NAME = "Ada Lovelace"


def _verifier() -> TokenVerifier:
    return TokenVerifier(ISSUER, AUDIENCE, JWKS_FILE.as_uri())


def _token(**claims: Any) -> str:
    """A development token with exactly these extra claims (as another provider may send)."""
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": "ada", "iat": now, "exp": now + 60,
               "alliance_role": "learner", **claims}  # fmt: skip
    return jwt.encode(payload, _private_key(), algorithm="EdDSA", headers={"kid": KEY_ID})


async def test_the_dev_idp_token_carries_a_verified_e_mail_and_a_name() -> None:
    token = issue_token(ISSUER, TokenRequest(subject="ada", email=EMAIL, name=NAME))
    principal = await _verifier().verify(token)
    assert (principal.email, principal.name) == (EMAIL, NAME)
    assert principal.identity_claim("email") == EMAIL
    assert principal.identity_claim("name") == NAME
    assert EMAIL not in repr(principal)
    assert NAME not in repr(principal)
    plain = await _verifier().verify(issue_token(ISSUER, TokenRequest(subject="ada")))
    assert (plain.email, plain.name) == (None, None)
    assert plain.learner_id == principal.learner_id


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"email": EMAIL, "email_verified": True, "name": f" {NAME} "}, (EMAIL, NAME)),
        ({"email": EMAIL}, (None, None)),  # an address nobody verified counts for nothing
        ({"email": EMAIL, "email_verified": "true"}, (None, None)),
        ({"email": ["a@b"], "email_verified": True, "name": 7}, (None, None)),
        ({"name": "Ada\nLovelace"}, (None, None)),
        ({"name": "x" * 201}, (None, None)),
        ({"email": "", "email_verified": True, "name": "   "}, (None, None)),
    ],
)
async def test_only_a_verified_address_and_a_usable_name_count(
    claims: dict[str, Any], expected: tuple[str | None, str | None]
) -> None:
    principal = await _verifier().verify(_token(**claims))
    assert (principal.email, principal.name) == expected
    assert principal.learner_id is not None


def test_the_dev_idp_refuses_what_no_provider_would_issue() -> None:
    for fields in (
        {"email": "no-at-sign"},
        {"email": "a\x01b@example.org"},
        {"name": "Ada\nLovelace"},
        {"name": ""},
        {"role": "partner_staff", "partner_id": "rheinfeld", "email": EMAIL},
    ):
        with pytest.raises(ValidationError):
            TokenRequest(subject="ada", **fields)


def test_a_principal_made_in_code_shows_no_personal_data() -> None:
    principal = Principal("learner", "ada", "lrn-1", email=EMAIL, name=NAME)
    assert "email" not in repr(principal)
    assert NAME not in str(principal)
