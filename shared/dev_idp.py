"""A development identity provider for the local alliance: it issues tokens to anyone.

It stands in for the alliance's real OpenID Connect provider so a newcomer can try the API:
`POST /dev-idp/token` with a subject and a role returns a signed access token (a learner's
may carry an `email`, as verified, and a `name`, as a real provider's would). It is mounted
only when DEV_IDP_ENABLED is set, which `make run` and the tests do and production never does.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from fastapi import APIRouter
from pydantic import BaseModel, Field, model_validator

from shared.auth import IDENTITY_CLAIM_MAX_LENGTH, IDENTITY_CLAIM_PATTERN, Role
from shared.registry import REPO_ROOT

KEY_ID = "dev-idp-2026-1"
PRIVATE_KEY_FILE = REPO_ROOT / "alliance" / "demo-secrets" / "dev-idp.pem"
JWKS_FILE = REPO_ROOT / "alliance" / "dev-idp" / "jwks.json"
AUDIENCE = "alliance"
TOKEN_LIFETIME_S = 3600


def _private_key(path: Path = PRIVATE_KEY_FILE) -> Ed25519PrivateKey:
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 key")
    return key


def jwks() -> dict[str, object]:
    public = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(_private_key().public_key()))
    return {"keys": [{**public, "kid": KEY_ID, "alg": "EdDSA", "use": "sig"}]}


class TokenRequest(BaseModel):
    subject: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._@-]+$")]
    role: Role = "learner"
    partner_id: Annotated[str | None, Field(pattern=r"^[a-z][a-z0-9-]{1,31}$")] = None
    email: Annotated[
        str | None,
        Field(
            max_length=IDENTITY_CLAIM_MAX_LENGTH["email"],
            pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+$",
            description="A learner's e-mail address, put in the token as verified.",
        ),
    ] = None
    name: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=IDENTITY_CLAIM_MAX_LENGTH["name"],
            pattern=IDENTITY_CLAIM_PATTERN,
            description="A learner's name.",
        ),
    ] = None

    @model_validator(mode="after")
    def _partner_roles_name_a_partner(self) -> TokenRequest:
        if (self.role == "learner") != (self.partner_id is None):
            raise ValueError("partner_id is required for partner roles and refused for learners")
        if self.role != "learner" and (self.email or self.name):
            raise ValueError("email and name are a learner's claims")
        return self


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int = TOKEN_LIFETIME_S


def issue_token(issuer: str, request: TokenRequest) -> str:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": issuer,
        "sub": request.subject,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + TOKEN_LIFETIME_S,
        "alliance_role": request.role,
    }
    if request.partner_id:
        claims["partner_id"] = request.partner_id
    if request.email:
        claims |= {"email": request.email, "email_verified": True}
    if request.name:
        claims["name"] = request.name
    return jwt.encode(claims, _private_key(), algorithm="EdDSA", headers={"kid": KEY_ID})


def build_router(issuer: str) -> APIRouter:
    router = APIRouter(prefix="/dev-idp", tags=["development identity provider"])

    @router.get("/.well-known/openid-configuration", summary="Provider metadata")
    async def configuration() -> dict[str, object]:
        return {
            "issuer": issuer,
            "jwks_uri": f"{issuer}/jwks.json",
            "token_endpoint": f"{issuer}/token",
            "id_token_signing_alg_values_supported": ["EdDSA"],
        }

    @router.get("/jwks.json", summary="The keys tokens are signed with")
    async def keys() -> dict[str, object]:
        return jwks()

    @router.post("/token", summary="A token for anyone (development only)")
    async def token(request: TokenRequest) -> TokenResponse:
        return TokenResponse(access_token=issue_token(issuer, request))

    return router


if __name__ == "__main__":
    JWKS_FILE.parent.mkdir(parents=True, exist_ok=True)
    JWKS_FILE.write_text(json.dumps(jwks(), indent=2) + "\n")
    print(f"wrote {JWKS_FILE}")
