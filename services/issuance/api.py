"""Issuance's HTTP API: the partners' DID documents and status lists (public), the learner's
own credentials, revocation, suspension and reinstatement by the awarding partner's staff,
and the W3C VC API
(`/credentials/issue` for partners, `/credentials/verify` and `/presentations/verify` for
anyone)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.issuance import application
from services.issuance.application import CredentialService
from services.issuance.domain import Credential, NotIssuable, Status
from services.issuance.keys import UnknownPartnerKey
from services.issuance.unit_of_work import IssuanceUnitOfWork
from services.issuance.verification import CredentialVerifier
from shared.auth import IdentityClaim, Learner, PartnerCaller, PartnerStaff, Principal
from shared.credentials.data_model import InvalidCredential
from shared.credentials.status_list import PURPOSES
from shared.credentials.verifier import vc_api_response
from shared.db.uow import UnitOfWorkFactory, run_committed
from shared.events import AchievementSummary, RevocationReason
from shared.events.vocabulary import CredentialId, PartnerId, Payload, Text
from shared.problems import Problem, problem_responses

JSON_LD = "application/ld+json"
DID_JSON = "application/did+json"
CredentialPath = Annotated[str, Path(pattern=r"^cred-[a-z0-9-]{4,64}$")]
PartnerPath = Annotated[str, Path(pattern=r"^[a-z][a-z0-9-]{1,31}$")]


class CredentialSummary(BaseModel):
    credential_id: str
    kind: Literal["offering", "pathway"]
    offering_id: str | None
    pathway_id: str | None
    achievement: AchievementSummary
    awarding_partner_id: str
    issuing_partner_id: str
    issued_at: datetime
    status: Status
    revoked_at: datetime | None
    suspended_at: datetime | None = None
    url: str


class CredentialList(BaseModel):
    items: list[CredentialSummary]


class RevocationRequest(Payload):
    reason: RevocationReason
    detail: Text | None = None


class RevocationView(BaseModel):
    credential_id: CredentialId
    reason: str
    revoked_at: datetime


class SuspensionRequest(Payload):
    detail: Text | None = None


class SuspensionView(BaseModel):
    credential_id: CredentialId
    status: Literal["suspended", "valid"]
    suspended_at: datetime | None


class IdentifyRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"identify_by": ["email"]}, {"identify_by": ["email", "name"]}]
        },
    )

    identify_by: list[IdentityClaim] = Field(
        min_length=1,
        max_length=2,
        description="The claims of my token (a verified `email`, my `name`) to hash into the "
        "copy, each with a fresh salt; the values themselves are kept nowhere.",
    )


def _summary(service: CredentialService, credential: Credential) -> CredentialSummary:
    return CredentialSummary(
        credential_id=credential.credential_id,
        kind="pathway" if credential.pathway_id else "offering",
        offering_id=credential.offering_id,
        pathway_id=credential.pathway_id,
        achievement=credential.achievement,
        awarding_partner_id=credential.awarding_partner_id,
        issuing_partner_id=credential.issuer_partner_id,
        issued_at=credential.issued_at,
        status=credential.status,
        revoked_at=credential.revoked_at,
        suspended_at=credential.suspended_at,
        url=service.credential_url(credential.credential_id),
    )


def _vc_api_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


async def _read_vc_api_body(request: Request, field: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The VC API body's `field` and `options`; malformed input is a 400, as the VC API
    specifies."""
    try:
        body = json.loads(await request.body())
    except ValueError as exc:
        raise Problem(400, "Bad request", "The body is not JSON.") from exc
    if not isinstance(body, dict) or not isinstance(body.get(field), dict):
        raise Problem(400, "Bad request", f"The body must be an object with `{field}` object.")
    options = body.get("options", {})
    if not isinstance(options, dict):
        raise Problem(400, "Bad request", "`options` must be an object.")
    value: dict[str, Any] = body[field]
    return value, options


