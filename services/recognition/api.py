"""Recognition's HTTP API: what counts for a learner (pathways and recognition build on it)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.recognition.repository import CredentialLedger
from shared.auth import Learner


class CredentialView(BaseModel):
    credential_id: str
    offering_id: str | None
    pathway_id: str | None
    awarding_partner_id: str
    title: dict[str, str]
    ects: float
    eqf_level: int
    issued_at: datetime
    counts: bool
    revocation_reason: str | None


def build_router(sessions: async_sessionmaker[AsyncSession]) -> APIRouter:
    router = APIRouter(tags=["credentials"])

    @router.get("/credentials", summary="The caller's credentials, as recognition counts them")
    async def my_credentials(caller: Learner) -> list[CredentialView]:
        async with sessions() as session:
            held = await CredentialLedger(session).of_learner(str(caller.learner_id))
        return [
            CredentialView(
                credential_id=c.credential_id,
                offering_id=c.offering_id,
                pathway_id=c.pathway_id,
                awarding_partner_id=c.awarding_partner_id,
                title=c.title,
                ects=c.ects,
                eqf_level=c.eqf_level,
                issued_at=c.issued_at,
                counts=c.counts,
                revocation_reason=c.revocation_reason,
            )
            for c in held
        ]

    return router
