"""The learner's wallet: their credentials as issued, public share links they can withdraw,
readable pages and PDFs of what they share, and verification anyone can run.

The credentials are read from issuance with the learner's own token. A share link keeps the
credential as issuance returned it at that moment, so reading the link needs no standing
right to anyone's credentials (see `tables.ShareLinkRecord`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request, Response, status
from fastapi.responses import HTMLResponse, JSONResponse

from services.gateway.downstream import UPSTREAM_FAILURES, Downstream, authorization
from services.gateway.models import (
    CredentialList,
    IdentityCheck,
    IdentityMatch,
    ShareLink,
    ShareRequest,
    Verification,
)
from services.gateway.presentation import (
    PAGE_POLICY,
    Sharing,
    choose_language,
    credential_page,
    credential_pdf,
    essentials,
    languages_of,
    verification_page,
)
from services.gateway.shares import (
    SHARE_TOKEN,
    Shared,
    identity_matches,
    new_share,
    shared_document,
    shared_link,
    state_of,
    withdraw,
)
from services.gateway.tables import ShareLinkRecord
from services.gateway.unit_of_work import GatewayUnitOfWork
from services.gateway.verification import WalletVerifier
from shared.auth import Learner
from shared.clock import utc_now
from shared.credentials.jades import JADES_MEDIA_TYPE
from shared.credentials.pdf import MAX_PDF_BYTES, NoCredentialInPdf, credential_in_pdf, is_pdf
from shared.credentials.verifier import MAX_DOCUMENT_BYTES, VerificationReport
from shared.db.uow import UnitOfWorkFactory, run_committed
from shared.problems import Problem, problem_responses

JSON_LD = "application/ld+json"
PDF = "application/pdf"
CREDENTIAL_ID = r"^cred-[a-z0-9-]{4,64}$"
# A shared link must stop working the moment it is withdrawn: nothing may keep a copy.
_PUBLIC_HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
_PAGE_HEADERS = {**_PUBLIC_HEADERS, "Content-Security-Policy": PAGE_POLICY}

# Europass: a micro-credential as ELM v3, sealed (JAdES) by its issuer in issuance, which
# alone holds the partners' keys.
_EUROPASS: dict[int | str, dict[str, Any]] = {
    200: {"content": {JADES_MEDIA_TYPE: {}}, "description": "The sealed ELM v3 credential"}
}

CredentialPath = Annotated[str, Path(pattern=CREDENTIAL_ID)]
TokenPath = Annotated[str, Path(pattern=SHARE_TOKEN, description="The share link's token")]
LanguageQuery = Annotated[
    str | None,
    Query(
        pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$",
        description="The page's language, if the credential carries it; else "
        "`Accept-Language` decides, then the credential's own language.",
    ),
]


@dataclass(frozen=True)
class _Links:
    base: str

    def of(self, share: ShareLinkRecord) -> ShareLink:
        url = self.shared(share.token)
        return ShareLink(
            token=share.token,
            url=url,
            page_url=f"{url}/page",
            pdf_url=f"{url}/pdf",
            verify_url=self.verify(share.token),
            credential_id=share.credential_id,
            title=share.title,
            status=state_of(share, utc_now()).value,
            created_at=share.created_at,
            expires_at=share.expires_at,
            withdrawn_at=share.withdrawn_at,
        )

    def shared(self, token: str) -> str:
        return f"{self.base}/shared/{token}"

    def verify(self, token: str) -> str:
        return f"{self.base}/verify/{token}"


def build_wallet_router(
    issuance: Downstream,
    units_of_work: UnitOfWorkFactory[GatewayUnitOfWork],
    verifier: WalletVerifier,
    public_base_url: str,
) -> APIRouter:
    router = APIRouter()
    links = _Links(public_base_url.rstrip("/"))

    async def shared(token: str) -> str:
        async with units_of_work() as uow:
            return shared_document(await uow.share_links.get(token), utc_now())

    async def shared_and_verified(token: str) -> tuple[dict[str, Any], VerificationReport]:
        credential = json.loads(await shared(token))
        return credential, await verifier.verify(credential)

    async def presented(
        request: Request, token: str, lang: str | None
    ) -> tuple[Shared, dict[str, Any], VerificationReport, Sharing, str]:
        """A shared credential as its page and PDF show it: verified now, in the viewer's
        language."""
        async with units_of_work() as uow:
            link = shared_link(await uow.share_links.get(token), utc_now())
        credential = json.loads(link.document)
        report = await verifier.verify(credential)
        language = choose_language(
            languages_of(credential), lang, request.headers.get("accept-language")
        )
        url = links.shared(token)
        sharing = Sharing(
            verify_url=links.verify(token),
            links={"as_issued": url, "pdf": f"{url}/pdf?lang={language}",
                   "details": links.verify(token)},
            page_url=f"{url}/page",
            identity_check_url=f"{url}/identity-check",
            learner_name=link.learner_name,
            name_confirmed=link.learner_name is not None
            and identity_matches(credential, link.learner_name),
        )  # fmt: skip
        return link, credential, report, sharing, language

    @router.get(
        "/me/credentials",
        tags=["my wallet"],
        summary="My credentials",
        description="Micro-credentials and stacked credentials, valid, suspended or revoked.",
        responses=problem_responses(401, 403, *UPSTREAM_FAILURES),
    )
    async def my_credentials(request: Request, _: Learner) -> CredentialList:
        return await issuance.fetch("GET", "/credentials", authorization(request), CredentialList)

    @router.get(
        "/me/credentials/{credential_id}",
        tags=["my wallet"],
        summary="One of my credentials, exactly as issued (JSON-LD, signed)",
        response_class=Response,
        responses={
            200: {"content": {JSON_LD: {}}, "description": "The signed credential"},
            **problem_responses(401, 403, 404, 422, *UPSTREAM_FAILURES),
        },
    )
    async def my_credential(
        request: Request, _: Learner, credential_id: CredentialPath
    ) -> Response:
        answer = await issuance.call("GET", f"/credentials/{credential_id}", authorization(request))
        # The bytes as issuance sent them: any re-serialisation could break the proof.
        return Response(answer.content, media_type=JSON_LD)

    @router.get(
        "/me/credentials/{credential_id}/elm",
        tags=["my wallet"],
        summary="One of my micro-credentials for Europass: ELM v3, sealed by its issuer",
        description="A European Learning Model credential in the EDC profile, sealed with "
        "JAdES, to upload to Europass. Only a valid micro-credential is exported.",
        response_class=Response,
        responses={
            **_EUROPASS,
            **problem_responses(401, 403, 404, 409, 422, *UPSTREAM_FAILURES),
        },
    )
    async def my_elm(request: Request, _: Learner, credential_id: CredentialPath) -> Response:
        path = f"/credentials/{credential_id}/elm"
        answer = await issuance.call("GET", path, authorization(request))
        return _europass(answer.content, credential_id)

    @router.post(
        "/me/credentials/{credential_id}/share",
        tags=["my wallet"],
        status_code=status.HTTP_201_CREATED,
        summary="Share one of my credentials through a public link",
        description="Anyone with the link can read the credential, its page and PDF, and "
        "verify it, until I withdraw the link or it expires. With `identify_by`, the link "
        "holds a copy issued again with my token's verified e-mail address and/or name as "
        "salted hashes, which the link's identity check then confirms.",
        responses=problem_responses(400, 401, 403, 404, 409, 422, *UPSTREAM_FAILURES),
    )
    async def share(
        request: Request,
        caller: Learner,
        credential_id: CredentialPath,
        body: Annotated[ShareRequest | None, Body()] = None,
    ) -> ShareLink:
        path = f"/credentials/{credential_id}"
        if body and body.identify_by:
            # Issuance hashes the claims of the learner's own token into a copy signed now;
            # the gateway never sees them but inside that copy's hashes.
            answer = await issuance.call(
                "POST", f"{path}/identified", authorization(request),
                body={"identify_by": body.identify_by},
            )  # fmt: skip
        else:
            answer = await issuance.call("GET", path, authorization(request))
        document = answer.content.decode("utf-8", errors="strict")
        credential = json.loads(document)
        if not isinstance(credential, dict) or not isinstance(credential.get("name"), str):
            raise Problem(502, "Bad Gateway", "The issuance service gave no credential.")
        record = new_share(
            credential_id,
            str(caller.learner_id),
            credential["name"],
            document,
            utc_now(),
            body.expires_in_days if body else None,
            body.show_name if body else None,
        )

        async def add(uow: GatewayUnitOfWork) -> None:
            uow.share_links.add(record)

        await run_committed(units_of_work, add)
        return links.of(record)

    @router.get(
        "/me/shares",
        tags=["my wallet"],
        summary="My share links, newest first (withdrawn and expired ones too)",
        responses=problem_responses(401, 403),
    )
    async def my_shares(caller: Learner) -> list[ShareLink]:
        async with units_of_work() as uow:
            shares = await uow.share_links.of_learner(str(caller.learner_id))
            return [links.of(share) for share in shares]

    @router.delete(
        "/me/shares/{token}",
        tags=["my wallet"],
        summary="Withdraw a share link",
        description="The link then answers 410 Gone; the gateway's copy of the credential "
        "is erased. Withdrawing again changes nothing.",
        responses=problem_responses(401, 403, 404, 422),
    )
    async def withdraw_share(caller: Learner, token: TokenPath) -> ShareLink:

        async def withdrawn(uow: GatewayUnitOfWork) -> ShareLink:
            record = await uow.share_links.get(token)
            if record is None or record.learner_id != caller.learner_id:
                raise Problem(404, "Not found", "You have no such share link.")
            withdraw(record, utc_now())
            return links.of(record)

        return await run_committed(units_of_work, withdrawn)

    @router.get(
        "/shared/{token}",
        tags=["shared credentials"],
        summary="A shared credential, exactly as issued (public)",
        response_class=Response,
        responses={
            200: {"content": {JSON_LD: {}}, "description": "The signed credential"},
            **problem_responses(404, 410, 422),
        },
    )
    async def shared_credential(token: TokenPath) -> Response:
        document = await shared(token)
        return Response(document.encode("utf-8"), media_type=JSON_LD, headers=_PUBLIC_HEADERS)

    @router.get(
        "/shared/{token}/elm",
        tags=["shared credentials"],
        summary="A shared micro-credential for Europass: ELM v3, sealed by its issuer (public)",
        response_class=Response,
        responses={**_EUROPASS, **problem_responses(404, 409, 410, 422, *UPSTREAM_FAILURES)},
    )
    async def shared_elm(token: TokenPath) -> Response:
        async with units_of_work() as uow:
            share = await uow.share_links.get(token)
            document = shared_document(share, utc_now())
            assert share is not None  # shared_document refuses a missing link
            credential_id = share.credential_id
        # The credential as issued is the link's right to its export: no learner token.
        path = f"/credentials/{credential_id}/elm"
        answer = await issuance.call("POST", path, None, body=json.loads(document))
        return _europass(answer.content, credential_id, _PUBLIC_HEADERS)

    @router.get(
        "/shared/{token}/page",
        tags=["shared credentials"],
        summary="A shared credential as a readable page, with a QR code to its verification",
        response_class=HTMLResponse,
        responses=problem_responses(404, 410, 422, *UPSTREAM_FAILURES),
    )
    async def shared_page(
        request: Request, token: TokenPath, lang: LanguageQuery = None
    ) -> HTMLResponse:
        _, credential, report, sharing, language = await presented(request, token, lang)
        page = credential_page(essentials(credential, language), report, sharing)
        headers = {**_PAGE_HEADERS, "Content-Language": language, "Vary": "Accept-Language"}
        return HTMLResponse(page, headers=headers)

    @router.get(
        "/shared/{token}/pdf",
        tags=["shared credentials"],
        summary="A shared credential as a PDF, with a QR code to its verification",
        response_class=Response,
        responses={
            200: {"content": {PDF: {}}, "description": "The PDF"},
            **problem_responses(404, 410, 422, *UPSTREAM_FAILURES),
        },
    )
    async def shared_pdf(
        request: Request, token: TokenPath, lang: LanguageQuery = None
    ) -> Response:
        link, credential, report, sharing, language = await presented(request, token, lang)
        # The credential attached byte for byte as issued: its proof covers exactly that.
        pdf = credential_pdf(
            essentials(credential, language), report, sharing, link.document.encode("utf-8")
        )
        headers = {**_PUBLIC_HEADERS, "Content-Language": language, "Vary": "Accept-Language"}
        return Response(pdf, media_type=PDF, headers=headers)

    @router.post(
        "/shared/{token}/identity-check",
        tags=["shared credentials"],
        summary="Check a name or e-mail address the learner gave against the credential (public)",
        description="The credential identifies its learner by salted hashes only (Open "
        "Badges 3.0 `identifier`); the answer says whether the given name or address hashes "
        "to one of them, and nothing else.",
        responses=problem_responses(404, 410, 422),
    )
    async def identity_check(token: TokenPath, body: IdentityCheck) -> IdentityMatch:
        credential = json.loads(await shared(token))
        return IdentityMatch(match=identity_matches(credential, body.identity))

    @router.get(
        "/verify/{token}",
        tags=["verification"],
        summary="Verify a shared credential: each check's outcome, in order (public)",
        description="Structure, proof, validity dates, status, and whether the issuer is "
        "a partner in the alliance registry. JSON, or a readable page with "
        "`Accept: text/html`.",
        response_model=Verification,
        responses={
            200: {"content": {"text/html": {}}, "description": "The checks"},
            **problem_responses(404, 410, 422, *UPSTREAM_FAILURES),
        },
    )
    async def verify_shared(request: Request, token: TokenPath) -> Response:
        credential, report = await shared_and_verified(token)
        if "text/html" in request.headers.get("accept", ""):
            page = verification_page(essentials(credential).title, report)
            return HTMLResponse(page, headers=_PAGE_HEADERS)
        answer = Verification.model_validate(report.to_dict())
        return JSONResponse(answer.model_dump(mode="json"), headers=_PUBLIC_HEADERS)

    @router.post(
        "/verify",
        tags=["verification"],
        summary="Verify any credential: each check's outcome, in order (public)",
        description="The body is the credential (JSON), or a PDF carrying it as an attached "
        "file (as the share links' PDFs do): the attached credential is verified. DID "
        "documents and status lists are read only where the alliance's issuance service "
        "publishes them.",
        responses=problem_responses(400, 413),
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"type": "object"}},
                    PDF: {"schema": {"type": "string", "format": "binary"}},
                },
            }
        },
    )
    async def verify_any(request: Request) -> Verification:
        body = await request.body()
        if is_pdf(body):
            try:
                credential = credential_in_pdf(body)
            except NoCredentialInPdf as exc:
                status_code = 413 if len(body) > MAX_PDF_BYTES else 400
                title = "Content Too Large" if status_code == 413 else "Bad request"
                raise Problem(status_code, title, str(exc)) from exc
            return Verification.model_validate((await verifier.verify(credential)).to_dict())
        if len(body) > MAX_DOCUMENT_BYTES:
            raise Problem(413, "Content Too Large", "A credential is at most 1 MiB.")
        try:
            credential = json.loads(body)
        except ValueError as exc:
            raise Problem(400, "Bad request", "The body is not JSON.") from exc
        return Verification.model_validate((await verifier.verify(credential)).to_dict())

    return router


def _europass(sealed: bytes, credential_id: str, headers: dict[str, str] | None = None) -> Response:
    """The sealed export as issuance made it (re-serialising would break the seal), as a
    file to upload to Europass."""
    disposition = f'attachment; filename="{credential_id}-europass.json"'
    return Response(
        sealed,
        media_type=JADES_MEDIA_TYPE,
        headers={**(headers or {}), "Content-Disposition": disposition},
    )
