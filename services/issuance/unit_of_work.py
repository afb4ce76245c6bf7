"""Issuance's unit of work: its repositories over one transaction."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.issuance.repository import (
    CredentialOffers,
    Credentials,
    OfferingTermsRepository,
    ProofNonces,
    StatusLists,
)
from shared.db.uow import UnitOfWork


class IssuanceUnitOfWork(UnitOfWork):
    offering_terms: OfferingTermsRepository
    credentials: Credentials
    status_lists: StatusLists
    credential_offers: CredentialOffers
    proof_nonces: ProofNonces

    def _open(self, session: AsyncSession) -> None:
        self.offering_terms = OfferingTermsRepository(session)
        self.credentials = Credentials(session)
        self.status_lists = StatusLists(session, self.credentials)
        self.credential_offers = CredentialOffers(session)
        self.proof_nonces = ProofNonces(session)

    async def _write_kept(self) -> None:
        await self.credentials.write_kept()
