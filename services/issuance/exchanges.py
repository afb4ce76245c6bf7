"""The W3C CCG VC API exchange behind a credential offer's QR code: how DCC's Learner
Credential Wallet takes a learner's credential.

The QR code holds the offer's interaction URL. Read with `?iuv=1` it names the protocols a
wallet may use, the OpenID4VCI offer link and this exchange; a browser that opens it (a
phone's camera) gets a page with directions and the OpenID4VCI link instead, as the VC API
(VCALM) asks of a request that does not want JSON; without `iuv` it is sent on to that link.
The wallet posts `{}` to the exchange and is asked for `DIDAuthentication` with a
`challenge` and `domain`; it answers with a presentation signed by its did:key
(`authentication`: eddsa-rdfc-2022, or Ed25519Signature2020, the suite the Learner
Credential Wallet signs with), and gets the learner's credential issued again to that DID,
as OpenID4VCI gives it. The exchange shares the offer's life: it expires with it, and a
credential taken by either protocol closes both.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from services.issuance import application
from services.issuance.application import CredentialService
from services.issuance.domain import ProofRefused
from services.issuance.oid4vci import (
    INTERACTIONS_PATH,
    Holder,
    credential_offer,
    offer_link,
)
from services.issuance.unit_of_work import IssuanceUnitOfWork
from shared.credentials import did_key
from shared.credentials.did import (
    AUTHENTICATION,
    KeyResolutionError,
    KeyResolver,
    public_key_from_did_key,
)
from shared.credentials.loader import VC_V2
from shared.credentials.proof import (
    CRYPTOSUITE,
    ED25519_SIGNATURE_2020,
    PROOF_TYPE,
    SUITES,
    verify_presentation_proof,
)
from shared.db.uow import UnitOfWorkFactory, run_committed
from shared.problems import problem_responses

WORKFLOW = "wallet-delivery"
# Secrets made by `secrets.token_urlsafe(32)` and `derived_secret` (hex).
InteractionPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{32,64}$")]
ExchangePath = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]


if TYPE_CHECKING:
    from jinja2 import Template

# What a person who opened the QR code in a browser reads (VCALM: a request that does not
# want JSON gets directions in text/html).
_DIRECTIONS = """<!doctype html>
<html lang="en">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Take your credential into your wallet</title>
<h1>Take your credential into your wallet</h1>
<p>This QR code is for a digital wallet app. Scan it with your wallet (one that speaks
OpenID4VCI, or the Learner Credential Wallet), or open the offer on this device:
<a href="{{ link }}">open in your wallet app</a>.</p>
<p>When the wallet asks for a code, type the one shown beside the QR code.</p>
</html>
"""


@cache
def _directions() -> Template:
    # Jinja2 is imported when a browser first opens an interaction URL, not at start.
    from jinja2 import Environment

    return Environment(autoescape=True).from_string(_DIRECTIONS)


def exchange_url(issuer: str, exchange_id: str) -> str:
    return f"{issuer}/workflows/{WORKFLOW}/exchanges/{exchange_id}"


def presenter_of(presentation: Any, domain: str) -> Holder:
    """The holder's DID from a presentation whose one `authentication` proof (eddsa-rdfc-2022
    or Ed25519Signature2020), for `domain`, verifies with the did:key it names; its
    challenge as the nonce, checked against the exchange's by the caller. `ProofRefused`
    otherwise, saying what a wallet's developer needs to mend."""
    if not isinstance(presentation, dict) or "VerifiablePresentation" not in _list(
        presentation.get("type")
    ):
        raise ProofRefused("Send a VerifiablePresentation.")
    proof = presentation.get("proof")
    if not isinstance(proof, dict):
        raise ProofRefused("The presentation must carry one proof.")
    if (proof.get("type"), proof.get("cryptosuite")) not in SUITES[AUTHENTICATION]:
        raise ProofRefused(
            f"The proof must be a {PROOF_TYPE} with {CRYPTOSUITE} or {ED25519_SIGNATURE_2020}."
        )
    if proof.get("proofPurpose") != AUTHENTICATION:
        raise ProofRefused(f"The proof's purpose must be {AUTHENTICATION}.")
    if proof.get("domain") != domain:
        raise ProofRefused(f"The proof's domain must be {domain}.")
    challenge, method = proof.get("challenge"), proof.get("verificationMethod")
    if not isinstance(challenge, str):
        raise ProofRefused("The proof carries no challenge: post {} to the exchange for one.")
    if not isinstance(method, str) or not method.startswith("did:key:"):
        raise ProofRefused("The proof's verificationMethod must be a did:key DID URL.")
    try:
        holder = did_key(public_key_from_did_key(method))
    except KeyResolutionError as exc:
        raise ProofRefused("The proof's key cannot be read.") from exc
    if presentation.get("holder", holder) != holder:
        raise ProofRefused("The presentation's holder is not the key that signed it.")
    # The challenge is the exchange's to check (the caller's); the domain was checked above.
    result = verify_presentation_proof(presentation, KeyResolver(), challenge=None, domain=None)
    if not result.verified:
        raise ProofRefused(
            f"The presentation's proof does not verify with its key: {result.reason}."
        )
    return Holder(did=holder, nonce=challenge)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def build_exchanges_router(
    units_of_work: UnitOfWorkFactory[IssuanceUnitOfWork],
    service: CredentialService,
    credential_issuer: str,
) -> APIRouter:
    router = APIRouter(tags=["VC API exchanges"])
    issuer = credential_issuer.rstrip("/")

    @router.get(
        INTERACTIONS_PATH + "/{interaction}",
        summary="The protocols a wallet may take the offered credential by (iuv=1)",
        responses={
            **problem_responses(404, 409),
            303: {"description": "To the OpenID4VCI link"},
            200: {"content": {"text/html": {}}},
        },
        response_model=None,
    )
    async def interaction(
        request: Request, interaction: InteractionPath, iuv: Annotated[str | None, Query()] = None
    ) -> dict[str, Any] | RedirectResponse | HTMLResponse:
        async with units_of_work() as uow:
            found = await application.interaction_of(uow, interaction)
        link = offer_link(credential_offer(issuer, found.credential, found.pre_authorized_code))
        if iuv != "1":
            # A browser (a camera app) that opened the QR code: on to a wallet app.
            return RedirectResponse(link, status_code=303)
        if "text/html" in request.headers.get("accept", ""):
            return HTMLResponse(_directions().render(link=link))
        return {"protocols": {"OID4VCI": link, "vcapi": exchange_url(issuer, found.exchange_id)}}

    @router.post(
        f"/workflows/{WORKFLOW}/exchanges/{{exchange_id}}",
        summary="Take the offered credential by DID authentication (W3C CCG VC API exchange)",
        responses=problem_responses(404, 409, 422),
    )
    async def exchange(
        exchange_id: ExchangePath, body: Annotated[dict[str, Any], Body()]
    ) -> dict[str, Any]:
        if "verifiablePresentation" not in body:
            challenge = await run_committed(
                units_of_work, lambda uow: application.challenge_holder(uow, exchange_id)
            )
            return {
                "verifiablePresentationRequest": {
                    "query": [
                        {
                            "type": "DIDAuthentication",
                            "acceptedMethods": [{"method": "key"}],
                            "acceptedCryptosuites": [
                                {"cryptosuite": CRYPTOSUITE},
                                {"cryptosuite": ED25519_SIGNATURE_2020},
                            ],
                        }
                    ],
                    "challenge": challenge,
                    "domain": issuer,
                    "interact": {
                        "service": [
                            {
                                "type": "UnmediatedPresentationService2021",
                                "serviceEndpoint": exchange_url(issuer, exchange_id),
                            }
                        ]
                    },
                }
            }
        holder = presenter_of(body["verifiablePresentation"], issuer)
        signed = await run_committed(
            units_of_work,
            lambda uow: service.deliver_through_exchange(
                uow, exchange_id, holder.nonce, holder.did
            ),
        )
        return {
            "verifiablePresentation": {
                "@context": [VC_V2],
                "type": ["VerifiablePresentation"],
                "verifiableCredential": [signed],
            }
        }

    return router
