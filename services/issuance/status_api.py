"""A credential's current status, for whoever holds it: the gateway asks it when a shared
credential is viewed or verified.

Open Badges 3.0 and CLR 2.0 allow one `credentialStatus`, so the alliance's badges carry only
their revocation entry and no status list can tell a verifier that one is suspended. This
route can. It asks for no token but the credential itself, exactly as issued: whoever holds
a credential may read its status lists anyway, while a credential id alone (it appears in
URLs and logs) tells nothing, since an unknown id and a document other than the one issued
both answer 404.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from pydantic import BaseModel

from services.issuance import application
from services.issuance.api import CredentialPath
from services.issuance.domain import Status
from services.issuance.unit_of_work import IssuanceUnitOfWork
from shared.db.uow import UnitOfWorkFactory
from shared.events.vocabulary import CredentialId
from shared.problems import problem_responses


class CurrentStatus(BaseModel):
    credential_id: CredentialId
    status: Status


def build_status_router(units_of_work: UnitOfWorkFactory[IssuanceUnitOfWork]) -> APIRouter:
    router = APIRouter()

    @router.post(
        "/credentials/{credential_id}/current-status",
        tags=["credentials"],
        summary="A credential's status now: valid, suspended or revoked (for its holder)",
        description="The body is the credential exactly as issued. Answers suspension too "
        "for a badge, whose only status entry is its revocation.",
        responses=problem_responses(404, 422),
    )
    async def current_status(
        credential_id: CredentialPath,
        held: Annotated[dict[str, Any], Body(description="The credential, as issued")],
    ) -> CurrentStatus:
        async with units_of_work() as uow:
            credential = await application.held_credential(uow, credential_id, held)
        return CurrentStatus(credential_id=credential_id, status=credential.status)

    return router
