"""The assessment service's unit of work: its repositories over one transaction."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.assessment.repository import (
    EnrolmentRepository,
    OfferingRepository,
    ResultRepository,
)
from shared.db.uow import UnitOfWork


class AssessmentUnitOfWork(UnitOfWork):
    offerings: OfferingRepository
    enrolments: EnrolmentRepository
    results: ResultRepository

    def _open(self, session: AsyncSession) -> None:
        self.offerings = OfferingRepository(session)
        self.enrolments = EnrolmentRepository(session)
        self.results = ResultRepository(session, self.offerings, self.enrolments)

    async def _write_kept(self) -> None:
        await self.enrolments.write_kept()
        await self.results.write_kept()
