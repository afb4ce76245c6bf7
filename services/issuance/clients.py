"""OAuth 2.0 client credentials for partner systems calling the VC API.

A partner registers systems (clients) with the alliance; each gets a client id and a secret,
of which issuance keeps only a salted scrypt hash. A client trades them at `POST /oauth/token`
(RFC 6749 §4.4, client authentication by HTTP Basic or in the form, §2.3.1) for a short-lived
JWT access token that makes it a `partner_system` of its partner on the VC API, beside the
identity provider's tokens. `GET /.well-known/oauth-authorization-server` describes the
server (RFC 8414), `GET /oauth/jwks.json` its token-signing key.

    python -m services.issuance.clients new CLIENT_ID PARTNER   # a secret, and its entry
    python -m services.issuance.clients dev-secret PARTNER      # a local alliance's client
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import sys
import time
import urllib.parse
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, field_validator

from services.issuance.settings import IssuanceSettings
from shared.auth import ClientTokenIssuer, TokenVerifier

ISSUE_SCOPE = "issue:credentials"
VERIFY_SCOPE = "verify:credentials"
SCOPES = (ISSUE_SCOPE, VERIFY_SCOPE)
# The VC API routes each scope opens.
SCOPE_FOR_ROUTE = {
    "/credentials/issue": ISSUE_SCOPE,
    "/credentials/verify": VERIFY_SCOPE,
    "/presentations/verify": VERIFY_SCOPE,
}
TOKEN_PATH = "/oauth/token"  # noqa: S105 - a path, not a secret
JWKS_PATH = "/oauth/jwks.json"
FORM = "application/x-www-form-urlencoded"

# scrypt at OWASP's minimum (n=2^17 costs ~130 MiB a request; the secrets are random, 256 bits,
# so the hash guards against a leaked registry, not against guessing).
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P)
    encoded = [base64.urlsafe_b64encode(part).decode() for part in (salt, digest)]
    return "$".join(["scrypt", str(_SCRYPT_N), str(_SCRYPT_R), str(_SCRYPT_P), *encoded])


def secret_matches(secret: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.urlsafe_b64decode(digest)
        found = hashlib.scrypt(
            secret.encode(),
            salt=base64.urlsafe_b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(found, expected)


# Compared against when the client id is unknown, so that answer takes as long as a wrong secret.
_NO_CLIENT = hash_secret(secrets.token_urlsafe(16))


class RegisteredClient(BaseModel):
    client_id: str = Field(pattern=r"^[A-Za-z0-9._~-]{3,64}$")
    partner_id: str = Field(pattern=r"^[a-z][a-z0-9-]{1,31}$")
    secret_hash: str = Field(pattern=r"^scrypt\$")
    scopes: tuple[str, ...] = SCOPES

    @field_validator("scopes")
    @classmethod
    def _known_scopes(cls, scopes: tuple[str, ...]) -> tuple[str, ...]:
        unknown = set(scopes) - set(SCOPES)
        if unknown:
            raise ValueError(f"unknown scopes {sorted(unknown)}; known: {list(SCOPES)}")
        return scopes


class ClientFile(BaseModel):
    clients: list[RegisteredClient]


def development_client(partner_id: str) -> tuple[str, str]:
    """A local alliance's client for `partner_id`: its id and a secret anyone can derive, so
    it exists only where the committed development keys are allowed too."""
    seed = f"alliance development OAuth client\n{partner_id}".encode()
    return f"{partner_id}-dev-client", "dev-" + hashlib.sha256(seed).hexdigest()[:40]


class ClientRegistry:
    def __init__(self, clients: Iterable[RegisteredClient]) -> None:
        self._clients: dict[str, RegisteredClient] = {}
        for client in clients:
            if client.client_id in self._clients:
                raise ValueError(f"client {client.client_id!r} is registered twice")
            self._clients[client.client_id] = client

    @classmethod
    def from_settings(cls, settings: IssuanceSettings, partners: Iterable[str]) -> ClientRegistry:
        partners = set(partners)
        if settings.oauth_clients_file is not None:
            clients = ClientFile.model_validate_json(settings.oauth_clients_file.read_bytes())
        elif settings.oauth_clients is not None:
            clients = ClientFile.model_validate_json(settings.oauth_clients)
        elif settings.allow_development_keys:
            return cls.development(partners)
        else:
            return cls([])
        strangers = {c.partner_id for c in clients.clients} - partners
        if strangers:
            raise ValueError(f"OAuth clients registered for unknown partners: {sorted(strangers)}")
        return cls(clients.clients)

    @classmethod
    def development(cls, partners: Iterable[str]) -> ClientRegistry:
        registered = []
        for partner in sorted(partners):
            client_id, secret = development_client(partner)
            registered.append(
                RegisteredClient(
                    client_id=client_id, partner_id=partner, secret_hash=hash_secret(secret)
                )
            )
        return cls(registered)

    def authenticate(self, client_id: str, secret: str) -> RegisteredClient | None:
        client = self._clients.get(client_id)
        matches = secret_matches(secret, client.secret_hash if client else _NO_CLIENT)
        return client if client is not None and matches else None


@dataclass(frozen=True)
class TokenSigner:
    issuer: str
    audience: str
    key: Ed25519PrivateKey
    key_id: str
    lifetime_s: int

    @classmethod
    def from_settings(cls, settings: IssuanceSettings) -> TokenSigner:
        if settings.oauth_signing_key_file is not None:
            loaded = load_pem_private_key(settings.oauth_signing_key_file.read_bytes(), None)
            if not isinstance(loaded, Ed25519PrivateKey):
                raise ValueError(f"{settings.oauth_signing_key_file} is not an Ed25519 key")
            key = loaded
        else:
            key = Ed25519PrivateKey.generate()
        base_url = settings.resolved_public_base_url
        return cls(base_url, base_url, key, _key_id(key), settings.oauth_token_lifetime_s)

    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(self.key.public_key()))
        return {**jwk, "kid": self.key_id, "alg": "EdDSA", "use": "sig"}

    def sign(self, client: RegisteredClient, scopes: Iterable[str], now: int | None = None) -> str:
        issued_at = int(time.time()) if now is None else now
        claims = {
            "iss": self.issuer,
            "sub": client.client_id,
            "aud": self.audience,
            "iat": issued_at,
            "exp": issued_at + self.lifetime_s,
            "jti": str(uuid.uuid4()),
            "client_id": client.client_id,
            "scope": " ".join(scopes),
            "alliance_role": "partner_system",
            "partner_id": client.partner_id,
        }
        # RFC 9068's type for JWT access tokens.
        headers = {"kid": self.key_id, "typ": "at+jwt"}
        return jwt.encode(claims, self.key, algorithm="EdDSA", headers=headers)

    def trusted_as(self) -> ClientTokenIssuer:
        return ClientTokenIssuer(
            self.issuer, self.audience, {self.key_id: self.key.public_key()}, SCOPE_FOR_ROUTE
        )


def _key_id(key: Ed25519PrivateKey) -> str:
    jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(key.public_key()))
    # RFC 7638 thumbprint: a key id that names the key, whether loaded or made at start.
    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x")}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return "client-tokens-" + base64.urlsafe_b64encode(digest).decode().rstrip("=")[:16]


class OAuthError(Exception):
    """An error answer of an OAuth token endpoint (RFC 6749 §5.2), here and in OpenID4VCI."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description

    def response(self, challenge: str) -> JSONResponse:
        """The answer; `challenge` is the `WWW-Authenticate` scheme a 401 names."""
        headers = dict(NO_STORE)
        if self.status == 401:
            headers["WWW-Authenticate"] = challenge
        return JSONResponse(
            {"error": self.error, "error_description": self.description},
            status_code=self.status,
            headers=headers,
        )


NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def read_form(request: Request, body: bytes) -> dict[str, str]:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != FORM:
        raise OAuthError(400, "invalid_request", f"Send the parameters as {FORM}.")
    try:
        pairs = urllib.parse.parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError) as exc:
        raise OAuthError(400, "invalid_request", "The form cannot be read.") from exc
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            # RFC 6749 §3.2: no parameter more than once.
            raise OAuthError(400, "invalid_request", f"{name} is given more than once.")
        form[name] = value
    return form


def _client_credentials(request: Request, form: Mapping[str, str]) -> tuple[str, str]:
    authorization = request.headers.get("authorization")
    in_form = "client_secret" in form
    if authorization is not None:
        if in_form:
            raise OAuthError(400, "invalid_request", "Authenticate the client one way only.")
        scheme, _, encoded = authorization.partition(" ")
        try:
            if scheme.lower() != "basic":
                raise ValueError(scheme)
            user, colon, password = base64.b64decode(encoded, validate=True).decode().partition(":")
            if not colon:
                raise ValueError("no colon")
        except (ValueError, binascii.Error) as exc:
            raise OAuthError(401, "invalid_client", "Malformed HTTP Basic credentials.") from exc
        # RFC 6749 §2.3.1: both are form-encoded before they are joined.
        client_id = urllib.parse.unquote_plus(user)
        if form.get("client_id", client_id) != client_id:
            raise OAuthError(400, "invalid_request", "client_id differs from the Basic user.")
        return client_id, urllib.parse.unquote_plus(password)
    if in_form and form.get("client_id"):
        return form["client_id"], form["client_secret"]
    raise OAuthError(401, "invalid_client", "Authenticate the client (HTTP Basic or the form).")


