"""Who is calling: bearer tokens from the alliance's identity provider (OpenID Connect style).

Tokens are signed JWTs checked against the provider's published keys (JWKS). A learner is
known to the alliance only by a pseudonymous id derived from the provider and subject, so no
name or e-mail ever reaches an event, a log or a trace. A learner's token may also carry the
standard OpenID Connect claims `email` (counted only when `email_verified` is true) and
`name`: the caller's own, used only to hash them into a credential they ask for, and kept out
of every repr. Partner staff and partner systems carry the partner they act for.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import jwt
from fastapi import Depends, Request

from shared.problems import Problem

Role = Literal["learner", "partner_staff", "partner_system"]
ROLES: tuple[Role, ...] = ("learner", "partner_staff", "partner_system")
# The OpenID Connect claims a learner may have hashed into a credential of theirs.
IdentityClaim = Literal["email", "name"]
# What a usable `email` or `name` claim looks like: one line, of a sensible length.
IDENTITY_CLAIM_PATTERN = r"^[^\x00-\x1f\x7f]+$"
IDENTITY_CLAIM_MAX_LENGTH = {"email": 254, "name": 200}


def learner_id_for(issuer: str, subject: str) -> str:
    """A stable pseudonym: the same person at the same provider always maps to the same id."""
    return "lrn-" + hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Principal:
    role: Role
    subject: str
    learner_id: str | None = None
    partner_id: str | None = None
    # Personal data: never in a repr, so never in a log line that prints the principal.
    email: str | None = field(default=None, repr=False)  # only a verified address
    name: str | None = field(default=None, repr=False)

    @property
    def is_learner(self) -> bool:
        return self.role == "learner"

    def identity_claim(self, claim: IdentityClaim) -> str | None:
        return self.email if claim == "email" else self.name

    def acts_for(self, partner_id: str) -> bool:
        return self.role != "learner" and self.partner_id == partner_id


def _unauthorised(detail: str) -> Problem:
    return Problem(401, "Unauthorized", detail)


@dataclass(frozen=True)
class ClientTokenIssuer:
    """An OAuth 2.0 authorisation server run by this service itself (client credentials for
    partner systems). Its tokens are narrower than the identity provider's: they make the
    caller a `partner_system` of the partner the client is registered for, and are accepted
    only on the routes their scopes open (`scope_for_route`: route path -> scope needed)."""

    issuer: str
    audience: str
    keys: Mapping[str, Any]  # key id -> public key
    scope_for_route: Mapping[str, str] = field(default_factory=dict)


# How many verified tokens a service remembers; past that, the oldest is checked again.
VERIFIED_TOKENS_KEPT = 2048


class TokenVerifier:
    """Verifies access tokens; fetches the provider's keys once and again on an unknown key id.

    A token the provider signed is checked once and then remembered until it expires: a
    learner's session sends the same token with every request, and the gateway and the
    service behind it each spent 230 µs of CPU checking it again (PyJWT, EdDSA). A reload of
    the provider's keys forgets them all, so a withdrawn key's tokens are checked anew."""

    def __init__(
        self,
        issuer: str,
        audience: str,
        jwks_url: str,
        refresh_after_s: float = 60.0,
        clock: Callable[[], float] = time.time,
    ):
        self.issuer = issuer
        self.audience = audience
        self._jwks_url = jwks_url
        self._refresh_after_s = refresh_after_s
        self._keys: dict[str, Any] = {}
        self._fetched_at = 0.0
        self._client_issuers: dict[str, ClientTokenIssuer] = {}
        self._clock = clock
        # token -> (its principal, its `exp`), oldest first.
        self._verified: dict[str, tuple[Principal, float]] = {}

    def trust_client_tokens(self, issuer: ClientTokenIssuer) -> None:
        if issuer.issuer == self.issuer:
            raise ValueError("client tokens need an issuer of their own")
        self._client_issuers[issuer.issuer] = issuer

    async def _load_keys(self) -> None:
        url = urllib.parse.urlparse(self._jwks_url)
        if url.scheme == "file":
            path = Path(urllib.parse.unquote(url.path))
            document = json.loads(await asyncio.to_thread(path.read_text, encoding="utf-8"))
        else:
            # Imported here: a provider reached over HTTP is the only use, and httpx (with
            # the libraries of its command line) costs a service that needs none ~5 MiB.
            import httpx

            try:
                async with httpx.AsyncClient(timeout=5) as client:
                    response = await client.get(self._jwks_url)
                    response.raise_for_status()
                    document = response.json()
            except httpx.HTTPError as exc:
                raise OSError(f"cannot fetch {self._jwks_url}: {exc}") from exc
        self._keys = {k.key_id: k for k in jwt.PyJWKSet.from_dict(document).keys if k.key_id}
        self._fetched_at = time.monotonic()
        self._verified.clear()

    async def _key(self, kid: str) -> Any:
        stale = time.monotonic() - self._fetched_at > self._refresh_after_s
        if kid not in self._keys and (stale or not self._keys):
            try:
                await self._load_keys()
            except (OSError, ValueError, jwt.PyJWKSetError) as exc:
                raise Problem(503, "Identity provider unavailable", "Cannot load its keys") from exc
        if kid not in self._keys:
            raise _unauthorised("The token's signing key is not one the identity provider lists.")
        return self._keys[kid]

    async def verify(self, token: str, route: str | None = None) -> Principal:
        remembered = self._verified.get(token)
        if remembered is not None:
            principal, expires_at = remembered
            if self._clock() >= expires_at:  # as PyJWT: expired from `exp` on
                del self._verified[token]
                raise _unauthorised("The token has expired.")
            return principal
        try:
            header = jwt.get_unverified_header(token)
            # Only to pick whose keys to check it with; nothing else is read before that.
            claimed_issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError as exc:
            raise _unauthorised("The bearer token is not a JWT.") from exc
        client_issuer = self._client_issuers.get(str(claimed_issuer))
        if client_issuer is not None:
            return _client_principal(client_issuer, token, header, route)
        key = await self._key(str(header.get("kid", "")))
        try:
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=["EdDSA", "ES256", "RS256"],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise _unauthorised("The token has expired.") from exc
        except jwt.PyJWTError as exc:
            raise _unauthorised(f"The token is not valid: {exc}.") from exc
        principal = _principal(claims, self.issuer)
        self._remember(token, principal, int(claims["exp"]))
        return principal

    def _remember(self, token: str, principal: Principal, expires_at: float) -> None:
        if len(self._verified) >= VERIFIED_TOKENS_KEPT:
            del self._verified[next(iter(self._verified))]
        self._verified[token] = (principal, expires_at)


def _client_principal(
    issuer: ClientTokenIssuer, token: str, header: dict[str, Any], route: str | None
) -> Principal:
    key = issuer.keys.get(str(header.get("kid", "")))
    if key is None:
        raise _unauthorised("The token's signing key is not one this service signs with.")
    try:
        claims = jwt.decode(
            token,
            key=key,
            algorithms=["EdDSA"],
            audience=issuer.audience,
            issuer=issuer.issuer,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise _unauthorised("The token has expired.") from exc
    except jwt.PyJWTError as exc:
        raise _unauthorised(f"The token is not valid: {exc}.") from exc
    partner_id = claims.get("partner_id")
    if claims.get("alliance_role") != "partner_system" or not isinstance(partner_id, str):
        raise _unauthorised("A client token must name the partner system's partner_id.")
    needed = issuer.scope_for_route.get(route or "")
    if needed is None or needed not in str(claims.get("scope", "")).split():
        raise Problem(
            403,
            "Forbidden",
            f"A client-credentials token does not open this route (it needs scope {needed!r})"
            if needed
            else "A client-credentials token opens only the VC API.",
        )
    return Principal("partner_system", str(claims["sub"]), partner_id=partner_id)


def _principal(claims: dict[str, Any], issuer: str) -> Principal:
    role = claims.get("alliance_role")
    subject = str(claims["sub"])
    if role == "learner":
        verified = claims.get("email_verified") is True
        return Principal(
            "learner",
            subject,
            learner_id=learner_id_for(issuer, subject),
            email=_identity_claim(claims, "email") if verified else None,
            name=_identity_claim(claims, "name"),
        )
    if role in ("partner_staff", "partner_system"):
        partner_id = claims.get("partner_id")
        if not isinstance(partner_id, str) or not partner_id:
            raise _unauthorised("A partner token must name its partner_id.")
        return Principal(role, subject, partner_id=partner_id)
    raise _unauthorised("The token carries no alliance role.")


def _identity_claim(claims: dict[str, Any], claim: IdentityClaim) -> str | None:
    """The claim when it is usable text; anything else counts as not given (the token stays
    good for everything else)."""
    value = claims.get(claim)
    if not isinstance(value, str):
        return None
    value = value.strip()
    usable = len(value) <= IDENTITY_CLAIM_MAX_LENGTH[claim] and re.match(
        IDENTITY_CLAIM_PATTERN, value
    )
    return value if usable else None


def verifier_from(request: Request) -> TokenVerifier:
    verifier: TokenVerifier = request.app.state.token_verifier
    return verifier


async def authenticated(request: Request) -> Principal:
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Problem(401, "Unauthorized", "Send an access token: `Authorization: Bearer <token>`.")
    route = getattr(request.scope.get("route"), "path", None)
    return await verifier_from(request).verify(token.strip(), route)


Caller = Annotated[Principal, Depends(authenticated)]


async def learner(principal: Caller) -> Principal:
    if not principal.is_learner or principal.learner_id is None:
        raise Problem(403, "Forbidden", "Only learners can do this.")
    return principal


async def partner(principal: Caller) -> Principal:
    if principal.partner_id is None:
        raise Problem(403, "Forbidden", "Only partner staff or partner systems can do this.")
    return principal


async def staff(principal: Caller) -> Principal:
    """A person at a partner: deciding about a learner's credential (revoking, suspending,
    recognising) is never left to a partner's system."""
    if principal.role != "partner_staff" or principal.partner_id is None:
        raise Problem(403, "Forbidden", "Only a partner's staff decide this.")
    return principal


Learner = Annotated[Principal, Depends(learner)]
PartnerCaller = Annotated[Principal, Depends(partner)]
PartnerStaff = Annotated[Principal, Depends(staff)]
