"""OpenID for Verifiable Credential Issuance 1.0: a learner's credential into their wallet.

Pre-authorized code flow with a transaction code. The learner asks for an offer of one of
their credentials (`POST /credentials/{id}/offers`, through the gateway) and shows the
wallet its `openid-credential-offer://` link; the learner types the transaction code. The
wallet reads `/.well-known/openid-credential-issuer`, trades the code at the token endpoint
of the authorization server named there (its metadata at
`/.well-known/oauth-authorization-server/oid4vci`, RFC 8414's place for an issuer with a
path, beside the client-credentials server at the root), takes a `c_nonce` from the nonce
endpoint and sends a `jwt` proof of possession of its key to the credential endpoint. The
credential it gets is the learner's, issued again with the wallet's DID as its subject
(`ldp_vc`: Open Badges 3.0 or CLR 2.0 with an eddsa-rdfc-2022 proof).

Errors follow RFC 6749 §5.2 at the token endpoint and OpenID4VCI §8.3.1 at the credential
endpoint, not problem details: that is what wallets read.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import warnings
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey
from pydantic import BaseModel

from services.issuance import application
from services.issuance.api import CredentialPath
from services.issuance.application import CredentialService
from services.issuance.clients import NO_STORE, OAuthError, read_form
from services.issuance.domain import (
    ACCESS_TOKEN_LIFETIME,
    TX_CODE_LENGTH,
    AccessTokenRefused,
    Credential,
    CredentialNotFound,
    NonceRefused,
    NotDeliverable,
    OfferNotRedeemable,
    ProofRefused,
)
from services.issuance.unit_of_work import IssuanceUnitOfWork
from shared.auth import Learner
from shared.credentials import did_key
from shared.credentials.data_model import CLR_TYPE
from shared.credentials.did import KeyResolutionError, public_key_from_did_key
from shared.credentials.loader import CLR_V2P0, OB_V3P0, OB_V3P0_EXTENSIONS, VC_V2
from shared.db.uow import UnitOfWorkFactory, run_committed
from shared.problems import problem_responses

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_TYPE = "openid4vci-proof+jwt"
# Ed25519 keys, named by the fully specified RFC 9864 name or the older EdDSA.
PROOF_ALGORITHMS = ["EdDSA", "Ed25519"]
AUTHORIZATION_SERVER_PATH = "/oid4vci"
# A proof signed longer ago than this is stale, whatever its nonce.
PROOF_MAX_AGE_S = 300
OFFER_SCHEME = "openid-credential-offer://"
INTERACTIONS_PATH = "/interactions"
_TOKEN_LIFETIME_S = int(ACCESS_TOKEN_LIFETIME.total_seconds())

OPEN_BADGE = "OpenBadgeCredential_ldp_vc"
CLR = "ClrCredential_ldp_vc"
_CONFIGURATIONS: dict[str, tuple[list[str], list[str], str]] = {
    OPEN_BADGE: (
        [VC_V2, OB_V3P0, OB_V3P0_EXTENSIONS],
        ["VerifiableCredential", "OpenBadgeCredential"],
        "Micro-credential (Open Badges 3.0)",
    ),
    CLR: (
        [VC_V2, CLR_V2P0, OB_V3P0, OB_V3P0_EXTENSIONS],
        ["VerifiableCredential", "ClrCredential"],
        "Pathway (Comprehensive Learner Record 2.0)",
    ),
}

T = TypeVar("T")


class OfferView(BaseModel):
    """What the learner shows a wallet: the offer (as a link too), the interaction URL that
    also leads to a VC API exchange (`exchanges.py`), and the code to type."""

    credential_offer: dict[str, Any]
    offer_link: str
    interaction_url: str
    tx_code: str
    expires_at: datetime


class Holder(BaseModel):
    """Who proved possession: the wallet key's DID, and the nonce it signed."""

    did: str
    nonce: str


def configuration_of(document: dict[str, Any]) -> str:
    return CLR if CLR_TYPE in document.get("type", []) else OPEN_BADGE


def credential_offer(
    issuer: str, credential: Credential, pre_authorized_code: str
) -> dict[str, Any]:
    """The offer of `credential` by value (OpenID4VCI 1.0 §4.1.1)."""
    configuration = configuration_of(json.loads(credential.document))
    return {
        "credential_issuer": issuer,
        "credential_configuration_ids": [configuration],
        "grants": {
            PRE_AUTHORIZED_GRANT: {
                "pre-authorized_code": pre_authorized_code,
                "tx_code": {
                    "input_mode": "numeric",
                    "length": TX_CODE_LENGTH,
                    "description": "The code shown beside the QR code in your wallet.",
                },
            }
        },
    }


def interaction_url(issuer: str, interaction: str) -> str:
    """The one URL behind the QR code: with `iuv=1` a wallet reads the protocols it may
    use (VC API interaction URLs, as DCC's Learner Credential Wallet does)."""
    return f"{issuer}{INTERACTIONS_PATH}/{interaction}?iuv=1"


