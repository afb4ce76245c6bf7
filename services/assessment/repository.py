"""Reads and writes offerings, enrolments and results in the assessment service's database."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.assessment.domain import (
    Enrolment,
    EnrolmentStatus,
    Offering,
    Refusal,
    Result,
    ResultRefused,
)
from services.assessment.tables import EnrolmentRecord, OfferingRecord, ResultRecord
from shared.clock import utc_now
from shared.events import AssessedResult


class OfferingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, offering_id: str) -> Offering | None:
        record = await self._session.get(OfferingRecord, offering_id)
        return Offering(record.offering_id, record.partner_id, record.version) if record else None

    async def save(self, offering: Offering) -> None:
        await self._session.merge(
            OfferingRecord(
                offering_id=offering.offering_id,
                partner_id=offering.partner_id,
                version=offering.version,
                changed_at=utc_now(),
            )
        )


class EnrolmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, enrolment_id: str) -> Enrolment | None:
        record = await self._session.get(EnrolmentRecord, enrolment_id)
        if record is None:
            return None
        return Enrolment(
            record.enrolment_id,
            record.learner_id,
            record.offering_id,
            record.partner_id,
            EnrolmentStatus(record.status),
        )

    async def save(self, enrolment: Enrolment) -> None:
        await self._session.merge(
            EnrolmentRecord(
                enrolment_id=enrolment.enrolment_id,
                learner_id=enrolment.learner_id,
                offering_id=enrolment.offering_id,
                partner_id=enrolment.partner_id,
                status=enrolment.status.value,
                changed_at=utc_now(),
            )
        )


def _result(record: ResultRecord) -> Result:
    return Result(
        AssessedResult.model_validate_json(record.result),
        record.recorded_at,
        record.superseded_by_result_id,
    )


class ResultRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, result_id: str) -> Result | None:
        record = await self._session.get(ResultRecord, result_id)
        return _result(record) if record else None

    async def current_of(self, enrolment_id: str) -> Result | None:
        rows = await self._session.exec(
            select(ResultRecord).where(
                col(ResultRecord.enrolment_id) == enrolment_id,
                col(ResultRecord.superseded_by_result_id).is_(None),
            )
        )
        record = rows.first()
        return _result(record) if record else None

    async def add(self, result: Result) -> None:
        """Inserts `result` and marks the result it corrects as superseded by it.

        The mark is conditional, so of two corrections racing for the same result only one
        wins; an IntegrityError at flush means another result became current meanwhile.
        """
        assessed = result.result
        corrected = assessed.supersedes_result_id
        if corrected is not None:
            marked = await self._session.exec(
                update(ResultRecord)
                .where(
                    col(ResultRecord.result_id) == corrected,
                    col(ResultRecord.superseded_by_result_id).is_(None),
                )
                .values(superseded_by_result_id=assessed.result_id)
            )
            if marked.rowcount != 1:
                raise ResultRefused(
                    Refusal.SUPERSEDED, f"result {corrected} was superseded meanwhile"
                )
        self._session.add(
            ResultRecord(
                result_id=assessed.result_id,
                enrolment_id=assessed.enrolment_id,
                offering_id=assessed.offering_id,
                partner_id=assessed.partner_id,
                learner_id=assessed.learner_id,
                supersedes_result_id=corrected,
                result=assessed.model_dump_json(exclude_none=True),
                recorded_at=result.recorded_at,
            )
        )
        await self._session.flush()

    async def of_learner(
        self, learner_id: str, offering_id: str | None, limit: int, offset: int
    ) -> Sequence[Result]:
        return await self._find(
            col(ResultRecord.learner_id) == learner_id, offering_id, limit, offset
        )

    async def of_partner(
        self, partner_id: str, offering_id: str | None, limit: int, offset: int
    ) -> Sequence[Result]:
        return await self._find(
            col(ResultRecord.partner_id) == partner_id, offering_id, limit, offset
        )

    async def _find(
        self, scope: ColumnElement[bool], offering_id: str | None, limit: int, offset: int
    ) -> Sequence[Result]:
        conditions = [scope]
        if offering_id is not None:
            conditions.append(col(ResultRecord.offering_id) == offering_id)
        rows = await self._session.exec(
            select(ResultRecord)
            .where(*conditions)
            .order_by(col(ResultRecord.recorded_at), col(ResultRecord.result_id))
            .limit(limit)
            .offset(offset)
        )
        return [_result(r) for r in rows.all()]
