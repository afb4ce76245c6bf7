"""Taking a credential into a wallet: the learner asks for an OpenID4VCI offer of one of
their credentials and gets what their wallet page shows, a QR code of the
`openid-credential-offer://` link and the transaction code to type into the wallet.

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
    """Issuance's answer: the offer, as an object and as a link, and its transaction code."""

    credential_offer: dict[str, Any]
    offer_link: str
    tx_code: str
    expires_at: datetime


class WalletOffer(IssuedOffer):
    # An SVG data URI of the link: the QR code a wallet scans, ready for an <img src>.
    qr_code: str


def build_offers_router(issuance: Downstream) -> APIRouter:
    router = APIRouter()

    @router.post(
        "/me/credentials/{credential_id}/offer",
        tags=["my wallet"],
        summary="Take one of my credentials into my wallet (OpenID4VCI offer, QR code)",
        description="Scan the QR code (or open the link) with your wallet and type the "
        "transaction code it asks for. The offer works once, for a few minutes.",
        status_code=201,
        responses=problem_responses(401, 403, 404, 409, *UPSTREAM_FAILURES),
    )
    async def offer(request: Request, _: Learner, credential_id: CredentialPath) -> WalletOffer:
        issued = await issuance.fetch(
            "POST", f"/credentials/{credential_id}/offers", authorization(request), IssuedOffer
        )
        qr_code = segno.make(issued.offer_link, error="m").svg_data_uri(scale=4)
        return WalletOffer(**issued.model_dump(), qr_code=qr_code)

    return router
