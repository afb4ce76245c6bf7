"""Enrolment's unit of work: its repositories over one transaction."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.enrolment.repository import (
    EarnedCredentialRepository,
    EnrolmentRepository,
    OfferingRepository,
)
from shared.db.uow import UnitOfWork


class EnrolmentUnitOfWork(UnitOfWork):
    offerings: OfferingRepository
    enrolments: EnrolmentRepository
    earned_credentials: EarnedCredentialRepository

    def _open(self, session: AsyncSession) -> None:
        self.offerings = OfferingRepository(session)
        self.earned_credentials = EarnedCredentialRepository(session)
        self.enrolments = EnrolmentRepository(session, self.offerings, self.earned_credentials)

    async def _write_kept(self) -> None:
        await self.earned_credentials.write_issued()
