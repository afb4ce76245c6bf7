"""Reads and writes of issued credentials and status lists."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from services.issuance.tables import CredentialComponent, CredentialRecord, StatusListRecord
from shared.clock import utc_now
from shared.credentials import new_status_list, random_status_index


class Credentials:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, credential_id: str) -> CredentialRecord | None:
        return await self._session.get(CredentialRecord, credential_id)

    async def for_enrolment(self, enrolment_id: str) -> list[CredentialRecord]:
        rows = await self._session.exec(
            select(CredentialRecord).where(col(CredentialRecord.enrolment_id) == enrolment_id)
        )
        return list(rows.all())

    async def current_for_pathway(
        self, learner_id: str, pathway_id: str
    ) -> CredentialRecord | None:
        rows = await self._session.exec(
            select(CredentialRecord).where(
                col(CredentialRecord.learner_id) == learner_id,
                col(CredentialRecord.pathway_id) == pathway_id,
                col(CredentialRecord.revoked_at).is_(None),
            )
        )
        return rows.first()

    async def of_learner(self, learner_id: str) -> list[CredentialRecord]:
        rows = await self._session.exec(
            select(CredentialRecord)
            .where(col(CredentialRecord.learner_id) == learner_id)
            .order_by(col(CredentialRecord.issued_at))
        )
        return list(rows.all())

    async def components_of(self, stacked_credential_id: str) -> set[str]:
        rows = await self._session.exec(
            select(CredentialComponent.component_credential_id).where(
                col(CredentialComponent.stacked_credential_id) == stacked_credential_id
            )
        )
        return set(rows.all())

    async def free_status_index(self, issuer_partner_id: str) -> int:
        """A random index of the issuer's list no credential has had (the unique constraint
        catches two issuances drawing the same one at once)."""
        used = await self._session.exec(
            select(CredentialRecord.status_list_index).where(
                col(CredentialRecord.issuer_partner_id) == issuer_partner_id
            )
        )
        return random_status_index(set(used.all()))

    def add(self, credential: CredentialRecord, components: tuple[str, ...] = ()) -> None:
        self._session.add(credential)
        for component in components:
            self._session.add(
                CredentialComponent(
                    stacked_credential_id=credential.credential_id,
                    component_credential_id=component,
                )
            )


class StatusLists:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(
        self, issuer_partner_id: str, purpose: str, *, for_update: bool = False
    ) -> StatusListRecord:
        """The issuer's list for `purpose`, created empty the first time it is needed."""
        query = select(StatusListRecord).where(
            col(StatusListRecord.issuer_partner_id) == issuer_partner_id,
            col(StatusListRecord.purpose) == purpose,
        )
        if for_update:
            # Two changes at once must not both write the bits they read.
            query = query.with_for_update()
        found = (await self._session.exec(query)).first()
        if found is not None:
            return found
        created = StatusListRecord(
            issuer_partner_id=issuer_partner_id,
            purpose=purpose,
            bits=bytes(new_status_list()),
            changed_at=utc_now(),
        )
        try:
            async with self._session.begin_nested():
                self._session.add(created)
        except IntegrityError:
            # Created at the same moment by another transaction: use that one.
            return (await self._session.exec(query)).one()
        return created

    async def cache_signed(
        self, issuer_partner_id: str, purpose: str, read_at_change: datetime, signed: str
    ) -> None:
        """Keeps the signed list unless a bit changed since it was read."""
        await self._session.exec(
            update(StatusListRecord)
            .where(
                col(StatusListRecord.issuer_partner_id) == issuer_partner_id,
                col(StatusListRecord.purpose) == purpose,
                col(StatusListRecord.changed_at) == read_at_change,
            )
            .values(signed=signed)
        )