def offer_link(offer: dict[str, Any]) -> str:
    """The offer by value, as a wallet reads it from a QR code or a link."""
    encoded = urllib.parse.quote(json.dumps(offer, separators=(",", ":")), safe="")
    return f"{OFFER_SCHEME}?credential_offer={encoded}"


def holder_of(proof_jwt: str, credential_issuer: str, now: float | None = None) -> Holder:
    """The holder's DID from a verified `jwt` proof: typed, for this issuer, fresh, signed
    with the key named in `kid` (a did:key DID URL) or given as `jwk`. `ProofRefused`
    otherwise; the nonce is checked against those handed out by the caller."""
    try:
        header = jws.extract_compact(proof_jwt.encode()).protected
    except (JoseError, ValueError) as exc:
        raise ProofRefused("The proof is not a compact JWT.") from exc
    if header.get("typ") != PROOF_TYPE:
        raise ProofRefused(f"The proof's typ must be {PROOF_TYPE}.")
    if header.get("alg") not in PROOF_ALGORITHMS:
        raise ProofRefused(f"The proof must be signed with {' or '.join(PROOF_ALGORITHMS)}.")
    public_key = _proof_key(header)
    try:
        with warnings.catch_warnings():
            # joserfc warns that RFC 9864 deprecates the name EdDSA; wallets still send it.
            warnings.simplefilter("ignore")
            claims = jwt.decode(proof_jwt, OKPKey.import_key(public_key), PROOF_ALGORITHMS).claims
    except (JoseError, ValueError) as exc:
        raise ProofRefused("The proof's signature does not verify with its key.") from exc
    if claims.get("aud") != credential_issuer:
        raise ProofRefused(f"The proof's aud must be {credential_issuer}.")
    issued_at = claims.get("iat")
    moment = time.time() if now is None else now
    if not isinstance(issued_at, int | float) or abs(moment - issued_at) > PROOF_MAX_AGE_S:
        raise ProofRefused("The proof's iat is missing or not recent.")
    nonce = claims.get("nonce")
    if not isinstance(nonce, str):
        raise NonceRefused("The proof carries no nonce: ask the nonce endpoint for one.")
    return Holder(did=did_key(public_key), nonce=nonce)


def _proof_key(header: dict[str, Any]) -> Ed25519PublicKey:
    kid, jwk = header.get("kid"), header.get("jwk")
    if (kid is None) == (jwk is None):
        raise ProofRefused("Name the key in kid (a did:key DID URL) or give it as jwk, not both.")
    try:
        if isinstance(kid, str) and kid.startswith("did:key:"):
            return public_key_from_did_key(kid)
        if isinstance(jwk, dict) and "d" not in jwk:
            key = OKPKey.import_key(jwk).public_key
            if isinstance(key, Ed25519PublicKey):
                return key
    except (JoseError, ValueError, KeyResolutionError) as exc:
        raise ProofRefused("The proof's key cannot be read.") from exc
    raise ProofRefused("The proof's key must be an Ed25519 did:key or a public Ed25519 jwk.")


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise OAuthError(401, "invalid_token", "Send the access token as a Bearer token.")
    return token


def _proof_jwt(body: Any) -> str:
    """The one `jwt` proof of an OpenID4VCI 1.0 request (`proofs.jwt`), or of a draft's
    `proof`."""
    if not isinstance(body, dict):
        raise OAuthError(400, "invalid_credential_request", "The body must be a JSON object.")
    proofs = body.get("proofs")
    if isinstance(proofs, dict) and isinstance(proofs.get("jwt"), list):
        jwts = proofs["jwt"]
    elif isinstance(body.get("proof"), dict) and body["proof"].get("proof_type") == "jwt":
        jwts = [body["proof"].get("jwt")]
    else:
        raise OAuthError(400, "invalid_proof", "Send one key proof as proofs.jwt.")
    if len(jwts) != 1 or not isinstance(jwts[0], str):
        raise OAuthError(400, "invalid_proof", "Send exactly one jwt proof.")
    return str(jwts[0])


