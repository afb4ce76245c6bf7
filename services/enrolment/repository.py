"""Reads and writes offerings, enrolments and earned credentials in enrolment's database."""

from __future__ import annotations

import json

from sqlalchemy import ColumnElement, func, insert, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.enrolment.domain import (
    EarnedCredential,
    Enrolment,
    EnrolmentStatus,
    Offering,
    OfferingStatus,
    Seats,
)
from services.enrolment.tables import EarnedCredentialRecord, EnrolmentRecord, OfferingRecord
from shared.clock import utc_now
from shared.events import EnrolmentRejectionReason


def _offering(record: OfferingRecord) -> Offering:
    return Offering(
        record.offering_id,
        record.partner_id,
        record.version,
        OfferingStatus(record.status),
        record.capacity,
        tuple(json.loads(record.required_offering_ids)),
    )


def _enrolment(record: EnrolmentRecord, position: int | None = None) -> Enrolment:
    return Enrolment(
        enrolment_id=record.enrolment_id,
        offering_id=record.offering_id,
        partner_id=record.partner_id,
        learner_id=record.learner_id,
        status=EnrolmentStatus(record.status),
        requested_at=record.requested_at,
        changed_at=record.changed_at,
        position=position,
        reason=EnrolmentRejectionReason(record.reason) if record.reason else None,
        detail=record.detail,
    )


def _credential(record: EarnedCredentialRecord) -> EarnedCredential:
    return EarnedCredential(
        record.credential_id,
        record.learner_id,
        record.offering_id,
        record.revoked,
        record.suspended,
    )


_ACTIVE = (EnrolmentStatus.ACCEPTED.value, EnrolmentStatus.WAITLISTED.value)


def _waiting(offering_id: str) -> tuple[ColumnElement[bool], ...]:
    return (
        col(EnrolmentRecord.offering_id) == offering_id,
        col(EnrolmentRecord.status) == EnrolmentStatus.WAITLISTED.value,
    )


class OfferingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, offering_id: str) -> Offering | None:
        record = await self._session.get(OfferingRecord, offering_id)
        return _offering(record) if record else None

    async def lock(self, offering_id: str) -> Offering | None:
        """The offering, locked until the transaction ends: whoever counts its seats next
        waits until this transaction has committed what it decided."""
        if self._session.get_bind().dialect.name == "sqlite":
            # SQLite has no row locks (FOR UPDATE is not rendered). A write before the seats
            # are read takes the database's write lock (the driver opens the transaction at
            # the first write), so writers are serialised and none counts stale seats.
            await self._session.exec(
                update(OfferingRecord)
                .where(col(OfferingRecord.offering_id) == offering_id)
                .values(version=OfferingRecord.version)
            )
        result = await self._session.exec(
            select(OfferingRecord)
            .where(col(OfferingRecord.offering_id) == offering_id)
            .with_for_update()
        )
        record = result.first()
        return _offering(record) if record else None

    async def save(self, offering: Offering) -> None:
        record = await self._session.get(OfferingRecord, offering.offering_id)
        fields = {
            "partner_id": offering.partner_id,
            "version": offering.version,
            "status": offering.status.value,
            "capacity": offering.capacity,
            "required_offering_ids": json.dumps(list(offering.required_offering_ids)),
            "changed_at": utc_now(),
        }
        if record is None:
            record = OfferingRecord.model_validate({"offering_id": offering.offering_id, **fields})
        else:
            record.sqlmodel_update(fields)
        self._session.add(record)


class EnrolmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, enrolment_id: str) -> Enrolment | None:
        record = await self._session.get(EnrolmentRecord, enrolment_id, populate_existing=True)
        return await self._with_position(record) if record else None

    async def active(self, learner_id: str, offering_id: str) -> Enrolment | None:
        result = await self._session.exec(
            select(EnrolmentRecord).where(
                col(EnrolmentRecord.learner_id) == learner_id,
                col(EnrolmentRecord.offering_id) == offering_id,
                col(EnrolmentRecord.status).in_(_ACTIVE),
            )
        )
        record = result.first()
        return _enrolment(record) if record else None

    async def of_learner(self, learner_id: str) -> list[Enrolment]:
        result = await self._session.exec(
            select(EnrolmentRecord)
            .where(col(EnrolmentRecord.learner_id) == learner_id)
            .order_by(col(EnrolmentRecord.requested_at), col(EnrolmentRecord.enrolment_id))
        )
        return [await self._with_position(r) for r in result.all()]

    async def of_offering(self, offering_id: str) -> list[Enrolment]:
        """Places first, then the waiting list in order, then the rest by request time."""
        result = await self._session.exec(
            select(EnrolmentRecord)
            .where(col(EnrolmentRecord.offering_id) == offering_id)
            .order_by(col(EnrolmentRecord.requested_at), col(EnrolmentRecord.enrolment_id))
        )
        records = result.all()
        queue = sorted(
            (r for r in records if r.status == EnrolmentStatus.WAITLISTED.value),
            key=lambda r: r.queue_number or 0,
        )
        positions = {r.enrolment_id: index for index, r in enumerate(queue, start=1)}
        rank = {EnrolmentStatus.ACCEPTED.value: 0, EnrolmentStatus.WAITLISTED.value: 1}
        ordered = sorted(
            records, key=lambda r: (rank.get(r.status, 2), positions.get(r.enrolment_id, 0))
        )
        return [_enrolment(r, positions.get(r.enrolment_id)) for r in ordered]

    async def seats(self, offering_id: str) -> Seats:
        result = await self._session.exec(
            select(EnrolmentRecord.status, func.count())
            .where(
                col(EnrolmentRecord.offering_id) == offering_id,
                col(EnrolmentRecord.status).in_(_ACTIVE),
            )
            .group_by(col(EnrolmentRecord.status))
        )
        counts = dict(result.all())
        return Seats(
            accepted=counts.get(EnrolmentStatus.ACCEPTED.value, 0),
            waiting=counts.get(EnrolmentStatus.WAITLISTED.value, 0),
        )

    async def waiting_list(self, offering_id: str) -> list[Enrolment]:
        """The learners waiting for a place, next first, with their positions."""
        result = await self._session.exec(
            select(EnrolmentRecord)
            .where(*_waiting(offering_id))
            .order_by(col(EnrolmentRecord.queue_number))
        )
        return [_enrolment(r, index) for index, r in enumerate(result.all(), start=1)]

    async def add(self, enrolment: Enrolment) -> None:
        queue_number = None
        if enrolment.status is EnrolmentStatus.WAITLISTED:
            last = await self._session.exec(
                select(func.max(EnrolmentRecord.queue_number)).where(
                    col(EnrolmentRecord.offering_id) == enrolment.offering_id
                )
            )
            queue_number = (last.one() or 0) + 1
        self._session.add(
            EnrolmentRecord(
                enrolment_id=enrolment.enrolment_id,
                offering_id=enrolment.offering_id,
                partner_id=enrolment.partner_id,
                learner_id=enrolment.learner_id,
                status=enrolment.status.value,
                queue_number=queue_number,
                reason=enrolment.reason.value if enrolment.reason else None,
                detail=enrolment.detail,
                requested_at=enrolment.requested_at,
                changed_at=enrolment.changed_at,
            )
        )
        # Flushed now so the next count in this transaction sees it.
        await self._session.flush()

    async def update(self, enrolment: Enrolment) -> None:
        record = await self._session.get(EnrolmentRecord, enrolment.enrolment_id)
        if record is None:
            raise LookupError(f"no enrolment {enrolment.enrolment_id}")
        record.status = enrolment.status.value
        record.reason = enrolment.reason.value if enrolment.reason else None
        record.detail = enrolment.detail
        record.changed_at = enrolment.changed_at
        if enrolment.status is not EnrolmentStatus.WAITLISTED:
            record.queue_number = None
        self._session.add(record)
        await self._session.flush()

    async def _with_position(self, record: EnrolmentRecord) -> Enrolment:
        if record.status != EnrolmentStatus.WAITLISTED.value or record.queue_number is None:
            return _enrolment(record)
        ahead = await self._session.exec(
            select(func.count()).where(
                *_waiting(record.offering_id),
                col(EnrolmentRecord.queue_number) < record.queue_number,
            )
        )
        return _enrolment(record, ahead.one() + 1)


class EarnedCredentialRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, credential_id: str) -> EarnedCredential | None:
        rows = await self._session.exec(
            select(
                col(EarnedCredentialRecord.learner_id),
                col(EarnedCredentialRecord.offering_id),
                col(EarnedCredentialRecord.revoked),
                col(EarnedCredentialRecord.suspended),
            ).where(col(EarnedCredentialRecord.credential_id) == credential_id)
        )
        row = rows.first()
        return EarnedCredential(credential_id, *row) if row else None

    async def of_learner(self, learner_id: str) -> list[EarnedCredential]:
        result = await self._session.exec(
            select(EarnedCredentialRecord).where(
                col(EarnedCredentialRecord.learner_id) == learner_id
            )
        )
        return [_credential(r) for r in result.all()]

    async def save(self, credential: EarnedCredential, first: bool) -> None:
        """`first` when `get` found none: a new row rather than a change of one."""
        fields = {
            "learner_id": credential.learner_id,
            "offering_id": credential.offering_id,
            "revoked": credential.revoked,
            "suspended": credential.suspended,
            "changed_at": utc_now(),
        }
        if first:
            await self._session.exec(
                insert(EarnedCredentialRecord).values(
                    credential_id=credential.credential_id, **fields
                )
            )
            return
        await self._session.exec(
            update(EarnedCredentialRecord)
            .where(col(EarnedCredentialRecord.credential_id) == credential.credential_id)
            .values(**fields)
        )
