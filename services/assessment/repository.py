"""Reads and writes offerings, enrolments and results in the assessment service's database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.assessment.domain import Enrolment, EnrolmentStatus, Offering, Result
from services.assessment.tables import EnrolmentRecord, OfferingRecord, ResultRecord
from shared.clock import utc_now
from shared.events import AssessedResult


class OfferingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, offering_id: str) -> Offering | None:
        rows = await self._session.exec(
            select(col(OfferingRecord.partner_id), col(OfferingRecord.version)).where(
                col(OfferingRecord.offering_id) == offering_id
            )
        )
        row = rows.first()
        return Offering(offering_id, *row) if row else None

    async def save(self, offering: Offering, first: bool) -> None:
        """`first` when `get` found none: a new row rather than a change of one."""
        if first:
            await self._session.exec(
                insert(OfferingRecord).values(
                    offering_id=offering.offering_id,
                    partner_id=offering.partner_id,
                    version=offering.version,
                    changed_at=utc_now(),
                )
            )
            return
        await self._session.exec(
            update(OfferingRecord)
            .where(col(OfferingRecord.offering_id) == offering.offering_id)
            .values(partner_id=offering.partner_id, version=offering.version, changed_at=utc_now())
        )


class EnrolmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, enrolment_id: str) -> Enrolment | None:
        rows = await self._session.exec(
            select(
                col(EnrolmentRecord.learner_id),
                col(EnrolmentRecord.offering_id),
                col(EnrolmentRecord.partner_id),
                col(EnrolmentRecord.status),
            ).where(col(EnrolmentRecord.enrolment_id) == enrolment_id)
        )
        row = rows.first()
        if row is None:
            return None
        learner_id, offering_id, partner_id, status = row
        return Enrolment(enrolment_id, learner_id, offering_id, partner_id, EnrolmentStatus(status))

    async def save(self, enrolment: Enrolment, first: bool) -> None:
        """`first` when `get` found none: a new row rather than a change of one."""
        fields = {
            "learner_id": enrolment.learner_id,
            "offering_id": enrolment.offering_id,
            "partner_id": enrolment.partner_id,
            "status": enrolment.status.value,
            "changed_at": utc_now(),
        }
        if first:
            await self._session.exec(
                insert(EnrolmentRecord).values(enrolment_id=enrolment.enrolment_id, **fields)
            )
            return
        await self._session.exec(
            update(EnrolmentRecord)
            .where(col(EnrolmentRecord.enrolment_id) == enrolment.enrolment_id)
            .values(**fields)
        )


def _result(record: ResultRecord) -> Result:
    return _stored(record.result, record.recorded_at, record.superseded_by_result_id)


def _stored(result: str, recorded_at: datetime, superseded_by_result_id: str | None) -> Result:
    return Result(AssessedResult.model_validate_json(result), recorded_at, superseded_by_result_id)


class ResultRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, result_id: str) -> Result | None:
        record = await self._session.get(ResultRecord, result_id)
        return _result(record) if record else None

    async def bearing_on(
        self, result_id: str, enrolment_id: str, corrects: str | None
    ) -> tuple[Result | None, Result | None, Result | None]:
        """What a submission is judged against, in one read: the result stored under its
        `result_id`, the one it `corrects`, and its enrolment's current result."""
        named = [result_id] if corrects is None else [result_id, corrects]
        # Plain columns, not records loaded into the session: what the judgement needs,
        # without an identity map entry and instance state per row.
        rows = await self._session.exec(
            select(
                col(ResultRecord.result),
                col(ResultRecord.recorded_at),
                col(ResultRecord.superseded_by_result_id),
            ).where(
                col(ResultRecord.result_id).in_(named)
                | (
                    (col(ResultRecord.enrolment_id) == enrolment_id)
                    & col(ResultRecord.superseded_by_result_id).is_(None)
                )
            )
        )
        found = [_stored(*row) for row in rows.all()]
        by_id = {r.result.result_id: r for r in found}
        current = next(
            (
                r
                for r in found
                if r.result.enrolment_id == enrolment_id and r.superseded_by_result_id is None
            ),
            None,
        )
        return by_id.get(result_id), by_id.get(corrects) if corrects else None, current

    async def current_of(self, enrolment_id: str) -> Result | None:
        rows = await self._session.exec(
            select(ResultRecord).where(
                col(ResultRecord.enrolment_id) == enrolment_id,
                col(ResultRecord.superseded_by_result_id).is_(None),
            )
        )
        record = rows.first()
        return _result(record) if record else None

    async def supersede(self, result_id: str, by_result_id: str) -> bool:
        """Marks the result `result_id` as superseded by `by_result_id` if it is current.

        The mark is conditional, so of two corrections racing for the same result only one
        wins: False for the other.
        """
        marked = await self._session.exec(
            update(ResultRecord)
            .where(
                col(ResultRecord.result_id) == result_id,
                col(ResultRecord.superseded_by_result_id).is_(None),
            )
            .values(superseded_by_result_id=by_result_id)
        )
        return bool(marked.rowcount == 1)

    async def add(self, result: Result) -> bool:
        """Inserts `result`; False when a concurrent submission for the same enrolment (its
        current result) or under the same result_id was committed first."""
        assessed = result.result
        try:
            async with self._session.begin_nested():
                await self._session.exec(
                    insert(ResultRecord).values(
                        result_id=assessed.result_id,
                        enrolment_id=assessed.enrolment_id,
                        offering_id=assessed.offering_id,
                        partner_id=assessed.partner_id,
                        learner_id=assessed.learner_id,
                        supersedes_result_id=assessed.supersedes_result_id,
                        result=assessed.model_dump_json(exclude_none=True),
                        recorded_at=result.recorded_at,
                    )
                )
        except IntegrityError:
            return False
        return True

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
