"""Taking a credential into a wallet: the learner asks for an offer of one of their
credentials and gets what their wallet page shows: a QR code of the offer's interaction URL,
from which a wallet picks OpenID4VCI or a VC API exchange (DCC's Learner Credential Wallet),
the `openid-credential-offer://` link itself, and the transaction code OpenID4VCI asks for.

Issuance makes the offer with the learner's own token, so it alone decides whose credential
may be offered; the offer is single-use and expires there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import segno
from fastapi import APIRouter, Request
from pydantic import BaseModel

from services.gateway.downstream import UPSTREAM_FAILURES, Downstream, authorization
from services.gateway.wallet import CredentialPath
from shared.auth import Learner
from shared.problems import problem_responses


class IssuedOffer(BaseModel):
    """Issuance's answer: the offer, as an object and as a link, the interaction URL that
    names both protocols, and the offer's transaction code."""

    credential_offer: dict[str, Any]
    offer_link: str
    interaction_url: str
    tx_code: str
    expires_at: datetime


class WalletOffer(IssuedOffer):
    # An SVG data URI of the interaction URL: the QR code a wallet scans, ready for an <img>.
    qr_code: str


def build_offers_router(issuance: Downstream) -> APIRouter:
    router = APIRouter()

    @router.post(
        "/me/credentials/{credential_id}/offer",
        tags=["my wallet"],
        summary="Take one of my credentials into my wallet (OpenID4VCI or VC API, QR code)",
        description="Scan the QR code (or open the link) with your wallet and type the "
        "transaction code if it asks for one. The offer works once, for a few minutes.",
        status_code=201,
        responses=problem_responses(401, 403, 404, 409, *UPSTREAM_FAILURES),
    )
    async def offer(request: Request, _: Learner, credential_id: CredentialPath) -> WalletOffer:
        issued = await issuance.fetch(
            "POST", f"/credentials/{credential_id}/offers", authorization(request), IssuedOffer
        )
        qr_code = segno.make(issued.interaction_url, error="m").svg_data_uri(scale=4)
        return WalletOffer(**issued.model_dump(), qr_code=qr_code)

    return router
