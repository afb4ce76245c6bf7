"""Reads and writes offerings, enrolments and results in the assessment service's database.

Statements are built once and run with `shared.db.statements` (why: its docstring)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, or_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from services.assessment.domain import (
    Enrolment,
    EnrolmentStatus,
    Facts,
    Offering,
    Result,
)
from services.assessment.tables import EnrolmentRecord, OfferingRecord, ResultRecord
from shared.clock import utc_now
from shared.db.statements import added, execute, insert_new
from shared.events import AssessedResult

OFFERINGS: Table = OfferingRecord.__table__  # type: ignore[attr-defined]
ENROLMENTS: Table = EnrolmentRecord.__table__  # type: ignore[attr-defined]
RESULTS: Table = ResultRecord.__table__  # type: ignore[attr-defined]


class _Repository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session


_OFFERING = select(OFFERINGS.c.partner_id, OFFERINGS.c.version).where(
    OFFERINGS.c.offering_id == bindparam("the_offering_id")
)
_INSERT_OFFERING = OFFERINGS.insert()
_UPDATE_OFFERING = update(OFFERINGS).where(OFFERINGS.c.offering_id == bindparam("the_offering_id"))


class OfferingRepository(_Repository):
    async def get(self, offering_id: str) -> Offering | None:
        row = (await execute(self._session, _OFFERING, {"the_offering_id": offering_id})).first()
        return Offering(offering_id, *row) if row else None

    async def save(self, offering: Offering, first: bool) -> None:
        """`first` when `get` found none: a new row rather than a change of one."""
        fields = {
            "partner_id": offering.partner_id,
            "version": offering.version,
            "changed_at": utc_now(),
        }
        if first:
            await execute(
                self._session, _INSERT_OFFERING, {"offering_id": offering.offering_id, **fields}
            )
        else:
            await execute(
                self._session, _UPDATE_OFFERING, {"the_offering_id": offering.offering_id, **fields}
            )


_ENROLMENT_COLUMNS = (
    ENROLMENTS.c.learner_id,
    ENROLMENTS.c.offering_id,
    ENROLMENTS.c.partner_id,
    ENROLMENTS.c.status,
)
_ENROLMENT = select(*_ENROLMENT_COLUMNS).where(
    ENROLMENTS.c.enrolment_id == bindparam("the_enrolment_id")
)
_INSERT_ENROLMENT = ENROLMENTS.insert()
_ADD_ENROLMENT = insert_new(ENROLMENTS, returning=ENROLMENTS.c.enrolment_id)
_UPDATE_ENROLMENT = update(ENROLMENTS).where(
    ENROLMENTS.c.enrolment_id == bindparam("the_enrolment_id")
)


def _enrolment(
    enrolment_id: str, learner_id: str, offering_id: str, partner_id: str, status: str
) -> Enrolment:
    return Enrolment(enrolment_id, learner_id, offering_id, partner_id, EnrolmentStatus(status))


class EnrolmentRepository(_Repository):
    async def get(self, enrolment_id: str) -> Enrolment | None:
        row = (await execute(self._session, _ENROLMENT, {"the_enrolment_id": enrolment_id})).first()
        return _enrolment(enrolment_id, *row) if row else None

    async def add(self, enrolment: Enrolment) -> bool:
        """Writes the enrolment if none with its id is held; False when one is."""
        return await added(
            self._session,
            _ADD_ENROLMENT,
            {"enrolment_id": enrolment.enrolment_id, **_enrolment_fields(enrolment)},
        )

    async def save(self, enrolment: Enrolment, first: bool) -> None:
        """`first` when `get` found none: a new row rather than a change of one."""
        fields = _enrolment_fields(enrolment)
        if first:
            await execute(
                self._session, _INSERT_ENROLMENT, {"enrolment_id": enrolment.enrolment_id, **fields}
            )
        else:
            await execute(
                self._session,
                _UPDATE_ENROLMENT,
                {"the_enrolment_id": enrolment.enrolment_id, **fields},
            )


def _enrolment_fields(enrolment: Enrolment) -> dict[str, Any]:
    return {
        "learner_id": enrolment.learner_id,
        "offering_id": enrolment.offering_id,
        "partner_id": enrolment.partner_id,
        "status": enrolment.status.value,
        "changed_at": utc_now(),
    }


_RESULT_COLUMNS = (RESULTS.c.result, RESULTS.c.recorded_at, RESULTS.c.superseded_by_result_id)
_CURRENT = RESULTS.c.superseded_by_result_id.is_(None)
_RESULT = select(*_RESULT_COLUMNS).where(RESULTS.c.result_id == bindparam("result_id"))
_CURRENT_RESULT = select(*_RESULT_COLUMNS).where(
    RESULTS.c.enrolment_id == bindparam("enrolment_id"), _CURRENT
)
# What a submission is judged against, in one statement: its offering, with its enrolment
# (one row or none) and the results it bears on (the one under its result_id, the one it
# corrects, its enrolment's current one) joined. Without the offering nothing else is read:
# a result for an offering not known is refused before anything else is looked at.
_FACTS = (
    select(
        OFFERINGS.c.partner_id,
        OFFERINGS.c.version,
        *_ENROLMENT_COLUMNS,
        *_RESULT_COLUMNS,
    )
    .select_from(OFFERINGS)
    .outerjoin(ENROLMENTS, ENROLMENTS.c.enrolment_id == bindparam("enrolment_id"))
    .outerjoin(
        RESULTS,
        or_(
            RESULTS.c.result_id == bindparam("result_id"),
            RESULTS.c.result_id == bindparam("corrects"),
            (RESULTS.c.enrolment_id == bindparam("enrolment_id")) & _CURRENT,
        ),
    )
    .where(OFFERINGS.c.offering_id == bindparam("the_offering_id"))
)
# A submission that clashes with a committed one (its result_id, or a second current result
# for its enrolment) inserts nothing and returns no row: no savepoint needed to go on.
_ADD_RESULT = insert_new(RESULTS, returning=RESULTS.c.result_id)
_SUPERSEDE = (
    update(RESULTS)
    .where(RESULTS.c.result_id == bindparam("the_result_id"), _CURRENT)
    .values(superseded_by_result_id=bindparam("by_result_id"))
)
_IN_RECORDED_ORDER = (RESULTS.c.recorded_at, RESULTS.c.result_id)
_PAGE = {
    (scope, by_offering): select(*_RESULT_COLUMNS)
    .where(
        RESULTS.c[scope] == bindparam("scope"),
        *([RESULTS.c.offering_id == bindparam("the_offering_id")] if by_offering else []),
    )
    .order_by(*_IN_RECORDED_ORDER)
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
    for scope in ("learner_id", "partner_id")
    for by_offering in (False, True)
}


def _stored(result: str, recorded_at: datetime, superseded_by_result_id: str | None) -> Result:
    return Result(AssessedResult.model_validate_json(result), recorded_at, superseded_by_result_id)


class ResultRepository(_Repository):
    async def get(self, result_id: str) -> Result | None:
        row = (await execute(self._session, _RESULT, {"result_id": result_id})).first()
        return _stored(*row) if row else None

    async def facts(self, submission: AssessedResult) -> Facts:
        """What the service holds that bears on `submission`, in one read; nothing at all
        when its offering is not known."""
        corrects = submission.supersedes_result_id
        rows = (
            await execute(
                self._session,
                _FACTS,
                {
                    "the_offering_id": submission.offering_id,
                    "enrolment_id": submission.enrolment_id,
                    "result_id": submission.result_id,
                    "corrects": corrects,
                },
            )
        ).all()
        if not rows:
            return Facts(offering=None, enrolment=None, same_id=None, corrected=None, current=None)
        partner_id, version, *enrolment = rows[0][:6]
        found = [_stored(*row[6:]) for row in rows if row[6] is not None]
        by_id = {r.result_id: r for r in found}
        return Facts(
            offering=Offering(submission.offering_id, partner_id, version),
            enrolment=_enrolment(submission.enrolment_id, *enrolment) if enrolment[0] else None,
            same_id=by_id.get(submission.result_id),
            corrected=by_id.get(corrects) if corrects else None,
            current=next(
                (
                    r
                    for r in found
                    if r.result.enrolment_id == submission.enrolment_id and r.is_current
                ),
                None,
            ),
        )

    async def current_of(self, enrolment_id: str) -> Result | None:
        row = (
            await execute(self._session, _CURRENT_RESULT, {"enrolment_id": enrolment_id})
        ).first()
        return _stored(*row) if row else None

    async def supersede(self, result_id: str, by_result_id: str) -> bool:
        """Marks the result `result_id` as superseded by `by_result_id` if it is current.

        The mark is conditional, so of two corrections racing for the same result only one
        wins: False for the other.
        """
        marked = await execute(
            self._session, _SUPERSEDE, {"the_result_id": result_id, "by_result_id": by_result_id}
        )
        return marked.rowcount == 1

    async def add(self, result: Result) -> bool:
        """Inserts `result`; False when a concurrent submission for the same enrolment (its
        current result) or under the same result_id was committed first."""
        assessed = result.result
        return await added(
            self._session,
            _ADD_RESULT,
            {
                "result_id": assessed.result_id,
                "enrolment_id": assessed.enrolment_id,
                "offering_id": assessed.offering_id,
                "partner_id": assessed.partner_id,
                "learner_id": assessed.learner_id,
                "supersedes_result_id": assessed.supersedes_result_id,
                "result": assessed.model_dump_json(exclude_none=True),
                "recorded_at": result.recorded_at,
            },
        )

    async def of_learner(
        self, learner_id: str, offering_id: str | None, limit: int, offset: int
    ) -> Sequence[Result]:
        return await self._page("learner_id", learner_id, offering_id, limit, offset)

    async def of_partner(
        self, partner_id: str, offering_id: str | None, limit: int, offset: int
    ) -> Sequence[Result]:
        return await self._page("partner_id", partner_id, offering_id, limit, offset)

    async def _page(
        self, scope: str, value: str, offering_id: str | None, limit: int, offset: int
    ) -> Sequence[Result]:
        rows = await execute(
            self._session,
            _PAGE[scope, offering_id is not None],
            {"scope": value, "the_offering_id": offering_id, "limit": limit, "offset": offset},
        )
        return [_stored(*row) for row in rows]