def _granted_scopes(client: RegisteredClient, form: Mapping[str, str]) -> tuple[str, ...]:
    requested = form.get("scope", "").split()
    if not requested:
        return client.scopes
    refused = [scope for scope in requested if scope not in client.scopes]
    if refused:
        raise OAuthError(400, "invalid_scope", f"Not granted to this client: {' '.join(refused)}.")
    return tuple(dict.fromkeys(requested))


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
    scope: str


def build_router(registry: ClientRegistry, signer: TokenSigner) -> APIRouter:
    router = APIRouter(tags=["OAuth 2.0 client credentials"])

    @router.post(
        TOKEN_PATH,
        summary="An access token for a registered partner system (client credentials)",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    FORM: {
                        "schema": {
                            "type": "object",
                            "required": ["grant_type"],
                            "properties": {
                                "grant_type": {"type": "string", "enum": ["client_credentials"]},
                                "scope": {"type": "string"},
                                "client_id": {"type": "string"},
                                "client_secret": {"type": "string"},
                            },
                        }
                    }
                },
            }
        },
        responses={200: {"model": TokenResponse}, 400: {}, 401: {}},
    )
    async def token(request: Request) -> JSONResponse:
        try:
            form = read_form(request, await request.body())
            client_id, secret = _client_credentials(request, form)
            client = registry.authenticate(client_id, secret)
            if client is None:
                raise OAuthError(401, "invalid_client", "Unknown client or wrong secret.")
            grant_type = form.get("grant_type")
            if not grant_type:
                raise OAuthError(400, "invalid_request", "grant_type is missing.")
            if grant_type != "client_credentials":
                raise OAuthError(
                    400, "unsupported_grant_type", "Only client_credentials is supported."
                )
            # Token harnesses (the W3C suites among them) name the API they want a token for.
            for parameter in ("audience", "resource"):
                if form.get(parameter, signer.audience).rstrip("/") != signer.audience:
                    raise OAuthError(400, "invalid_target", f"Tokens are for {signer.audience}.")
            scopes = _granted_scopes(client, form)
        except OAuthError as error:
            return error.response('Basic realm="alliance issuance"')
        answer = TokenResponse(
            access_token=signer.sign(client, scopes),
            expires_in=signer.lifetime_s,
            scope=" ".join(scopes),
        )
        return JSONResponse(answer.model_dump(), headers=NO_STORE)

    @router.get(
        "/.well-known/oauth-authorization-server",
        summary="Authorisation server metadata (RFC 8414)",
    )
    async def metadata() -> dict[str, Any]:
        return {
            "issuer": signer.issuer,
            "token_endpoint": signer.issuer + TOKEN_PATH,
            "jwks_uri": signer.issuer + JWKS_PATH,
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": list(SCOPES),
            # Required by RFC 8414; there is no authorisation endpoint, so no response types.
            "response_types_supported": [],
        }

    @router.get(JWKS_PATH, summary="The key access tokens are signed with")
    async def jwks() -> dict[str, Any]:
        return {"keys": [signer.public_jwk()]}

    return router


def install(app: FastAPI, settings: IssuanceSettings, partners: Iterable[str]) -> TokenSigner:
    """Mounts the token endpoint and makes the app's token verifier accept its tokens."""
    registry = ClientRegistry.from_settings(settings, partners)
    signer = TokenSigner.from_settings(settings)
    verifier: TokenVerifier = app.state.token_verifier
    verifier.trust_client_tokens(signer.trusted_as())
    app.include_router(build_router(registry, signer))
    return signer


def _main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "new":
        secret = secrets.token_urlsafe(32)
        entry = RegisteredClient(
            client_id=argv[1], partner_id=argv[2], secret_hash=hash_secret(secret)
        )
        print(f"client secret (shown once, give it to the partner): {secret}", file=sys.stderr)
        print(entry.model_dump_json())
        return 0
    if len(argv) == 2 and argv[0] == "dev-secret":
        client_id, secret = development_client(argv[1])
        print(f"{client_id} {secret}")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