def build_router(
    units_of_work: UnitOfWorkFactory[IssuanceUnitOfWork],
    service: CredentialService,
    verifier: CredentialVerifier,
) -> APIRouter:
    router = APIRouter()

    @router.get(
        "/partners/{partner_id}/did.json",
        tags=["DIDs"],
        summary="A partner's did:web document: every credential key it has used, newest first",
        responses={
            200: {"content": {DID_JSON: {}}, "description": "The DID document"},
            **problem_responses(404),
        },
    )
    async def did_document(partner_id: PartnerPath) -> JSONResponse:
        try:
            document = service.keys.did_document(partner_id)
        except UnknownPartnerKey as exc:
            raise Problem(404, "Not found", "No such partner issues credentials here.") from exc
        return JSONResponse(document, media_type=DID_JSON)

    @router.get(
        "/status/{partner_id}/{purpose}",
        tags=["status lists"],
        summary="A partner's signed Bitstring Status List credential (public)",
        responses={
            200: {"content": {JSON_LD: {}}, "description": "The signed status list"},
            **problem_responses(404),
        },
    )
    async def status_list(partner_id: PartnerPath, purpose: str) -> JSONResponse:
        if purpose not in PURPOSES or partner_id not in service.keys.partners:
            raise Problem(404, "Not found", "No such status list.")
        # Reading may sign the list again, and keeps what it signed.
        signed = await run_committed(
            units_of_work, lambda uow: service.signed_status_list(uow, partner_id, purpose)
        )
        return JSONResponse(signed, media_type=JSON_LD)

    @router.get(
        "/credentials",
        tags=["credentials"],
        summary="The caller's own credentials",
        responses=problem_responses(401, 403),
    )
    async def my_credentials(caller: Learner) -> CredentialList:
        async with units_of_work() as uow:
            credentials = await uow.credentials.of_learner(str(caller.learner_id))
        return CredentialList(items=[_summary(service, c) for c in credentials])

    @router.get(
        "/credentials/{credential_id}",
        tags=["credentials"],
        summary="One of the caller's credentials, exactly as issued (JSON-LD)",
        responses={
            200: {"content": {JSON_LD: {}}, "description": "The signed credential"},
            **problem_responses(401, 403, 404),
        },
    )
    async def my_credential(credential_id: CredentialPath, caller: Learner) -> Response:
        async with units_of_work() as uow:
            credential = await application.learners_credential(
                uow, credential_id, str(caller.learner_id)
            )
        # The stored text is returned as is: the credential as it was signed.
        return Response(credential.document, media_type=JSON_LD)

    @router.post(
        "/credentials/{credential_id}/identified",
        tags=["credentials"],
        summary="One of the caller's credentials issued again, identifying them by e-mail or name",
        description="The credential exactly as issued (same id, achievement and status "
        "entries, so revocation and suspension still apply), signed now by its issuer, with "
        "the caller's verified e-mail address and/or name from their token added as salted "
        "hashes (Open Badges 3.0 `IdentityObject`s). A verifier the learner tells their "
        "address or name can then check it against the credential. Nothing is stored.",
        responses={
            200: {"content": {JSON_LD: {}}, "description": "The signed, identified copy"},
            **problem_responses(401, 403, 404, 409, 422),
        },
    )
    async def identified(
        credential_id: CredentialPath, request: IdentifyRequest, caller: Learner
    ) -> JSONResponse:
        claims: dict[str, str | None] = {
            claim: caller.identity_claim(claim) for claim in request.identify_by
        }
        async with units_of_work() as uow:
            copy = await service.identified_copy(uow, credential_id, str(caller.learner_id), claims)
        return JSONResponse(copy, media_type=JSON_LD)

    @router.post(
        "/credentials/{credential_id}/revoke",
        tags=["credentials"],
        summary="Revoke a credential for good (staff of its awarding partner)",
        responses=problem_responses(401, 403, 404, 422),
    )
    async def revoke(
        credential_id: CredentialPath, request: RevocationRequest, caller: PartnerStaff
    ) -> RevocationView:
        # Staff (see `PartnerStaff`) decide for their own partner only.
        revocation = await run_committed(
            units_of_work,
            lambda uow: application.revoke_awarded(
                uow, credential_id, str(caller.partner_id), request.reason, request.detail
            ),
        )
        return RevocationView(
            credential_id=revocation.credential_id,
            reason=revocation.reason,
            revoked_at=revocation.revoked_at,
        )

    @router.post(
        "/credentials/{credential_id}/suspend",
        tags=["credentials"],
        summary="Suspend a credential until it is reinstated (staff of its awarding partner)",
        responses=problem_responses(401, 403, 404, 409, 422),
    )
    async def suspend(
        credential_id: CredentialPath, request: SuspensionRequest, caller: PartnerStaff
    ) -> SuspensionView:
        return await change_suspension(credential_id, request, caller, application.suspend_awarded)

    @router.post(
        "/credentials/{credential_id}/reinstate",
        tags=["credentials"],
        summary="Reinstate a suspended credential (staff of its awarding partner)",
        responses=problem_responses(401, 403, 404, 409, 422),
    )
    async def reinstate(
        credential_id: CredentialPath, request: SuspensionRequest, caller: PartnerStaff
    ) -> SuspensionView:
        return await change_suspension(
            credential_id, request, caller, application.reinstate_awarded
        )

    async def change_suspension(
        credential_id: str,
        request: SuspensionRequest,
        caller: Principal,
        change: Callable[[IssuanceUnitOfWork, str, str, str | None], Awaitable[Credential]],
    ) -> SuspensionView:
        credential = await run_committed(
            units_of_work,
            lambda uow: change(uow, credential_id, str(caller.partner_id), request.detail),
        )
        return SuspensionView(
            credential_id=credential.credential_id,
            status="suspended" if credential.suspended_at else "valid",
            suspended_at=credential.suspended_at,
        )

    @router.post(
        "/credentials/issue",
        tags=["VC API"],
        summary="Issue a credential in the calling partner's own name (W3C VC API)",
        status_code=201,
        responses=problem_responses(400, 401, 403),
        openapi_extra=_vc_api_body(
            {
                "type": "object",
                "required": ["credential"],
                "properties": {"credential": {"type": "object"}, "options": {"type": "object"}},
            }
        ),
    )
    async def issue(request: Request, caller: PartnerCaller) -> JSONResponse:
        credential, _ = await _read_vc_api_body(request, "credential")
        partner_id: PartnerId = str(caller.partner_id)
        if partner_id not in service.keys.partners:
            raise Problem(403, "Forbidden", "No credential key is held for your institution.")
        try:
            signed = await run_committed(
                units_of_work, lambda uow: service.issue_document(uow, partner_id, credential)
            )
        except InvalidCredential as exc:
            # The problem names the rule and links where the data model states it.
            raise Problem(400, "Invalid credential", str(exc), type_=exc.url) from exc
        except NotIssuable as exc:
            # The VC API answers 400 to a credential it will not issue.
            raise Problem(400, "Bad request", str(exc)) from exc
        return JSONResponse({"verifiableCredential": signed}, status_code=201)

    @router.post(
        "/credentials/verify",
        tags=["VC API"],
        summary="Verify a credential: proof, dates, status and alliance trust (W3C VC API)",
        responses={
            400: {"description": "Not verified: the body lists the errors"},
        },
        openapi_extra=_vc_api_body(
            {
                "type": "object",
                "required": ["verifiableCredential"],
                "properties": {
                    "verifiableCredential": {"type": "object"},
                    "options": {"type": "object"},
                },
            }
        ),
    )
    async def verify(request: Request) -> JSONResponse:
        credential, options = await _read_vc_api_body(request, "verifiableCredential")
        checks = options.get("checks")
        if checks is not None and not (
            isinstance(checks, list) and all(isinstance(name, str) for name in checks)
        ):
            raise Problem(400, "Bad request", "`options.checks` must be a list of check names.")
        report = await verifier.verify(credential)
        try:
            body = vc_api_response(report, checks)
        except ValueError as exc:
            raise Problem(400, "Bad request", f"options.checks: {exc}") from exc
        # VC API test suites expect a credential that fails verification to be refused.
        return JSONResponse(body, status_code=200 if not body["errors"] else 400)

    @router.post(
        "/presentations/verify",
        tags=["VC API"],
        summary="Verify a presentation: its holder's proof for your challenge and domain, "
        "then each credential in it (W3C VC API)",
        responses={
            400: {"description": "Not verified: the body lists the errors"},
        },
        openapi_extra=_vc_api_body(
            {
                "type": "object",
                "required": ["verifiablePresentation"],
                "properties": {
                    "verifiablePresentation": {"type": "object"},
                    "options": {
                        "type": "object",
                        "properties": {
                            "challenge": {"type": "string"},
                            "domain": {"type": "string"},
                        },
                    },
                },
            }
        ),
    )
    async def verify_presentation(request: Request) -> JSONResponse:
        presentation, options = await _read_vc_api_body(request, "verifiablePresentation")
        challenge, domain = options.get("challenge"), options.get("domain")
        if not all(value is None or isinstance(value, str) for value in (challenge, domain)):
            raise Problem(400, "Bad request", "`options.challenge` and `domain` are strings.")
        report = await verifier.verify_presentation(presentation, challenge, domain)
        body = report.vc_api()
        return JSONResponse(body, status_code=200 if body["verified"] else 400)

    return router
