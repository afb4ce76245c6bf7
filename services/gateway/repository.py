"""Reads and writes the gateway's share links."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.gateway.tables import ShareLinkRecord


class ShareLinks:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, share: ShareLinkRecord) -> None:
        self._session.add(share)

    async def get(self, token: str) -> ShareLinkRecord | None:
        return await self._session.get(ShareLinkRecord, token)

    async def of_learner(self, learner_id: str) -> list[ShareLinkRecord]:
        query = (
            select(ShareLinkRecord)
            .where(ShareLinkRecord.learner_id == learner_id)
            .order_by(col(ShareLinkRecord.created_at).desc())
        )
        return list((await self._session.exec(query)).all())
