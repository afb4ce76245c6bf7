"""The gateway's unit of work: its share links over one transaction."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.gateway.repository import ShareLinks
from shared.db.uow import UnitOfWork


class GatewayUnitOfWork(UnitOfWork):
    share_links: ShareLinks

    def _open(self, session: AsyncSession) -> None:
        self.share_links = ShareLinks(session)
