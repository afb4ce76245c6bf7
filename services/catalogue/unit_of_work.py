"""The catalogue's unit of work: its repositories over one transaction."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.catalogue.repository import EmittedVersions, OfferingRepository
from shared.db.uow import UnitOfWork


class CatalogueUnitOfWork(UnitOfWork):
    offerings: OfferingRepository
    emitted_versions: EmittedVersions

    def _open(self, session: AsyncSession) -> None:
        self.offerings = OfferingRepository(session)
        self.emitted_versions = EmittedVersions(session)