def build_oid4vci_router(
    units_of_work: UnitOfWorkFactory[IssuanceUnitOfWork],
    service: CredentialService,
    credential_issuer: str,
) -> APIRouter:
    router = APIRouter(tags=["OpenID4VCI"])
    issuer = credential_issuer.rstrip("/")
    authorization_server = issuer + AUTHORIZATION_SERVER_PATH

    async def committed(use_case: Callable[[IssuanceUnitOfWork], Awaitable[T]]) -> T:
        return await run_committed(units_of_work, use_case)

    @router.get(
        "/.well-known/openid-credential-issuer",
        summary="Credential issuer metadata (OpenID4VCI 1.0 §12.2)",
    )
    async def issuer_metadata() -> dict[str, Any]:
        return {
            "credential_issuer": issuer,
            "authorization_servers": [authorization_server],
            "credential_endpoint": f"{authorization_server}/credential",
            "nonce_endpoint": f"{authorization_server}/nonce",
            "display": [{"name": "Alliance micro-credentials", "locale": "en"}],
            "credential_configurations_supported": {
                configuration_id: {
                    "format": "ldp_vc",
                    "credential_definition": {"@context": contexts, "type": types},
                    "cryptographic_binding_methods_supported": ["did:key", "jwk"],
                    "credential_signing_alg_values_supported": ["eddsa-rdfc-2022"],
                    "proof_types_supported": {
                        "jwt": {"proof_signing_alg_values_supported": PROOF_ALGORITHMS}
                    },
                    "credential_metadata": {"display": [{"name": name, "locale": "en"}]},
                }
                for configuration_id, (contexts, types, name) in _CONFIGURATIONS.items()
            },
        }

    @router.get(
        "/.well-known/oauth-authorization-server" + AUTHORIZATION_SERVER_PATH,
        summary="The wallets' authorization server metadata (RFC 8414)",
    )
    async def authorization_server_metadata() -> dict[str, Any]:
        return {
            "issuer": authorization_server,
            "token_endpoint": f"{authorization_server}/token",
            "grant_types_supported": [PRE_AUTHORIZED_GRANT],
            "pre-authorized_grant_anonymous_access_supported": True,
            "token_endpoint_auth_methods_supported": ["none"],
            "response_types_supported": [],
        }

    @router.post(
        "/credentials/{credential_id}/offers",
        tags=["credentials"],
        summary="Offer one of the caller's credentials to their wallet (single-use, expires)",
        status_code=201,
        responses=problem_responses(401, 403, 404, 409),
    )
    async def offer(credential_id: CredentialPath, caller: Learner) -> OfferView:
        async def offered(uow: IssuanceUnitOfWork) -> OfferView:
            new = await application.offer_credential(uow, credential_id, str(caller.learner_id))
            body = credential_offer(issuer, new.credential, new.pre_authorized_code)
            return OfferView(
                credential_offer=body,
                offer_link=offer_link(body),
                interaction_url=interaction_url(issuer, new.interaction),
                tx_code=new.tx_code,
                expires_at=new.offer.expires_at,
            )

        return await committed(offered)

    @router.post(
        AUTHORIZATION_SERVER_PATH + "/token",
        summary="An access token for a pre-authorized code and its transaction code",
        responses={200: {}, 400: {}},
    )
    async def token(request: Request) -> JSONResponse:
        try:
            form = read_form(request, await request.body())
            if form.get("grant_type") != PRE_AUTHORIZED_GRANT:
                raise OAuthError(400, "unsupported_grant_type", f"Use {PRE_AUTHORIZED_GRANT}.")
            code, tx_code = form.get("pre-authorized_code"), form.get("tx_code")
            if not code or not tx_code:
                raise OAuthError(
                    400, "invalid_request", "Send the pre-authorized_code and the tx_code."
                )
            try:
                access_token = await committed(
                    lambda uow: application.redeem_offer(uow, code, tx_code)
                )
            except OfferNotRedeemable as exc:
                raise OAuthError(400, "invalid_grant", str(exc)) from exc
            if access_token is None:
                raise OAuthError(400, "invalid_grant", "Wrong transaction code.")
        except OAuthError as error:
            return error.response(f'Bearer error="{error.error}"')
        body = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": _TOKEN_LIFETIME_S,
        }
        return JSONResponse(body, headers=NO_STORE)

    @router.post(AUTHORIZATION_SERVER_PATH + "/nonce", summary="A fresh c_nonce for a key proof")
    async def nonce() -> JSONResponse:
        c_nonce = await committed(application.new_proof_nonce)
        return JSONResponse({"c_nonce": c_nonce}, headers=NO_STORE)

    @router.post(
        AUTHORIZATION_SERVER_PATH + "/credential",
        summary="The offered credential, bound to the wallet's key",
        responses={200: {}, 400: {}, 401: {}},
    )
    async def credential(request: Request) -> JSONResponse:
        try:
            access_token = _bearer(request)
            try:
                body = json.loads(await request.body())
            except ValueError as exc:
                raise OAuthError(
                    400, "invalid_credential_request", "The body is not JSON."
                ) from exc
            proof = _proof_jwt(body)
            requested = body.get("credential_configuration_id")

            async def delivered(uow: IssuanceUnitOfWork) -> dict[str, Any]:
                signed = await service.deliver_to_holder(
                    uow, access_token, holder.nonce, holder.did
                )
                if requested is not None and requested != configuration_of(signed):
                    # Raised inside the unit of work: nothing is spent.
                    raise OAuthError(
                        400, "unknown_credential_configuration", "Not the offered credential."
                    )
                return signed

            try:
                holder = holder_of(proof, issuer)
                signed = await committed(delivered)
            except AccessTokenRefused as exc:
                raise OAuthError(401, "invalid_token", str(exc)) from exc
            except NonceRefused as exc:
                raise OAuthError(400, "invalid_nonce", str(exc)) from exc
            except ProofRefused as exc:
                raise OAuthError(400, "invalid_proof", str(exc)) from exc
            except (NotDeliverable, CredentialNotFound) as exc:
                # Revoked or suspended since the offer was made.
                raise OAuthError(400, "credential_request_denied", str(exc)) from exc
        except OAuthError as error:
            return error.response(f'Bearer error="{error.error}"')
        return JSONResponse({"credentials": [{"credential": signed}]}, headers=NO_STORE)

    return router
