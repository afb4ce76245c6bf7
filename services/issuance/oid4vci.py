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

A wallet may name the configuration in the token request's `authorization_details` and then
asks with the `credential_identifier` the token response gives; otherwise it asks with the
`credential_configuration_id`. Errors follow RFC 6749 §5.2 at the token endpoint and
OpenID4VCI §8.3.1 at the credential endpoint, not problem details: that is what wallets read.
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
# The one RFC 9396 authorization details type the token endpoint reads.
CREDENTIAL_DETAILS = "openid_credential"
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
CONFIGURATIONS: dict[str, tuple[list[str], list[str], str]] = {
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
        # invalid_proof, not invalid_nonce: 1.0 keeps invalid_nonce for a nonce that is
        # there but not a fresh c_nonce of this issuer (§8.3.1.2).
        raise ProofRefused("The proof carries no nonce: ask the nonce endpoint for one.")
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


class CredentialRequest(BaseModel):
    """What a credential request asks for: one `jwt` key proof and either the offered
    configuration or the identifier a token response named."""

    proof_jwt: str
    configuration_id: str | None
    identifier: str | None


def _invalid(description: str) -> OAuthError:
    return OAuthError(400, "invalid_credential_request", description)


def credential_request(body: Any) -> CredentialRequest:
    """The request's parts, checked as OpenID4VCI 1.0 §8.2 reads: exactly one of
    `credential_configuration_id` and `credential_identifier`, and `proofs` holding one
    proof type, `jwt`, with one JWT (no `batch_credential_issuance` is offered). Wallets
    that still speak a draft are read too: the singular `proof` of drafts 13 to 15
    (Sphereon's client) as one `jwt` proof, and draft 13's `format` and
    `credential_definition` (walt.id's wallet) as the configuration they describe."""
    if not isinstance(body, dict):
        raise _invalid("The body must be a JSON object.")
    if "credential_response_encryption" in body:
        raise OAuthError(
            400, "invalid_encryption_parameters", "This issuer does not encrypt responses."
        )
    configuration_id = body.get("credential_configuration_id")
    identifier = body.get("credential_identifier")
    if configuration_id is None and identifier is None and "format" in body:
        configuration_id = _described_configuration(body)
    if (configuration_id is None) == (identifier is None):
        raise _invalid("Send one of credential_configuration_id and credential_identifier.")
    if not isinstance(identifier if configuration_id is None else configuration_id, str):
        raise _invalid("The credential's identifier must be a string.")
    if configuration_id is not None and configuration_id not in CONFIGURATIONS:
        raise OAuthError(
            400, "unknown_credential_configuration", "No such credential configuration."
        )
    return CredentialRequest(
        proof_jwt=_proof_jwt(body), configuration_id=configuration_id, identifier=identifier
    )


def _described_configuration(body: dict[str, Any]) -> str:
    """The configuration a draft-13 request describes by its format and types."""
    definition = body.get("credential_definition")
    types = definition.get("type") if isinstance(definition, dict) else None
    if body.get("format") == "ldp_vc" and isinstance(types, list):
        for configuration_id, (_, configured, _) in CONFIGURATIONS.items():
            if set(map(str, types)) == set(configured):
                return configuration_id
    raise OAuthError(400, "unknown_credential_configuration", "No such credential configuration.")


def _proof_jwt(body: dict[str, Any]) -> str:
    proofs, proof = body.get("proofs"), body.get("proof")
    if proofs is not None and proof is not None:
        raise _invalid("Send proofs or the older proof, not both.")
    if proofs is not None:
        if not isinstance(proofs, dict) or len(proofs) != 1:
            raise _invalid("proofs must hold exactly one proof type.")
        if not isinstance(proofs.get("jwt"), list) or not proofs["jwt"]:
            raise OAuthError(400, "invalid_proof", "Send the key proof as proofs.jwt.")
        jwts = proofs["jwt"]
    elif isinstance(proof, dict) and proof.get("proof_type") == "jwt":
        jwts = [proof.get("jwt")]
    else:
        raise OAuthError(400, "invalid_proof", "Send one key proof as proofs.jwt.")
    if len(jwts) != 1:
        raise _invalid("One credential per request: send exactly one jwt proof.")
    if not isinstance(jwts[0], str):
        raise OAuthError(400, "invalid_proof", "A jwt proof is a compact JWT string.")
    return str(jwts[0])


def authorization_details(form: dict[str, str], issuer: str) -> list[dict[str, Any]] | None:
    """The token response's `authorization_details` for those of the request (RFC 9396,
    OpenID4VCI 1.0 §6): one `openid_credential` entry naming a configuration of this issuer
    (and this issuer in `locations`, if any), given one credential identifier, the
    configuration's id, since a token takes the one offered credential. A configuration
    other than the offered one is refused at the credential endpoint, which knows the
    offer. None when the request sends none."""
    raw = form.get("authorization_details")
    if raw is None:
        return None
    try:
        details = json.loads(raw)
    except ValueError as exc:
        raise _refused_details("authorization_details is not JSON.") from exc
    if not isinstance(details, list) or len(details) != 1:
        raise _refused_details("An offer gives one credential: send one authorization detail.")
    [detail] = details
    if not isinstance(detail, dict) or detail.get("type") != CREDENTIAL_DETAILS:
        raise _refused_details(f"Only {CREDENTIAL_DETAILS} authorization details.")
    configuration_id = detail.get("credential_configuration_id")
    if configuration_id not in CONFIGURATIONS:
        raise _refused_details("No such credential configuration.")
    locations = detail.get("locations", [issuer])
    if not isinstance(locations, list) or issuer not in locations:
        raise _refused_details(f"locations must name {issuer}.")
    return [{**detail, "credential_identifiers": [configuration_id]}]


def _refused_details(description: str) -> OAuthError:
    return OAuthError(400, "invalid_authorization_details", description)


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
                for configuration_id, (contexts, types, name) in CONFIGURATIONS.items()
            },
        }

    @router.get(
        "/.well-known/oauth-authorization-server" + AUTHORIZATION_SERVER_PATH,
        summary="The wallets' authorization server metadata (RFC 8414)",
    )
    # Also where OpenID Connect Discovery puts it, appended to the issuer (RFC 8414 §5):
    # that is where Sphereon's client and other OIDC-minded wallets look.
    @router.get(
        AUTHORIZATION_SERVER_PATH + "/.well-known/oauth-authorization-server",
        include_in_schema=False,
    )
    async def authorization_server_metadata() -> dict[str, Any]:
        return {
            "issuer": authorization_server,
            "token_endpoint": f"{authorization_server}/token",
            "grant_types_supported": [PRE_AUTHORIZED_GRANT],
            "pre-authorized_grant_anonymous_access_supported": True,
            "token_endpoint_auth_methods_supported": ["none"],
            "response_types_supported": [],
            # The configurations have no scope, so a wallet that names one does it by
            # authorization_details (OpenID4VCI 1.0 §12.2.4, `scope`).
            "authorization_details_types_supported": [CREDENTIAL_DETAILS],
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
            # Read before the code is traded: a refused request spends nothing.
            details = authorization_details(form, issuer)
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
        body: dict[str, Any] = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": _TOKEN_LIFETIME_S,
        }
        if details is not None:
            body["authorization_details"] = details
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
            requested = credential_request(body)

            async def delivered(uow: IssuanceUnitOfWork) -> dict[str, Any]:
                signed = await service.deliver_to_holder(
                    uow, access_token, holder.nonce, holder.did
                )
                # Raised inside the unit of work: nothing is spent.
                offered = configuration_of(signed)
                if requested.configuration_id not in (None, offered):
                    raise OAuthError(
                        400, "unknown_credential_configuration", "Not the offered credential."
                    )
                if requested.identifier not in (None, offered):
                    raise OAuthError(
                        400, "unknown_credential_identifier", "Not the offered credential."
                    )
                return signed

            try:
                holder = holder_of(requested.proof_jwt, issuer)
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
