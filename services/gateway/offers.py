"""Taking a credential into a wallet: the learner asks for an offer of one of their
credentials and gets what their wallet page shows: a QR code of the offer's interaction URL,
from which a wallet picks OpenID4VCI or a VC API exchange (DCC's Learner Credential Wallet),
the `openid-credential-offer://` link itself, and the transaction code OpenID4VCI asks for.

Issuance makes the offer with the learner's own token, so it alone decides whose credential
may be offered; the offer is single-use and expires there.

The wallet page (`GET /me/wallet`) lists the learner's credentials with what they can do with
each. The gateway knows its callers by bearer token only (no cookie, no session), so a page
cannot make an authorised request by itself: it would have to carry the token in its HTML and
run a script with it. It does neither. It names each action as the request the learner's app
sends with the same token it opened the page with; asking for an offer with
`Accept: text/html` answers the offer as a page, QR code and all. Neither page runs a script.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import segno
from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from pydantic import BaseModel

from services.gateway.downstream import UPSTREAM_FAILURES, Downstream, authorization
from services.gateway.models import CredentialList, CredentialSummary
from services.gateway.presentation import (
    LABELS,
    PAGE_POLICY,
    PAGES,
    choose_language,
    labels,
)
from services.gateway.wallet import CredentialPath, LanguageQuery
from shared.auth import Learner
from shared.problems import Problem, problem_responses

HTML = "text/html"
# Personal pages (and a single-use code): nothing may keep a copy.
_PAGE_HEADERS = {"Cache-Control": "no-store", "Content-Security-Policy": PAGE_POLICY}
_PAGE_CONTENT: dict[str, Any] = {HTML: {"schema": {"type": "string"}}}


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


def accepted_weight(accept: str, media_type: str) -> float:
    """How much an `Accept` header wants `media_type`: the weight of its most specific
    matching range (`type/subtype`, then `type/*`, then `*/*`); 0 when none matches."""
    kind = media_type.split("/")[0]
    found: dict[str, float] = {}
    for part in accept.split(",")[:50]:
        name, *params = (piece.strip() for piece in part.split(";"))
        weight = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        found.setdefault(name.lower(), weight)
    for media_range in (media_type, f"{kind}/*", "*/*"):
        if media_range in found:
            return found[media_range]
    return 0.0


def prefers_html(accept: str | None) -> bool:
    """An HTML page only when the caller asks for it above JSON; JSON on a tie (`*/*`)."""
    header = accept or "*/*"
    return accepted_weight(header, HTML) > accepted_weight(header, "application/json")


def _language(request: Request, lang: str | None) -> str:
    """The viewer's language among those the pages speak, as the share page chooses it."""
    return choose_language(tuple(LABELS), lang, request.headers.get("accept-language"))


def _title(item: CredentialSummary, language: str) -> tuple[str, str]:
    """The credential's title in `language` if it carries it, else in its first language;
    with the language it is in."""
    titles = item.achievement.title
    base = language.split("-")[0]
    chosen = next(
        (tag for tag in titles if tag == language),
        next((tag for tag in titles if tag.split("-")[0] == base), next(iter(titles))),
    )
    return titles[chosen], chosen


def _page(template: str, language: str, **values: Any) -> str:
    return PAGES.get_template(template).render(lang=language, t=labels(language), **values)


def _headers(language: str, vary: str) -> dict[str, str]:
    return {**_PAGE_HEADERS, "Content-Language": language, "Vary": vary}


def build_offers_router(issuance: Downstream) -> APIRouter:
    router = APIRouter()

    @router.get(
        "/me/wallet",
        tags=["my wallet"],
        summary="My wallet as a page: my credentials and what I can do with each",
        description="An HTML page in my language (`?lang=`, else `Accept-Language`). Each "
        "action is named as the request my app sends with my token; the page holds no token "
        "and runs no script.",
        response_class=HTMLResponse,
        responses={
            200: {"content": _PAGE_CONTENT, "description": "The page"},
            **problem_responses(401, 403, 406, *UPSTREAM_FAILURES),
        },
    )
    async def wallet_page(request: Request, _: Learner, lang: LanguageQuery = None) -> Response:
        if accepted_weight(request.headers.get("accept") or "*/*", HTML) <= 0:
            raise Problem(406, "Not Acceptable", "The wallet is a page: accept text/html.")
        listed = await issuance.fetch("GET", "/credentials", authorization(request), CredentialList)
        language = _language(request, lang)
        items = [(item, *_title(item, language)) for item in listed.items]
        page = _page("wallet.html", language, items=items)
        return HTMLResponse(page, headers=_headers(language, "Accept-Language"))

    @router.post(
        "/me/credentials/{credential_id}/offer",
        tags=["my wallet"],
        summary="Take one of my credentials into my wallet (OpenID4VCI or VC API, QR code)",
        description="Scan the QR code (or open the link) with your wallet and type the "
        "transaction code if it asks for one. The offer works once, for a few minutes. "
        "JSON, or with `Accept: text/html` a page showing the QR code, the link, the code "
        "and the expiry.",
        status_code=201,
        response_model=WalletOffer,
        responses={
            201: {"content": _PAGE_CONTENT, "description": "The offer"},
            **problem_responses(401, 403, 404, 409, *UPSTREAM_FAILURES),
        },
    )
    async def offer(
        request: Request, _: Learner, credential_id: CredentialPath, lang: LanguageQuery = None
    ) -> WalletOffer | Response:
        issued = await issuance.fetch(
            "POST", f"/credentials/{credential_id}/offers", authorization(request), IssuedOffer
        )
        qr = segno.make(issued.interaction_url, error="m")
        if not prefers_html(request.headers.get("accept")):
            return WalletOffer(**issued.model_dump(), qr_code=qr.svg_data_uri(scale=4))
        language = _language(request, lang)
        svg = qr.svg_inline(scale=6, title=labels(language)["offer_scan"])
        page = _page(
            "offer.html",
            language,
            offer=issued,
            qr=Markup(svg),  # noqa: S704 (segno's own SVG, its title escaped)
            expires=issued.expires_at.astimezone(UTC),
        )
        return HTMLResponse(
            page, status_code=201, headers=_headers(language, "Accept, Accept-Language")
        )

    return router
