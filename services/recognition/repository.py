"""Reads and writes the learners' credential ledger."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.recognition.domain import HeldCredential
from services.recognition.tables import CredentialRecord


def _held(record: CredentialRecord) -> HeldCredential:
    return HeldCredential(
        credential_id=record.credential_id,
        learner_id=record.learner_id,
        offering_id=record.offering_id,
        pathway_id=record.pathway_id,
        awarding_partner_id=record.awarding_partner_id,
        ects=record.ects,
        eqf_level=record.eqf_level,
        title=json.loads(record.title),
        issued_at=record.issued_at,
        revoked_at=record.revoked_at,
        revocation_reason=record.revocation_reason,
    )


class CredentialLedger:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, credential: HeldCredential) -> None:
        if await self._session.get(CredentialRecord, credential.credential_id) is not None:
            return  # already known: issuance announced it once more
        self._session.add(
            CredentialRecord(
                credential_id=credential.credential_id,
                learner_id=credential.learner_id,
                offering_id=credential.offering_id,
                pathway_id=credential.pathway_id,
                awarding_partner_id=credential.awarding_partner_id,
                ects=credential.ects,
                eqf_level=credential.eqf_level,
                title=json.dumps(credential.title, ensure_ascii=False),
                issued_at=credential.issued_at,
            )
        )

    async def revoke(self, credential_id: str, reason: str, at: datetime) -> bool:
        """Marks a credential revoked; False when the ledger does not know it."""
        record = await self._session.get(CredentialRecord, credential_id)
        if record is None:
            return False
        if record.revoked_at is None:
            record.revoked_at = at
            record.revocation_reason = reason
            self._session.add(record)
        return True

    async def of_learner(self, learner_id: str) -> Sequence[HeldCredential]:
        rows = await self._session.exec(
            select(CredentialRecord)
            .where(col(CredentialRecord.learner_id) == learner_id)
            .order_by(col(CredentialRecord.issued_at))
        )
        return [_held(r) for r in rows.all()]
