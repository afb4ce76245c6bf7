"""Every way a bearer token can be wrong is refused with 401, and the right one is accepted.

The verifier runs against an identity provider of the test's own (a fresh Ed25519 key in a
JWKS file), as a deployment's would be configured with `OIDC_ISSUER` and `OIDC_JWKS_URL`.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from shared.auth import TokenVerifier
from shared.problems import Problem

ISSUER = "https://idp.alliance.example"
AUDIENCE = "alliance"
KEY_ID = "idp-2026-1"


def _jwks_of(path: Path, *keys: tuple[str, Ed25519PrivateKey]) -> Path:
    """The provider's JWKS at `path`, listing each (key id, key)."""
    listed = [
        {**json.loads(OKPAlgorithm.to_jwk(key.public_key())), "kid": kid, "alg": "EdDSA"}
        for kid, key in keys
    ]
    path.write_text(json.dumps({"keys": listed}))
    return path


@pytest.fixture
def provider(tmp_path: Path) -> tuple[Ed25519PrivateKey, TokenVerifier]:
    key = Ed25519PrivateKey.generate()
    jwks = _jwks_of(tmp_path / "jwks.json", (KEY_ID, key))
    return key, TokenVerifier(ISSUER, AUDIENCE, jwks.as_uri())


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "ada",
        "iat": now,
        "exp": now + 300,
        "alliance_role": "learner",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _signed(key: Ed25519PrivateKey, kid: str = KEY_ID, **changes: Any) -> str:
    return jwt.encode(_claims(**changes), key, algorithm="EdDSA", headers={"kid": kid})


def _unsigned(**changes: Any) -> str:
    """`alg: none`: a token anyone can write."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT', 'kid': KEY_ID})}.{part(_claims(**changes))}."


async def test_a_valid_token_names_its_principal(
    provider: tuple[Ed25519PrivateKey, TokenVerifier],
) -> None:
    key, verifier = provider
    learner = await verifier.verify(_signed(key))
    assert (learner.role, learner.learner_id is not None) == ("learner", True)
    staff = await verifier.verify(
        _signed(key, alliance_role="partner_staff", partner_id="rheinfeld")
    )
    assert staff.acts_for("rheinfeld")
    assert not staff.acts_for("nordhavn")


@pytest.mark.parametrize(
    ("case", "make"),
    [
        ("expired", lambda key: _signed(key, exp=int(time.time()) - 60)),
        ("not yet valid", lambda key: _signed(key, nbf=int(time.time()) + 600)),
        ("wrong issuer", lambda key: _signed(key, iss="https://evil.example")),
        ("wrong audience", lambda key: _signed(key, aud="another-alliance")),
        ("no expiry", lambda key: _signed(key, exp=None)),
        ("unknown key", lambda key: _signed(Ed25519PrivateKey.generate(), kid="other")),
        ("known kid, other key", lambda key: _signed(Ed25519PrivateKey.generate())),
        ("alg none", lambda key: _unsigned()),
        ("no role", lambda key: _signed(key, alliance_role=None)),
        ("unknown role", lambda key: _signed(key, alliance_role="admin")),
        ("partner staff without partner", lambda key: _signed(key, alliance_role="partner_staff")),
        (
            "partner system without partner",
            lambda key: _signed(key, alliance_role="partner_system", partner_id=""),
        ),
        ("not a JWT", lambda key: "not-a-token"),
    ],
)
async def test_a_wrong_token_is_refused(
    provider: tuple[Ed25519PrivateKey, TokenVerifier], case: str, make: Any
) -> None:
    key, verifier = provider
    with pytest.raises(Problem) as refused:
        await verifier.verify(make(key))
    assert refused.value.status == 401, case


class _Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def _verifier_on(jwks: Path, clock: _Clock) -> TokenVerifier:
    return TokenVerifier(ISSUER, AUDIENCE, jwks.as_uri(), refresh_after_s=0, clock=clock)


def _count_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every token PyJWT decodes from now on: a remembered token is not decoded at all."""
    checks: list[str] = []
    decode = jwt.decode

    def counted(token: str, *args: Any, **kwargs: Any) -> Any:
        checks.append(token)
        return decode(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counted)
    return checks


async def test_a_token_is_checked_once_and_then_remembered(
    provider: tuple[Ed25519PrivateKey, TokenVerifier], monkeypatch: pytest.MonkeyPatch
) -> None:
    key, verifier = provider
    token = _signed(key)
    first = await verifier.verify(token)
    checks = _count_checks(monkeypatch)
    assert await verifier.verify(token) == first
    assert checks == []
    await verifier.verify(_signed(key, sub="grace"))  # another token is checked
    assert checks


async def test_a_remembered_token_is_refused_once_it_expires(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    clock = _Clock()
    verifier = _verifier_on(_jwks_of(tmp_path / "jwks.json", (KEY_ID, key)), clock)
    expires = int(clock.now) + 60
    token = _signed(key, exp=expires)
    await verifier.verify(token)
    clock.now = expires - 0.5
    await verifier.verify(token)  # still good
    clock.now = expires
    with pytest.raises(Problem) as refused:
        await verifier.verify(token)
    assert (refused.value.status, refused.value.detail) == (401, "The token has expired.")


async def test_new_keys_forget_the_tokens_of_a_withdrawn_one(tmp_path: Path) -> None:
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    jwks = _jwks_of(tmp_path / "jwks.json", ("old", old))
    verifier = _verifier_on(jwks, _Clock())
    token = _signed(old, kid="old")
    await verifier.verify(token)
    _jwks_of(jwks, ("new", new))  # the provider withdraws the old key
    await verifier.verify(_signed(new, kid="new"))  # an unknown kid reloads the keys
    with pytest.raises(Problem) as refused:
        await verifier.verify(token)
    assert refused.value.status == 401


async def test_only_so_many_tokens_are_remembered(
    provider: tuple[Ed25519PrivateKey, TokenVerifier], monkeypatch: pytest.MonkeyPatch
) -> None:
    key, verifier = provider
    monkeypatch.setattr("shared.auth.VERIFIED_TOKENS_KEPT", 3)
    tokens = [_signed(key, sub=f"learner-{n}") for n in range(4)]
    for token in tokens:
        await verifier.verify(token)
    checks = _count_checks(monkeypatch)
    for token in tokens[1:]:
        await verifier.verify(token)
    assert checks == []  # the three newest are remembered
    await verifier.verify(tokens[0])  # the oldest was forgotten: checked again
    assert checks
