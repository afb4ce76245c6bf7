"""Reads and writes of offering terms, issued credentials and status lists, as the domain's
objects."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from services.issuance.domain import Credential, CredentialOffer, OfferingTerms, StatusList
from services.issuance.tables import (
    CredentialComponent,
    CredentialOfferRecord,
    CredentialRecord,
    OfferingTermsRecord,
    ProofNonceRecord,
    StatusListRecord,
)
from shared.clock import utc_now
from shared.credentials import new_status_list, random_status_index
from shared.events import AchievementSummary, OfferingSnapshot

# Random indexes looked up per issuance: with the list a tenth full, all eight are taken
# once in a hundred million issuances (then every used index is read).
STATUS_INDEX_CANDIDATES = 8


class OfferingTermsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, offering_id: str) -> OfferingTerms | None:
        record = await self._session.get(OfferingTermsRecord, offering_id)
        if record is None:
            return None
        # Kept as published or updated; the snapshot is the part both share.
        published = json.loads(record.snapshot)
        snapshot = OfferingSnapshot.model_validate(
            {key: value for key, value in published.items() if key in OfferingSnapshot.model_fields}
        )
        return OfferingTerms(
            record.offering_id, record.partner_id, record.version, snapshot, record.withdrawn
        )

    async def save(self, terms: OfferingTerms) -> None:
        record = await self._session.get(OfferingTermsRecord, terms.offering_id)
        fields = {
            "version": terms.version,
            "withdrawn": terms.withdrawn,
            "snapshot": terms.snapshot.model_dump_json(exclude_none=True),
            "changed_at": utc_now(),
        }
        if record is None:
            record = OfferingTermsRecord.model_validate(
                {"offering_id": terms.offering_id, "partner_id": terms.partner_id, **fields}
            )
        else:
            record.sqlmodel_update(fields)
        self._session.add(record)


def _credential(record: CredentialRecord) -> Credential:
    return Credential(
        credential_id=record.credential_id,
        basis=record.basis,
        issuer_partner_id=record.issuer_partner_id,
        awarding_partner_id=record.awarding_partner_id,
        status_list_index=record.status_list_index,
        document=record.document,
        issued_at=record.issued_at,
        learner_id=record.learner_id,
        offering_id=record.offering_id,
        enrolment_id=record.enrolment_id,
        result_id=record.result_id,
        pathway_id=record.pathway_id,
        summary=(
            AchievementSummary.model_validate_json(record.summary) if record.summary else None
        ),
        revoked_at=record.revoked_at,
        revocation_reason=record.revocation_reason,
        suspended_at=record.suspended_at,
    )


class Credentials:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, credential_id: str) -> Credential | None:
        record = await self._session.get(CredentialRecord, credential_id)
        return _credential(record) if record else None

    async def for_enrolment(self, enrolment_id: str, learner_id: str) -> list[Credential]:
        """Every credential issued for the enrolment, revoked ones too. An enrolment's
        credentials are its learner's, so the learner's index finds them (the enrolment's
        is partial, of current credentials only): no scan of every credential per result."""
        rows = await self._session.exec(
            select(CredentialRecord).where(
                col(CredentialRecord.learner_id) == learner_id,
                col(CredentialRecord.enrolment_id) == enrolment_id,
            )
        )
        return [_credential(r) for r in rows.all()]

    async def current_for_pathway(self, learner_id: str, pathway_id: str) -> Credential | None:
        rows = await self._session.exec(
            select(CredentialRecord).where(
                col(CredentialRecord.learner_id) == learner_id,
                col(CredentialRecord.pathway_id) == pathway_id,
                col(CredentialRecord.revoked_at).is_(None),
            )
        )
        record = rows.first()
        return _credential(record) if record else None

    async def of_learner(self, learner_id: str) -> list[Credential]:
        rows = await self._session.exec(
            select(CredentialRecord)
            .where(col(CredentialRecord.learner_id) == learner_id)
            .order_by(col(CredentialRecord.issued_at))
        )
        return [_credential(r) for r in rows.all()]

    async def components_of(self, stacked_credential_id: str) -> set[str]:
        rows = await self._session.exec(
            select(CredentialComponent.component_credential_id).where(
                col(CredentialComponent.stacked_credential_id) == stacked_credential_id
            )
        )
        return set(rows.all())

    async def free_status_index(self, issuer_partner_id: str) -> int:
        """A random index of the issuer's list no credential has had (the unique constraint
        catches two issuances drawing the same one at once). A few random candidates are
        looked up in one read of that constraint's index, rather than every index used so
        far: that read grew with every credential issued."""
        candidates = [random_status_index(()) for _ in range(STATUS_INDEX_CANDIDATES)]
        taken = await self._used_indexes(issuer_partner_id, candidates)
        free = [index for index in candidates if index not in taken]
        if free:
            return free[0]
        # All taken: the list is filling up, so draw from what every index says.
        return random_status_index(await self._used_indexes(issuer_partner_id))

    async def _used_indexes(
        self, issuer_partner_id: str, among: list[int] | None = None
    ) -> set[int]:
        query = select(CredentialRecord.status_list_index).where(
            col(CredentialRecord.issuer_partner_id) == issuer_partner_id
        )
        if among is not None:
            query = query.where(col(CredentialRecord.status_list_index).in_(among))
        return set((await self._session.exec(query)).all())

    async def add(self, credential: Credential, components: tuple[str, ...] = ()) -> bool:
        """Stores a new credential (a stacked one with its components); False when a
        concurrent issuance came first, drawing the same status index or issuing for the
        same result, enrolment or pathway."""
        try:
            async with self._session.begin_nested():
                await self._session.exec(
                    insert(CredentialRecord).values(
                        credential_id=credential.credential_id,
                        basis=credential.basis,
                        learner_id=credential.learner_id,
                        issuer_partner_id=credential.issuer_partner_id,
                        awarding_partner_id=credential.awarding_partner_id,
                        offering_id=credential.offering_id,
                        enrolment_id=credential.enrolment_id,
                        result_id=credential.result_id,
                        pathway_id=credential.pathway_id,
                        status_list_index=credential.status_list_index,
                        summary=(
                            credential.summary.model_dump_json() if credential.summary else None
                        ),
                        document=credential.document,
                        issued_at=credential.issued_at,
                    )
                )
                if components:
                    await self._session.exec(
                        insert(CredentialComponent).values(
                            [
                                {
                                    "stacked_credential_id": credential.credential_id,
                                    "component_credential_id": component,
                                }
                                for component in components
                            ]
                        )
                    )
        except IntegrityError:
            return False
        return True

    async def save_status(self, credential: Credential) -> None:
        """Writes the credential's revocation and suspension at once: the partial unique
        indexes must see a revocation before a replacement is added."""
        await self._session.exec(
            update(CredentialRecord)
            .where(col(CredentialRecord.credential_id) == credential.credential_id)
            .values(
                revoked_at=credential.revoked_at,
                revocation_reason=credential.revocation_reason,
                suspended_at=credential.suspended_at,
            )
        )


def _status_list(record: StatusListRecord) -> StatusList:
    signed: dict[str, Any] | None = json.loads(record.signed) if record.signed else None
    return StatusList(
        record.issuer_partner_id, record.purpose, record.bits, record.changed_at, signed
    )


class StatusLists:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(
        self, issuer_partner_id: str, purpose: str, *, for_update: bool = False
    ) -> StatusList:
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
            return _status_list(found)
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
            return _status_list((await self._session.exec(query)).one())
        return _status_list(created)

    async def save(self, status_list: StatusList) -> None:
        await self._session.exec(
            update(StatusListRecord)
            .where(
                col(StatusListRecord.issuer_partner_id) == status_list.issuer_partner_id,
                col(StatusListRecord.purpose) == status_list.purpose,
            )
            .values(
                bits=status_list.bits,
                signed=json.dumps(status_list.signed) if status_list.signed else None,
                changed_at=status_list.changed_at,
            )
        )

    async def cache_signed(
        self, issuer_partner_id: str, purpose: str, read_at_change: datetime, signed: dict[str, Any]
    ) -> None:
        """Keeps the signed list unless a bit changed since it was read."""
        await self._session.exec(
            update(StatusListRecord)
            .where(
                col(StatusListRecord.issuer_partner_id) == issuer_partner_id,
                col(StatusListRecord.purpose) == purpose,
                col(StatusListRecord.changed_at) == read_at_change,
            )
            .values(signed=json.dumps(signed))
        )


def _offer(record: CredentialOfferRecord) -> CredentialOffer:
    return CredentialOffer(
        offer_id=record.offer_id,
        credential_id=record.credential_id,
        learner_id=record.learner_id,
        code_hash=record.code_hash,
        tx_code_hash=record.tx_code_hash,
        expires_at=record.expires_at,
        failed_attempts=record.failed_attempts,
        redeemed_at=record.redeemed_at,
        token_hash=record.token_hash,
        token_expires_at=record.token_expires_at,
        delivered_at=record.delivered_at,
        exchange_hash=record.exchange_hash,
        challenge_hash=record.challenge_hash,
    )


class CredentialOffers:
    """Offers to wallets, found by the hash of their pre-authorized code, access token or
    exchange id."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, offer: CredentialOffer) -> None:
        self._session.add(CredentialOfferRecord(**_offer_fields(offer)))

    async def by_code(self, code_hash: str) -> CredentialOffer | None:
        return await self._one(col(CredentialOfferRecord.code_hash) == code_hash)

    async def by_token(self, token_hash: str) -> CredentialOffer | None:
        return await self._one(col(CredentialOfferRecord.token_hash) == token_hash)

    async def by_exchange(self, exchange_hash: str) -> CredentialOffer | None:
        return await self._one(col(CredentialOfferRecord.exchange_hash) == exchange_hash)

    async def _one(self, condition: Any) -> CredentialOffer | None:
        # Locked: a code or token used twice at once is used once.
        query = select(CredentialOfferRecord).where(condition).with_for_update()
        record = (await self._session.exec(query)).first()
        return _offer(record) if record else None

    async def save(self, offer: CredentialOffer) -> None:
        fields = _offer_fields(offer)
        del fields["offer_id"]
        await self._session.exec(
            update(CredentialOfferRecord)
            .where(col(CredentialOfferRecord.offer_id) == offer.offer_id)
            .values(**fields)
        )


def _offer_fields(offer: CredentialOffer) -> dict[str, Any]:
    return {name: getattr(offer, name) for name in CredentialOfferRecord.model_fields}


class ProofNonces:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, nonce_hash: str, expires_at: datetime) -> None:
        self._session.add(ProofNonceRecord(nonce_hash=nonce_hash, expires_at=expires_at))

    async def use(self, nonce_hash: str, now: datetime) -> bool:
        """Spends the nonce; False when it is unknown, spent or expired. Expired ones are
        dropped on the way."""
        await self._session.exec(
            delete(ProofNonceRecord).where(col(ProofNonceRecord.expires_at) <= now)
        )
        spent = await self._session.exec(
            delete(ProofNonceRecord)
            .where(col(ProofNonceRecord.nonce_hash) == nonce_hash)
            .returning(col(ProofNonceRecord.nonce_hash))
        )
        return spent.first() is not None
