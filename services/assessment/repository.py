"""Reads and writes offerings, enrolments and results in the assessment service's database.

Statements are built once and run with `shared.db.statements` (why: its docstring). What a
batch of events is decided on can be read ahead (`read_ahead`), one statement a table rather
than one an event; what was read is kept for the unit of work, and each write the unit of
work makes changes it too. The enrolments and results a unit of work adds are kept to its
commit (`write_kept`), one statement each there; a row that clashes with one a concurrent
writer committed first is then a lost race, and the unit of work runs again.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, bindparam, or_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from services.assessment.domain import (
    ConcurrentResult,
    Enrolment,
    EnrolmentStatus,
    Facts,
    Offering,
    Result,
)
from services.assessment.tables import EnrolmentRecord, OfferingRecord, ResultRecord
from shared.clock import utc_now
from shared.db.statements import (
    added,
    all_added,
    execute,
    insert_new,
    insert_rows,
    with_list,
)
from shared.errors import LostRace
from shared.events import AssessedResult

OFFERINGS: Table = OfferingRecord.__table__  # type: ignore[attr-defined]
ENROLMENTS: Table = EnrolmentRecord.__table__  # type: ignore[attr-defined]
RESULTS: Table = ResultRecord.__table__  # type: ignore[attr-defined]


class _Repository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session


_OFFERING_COLUMNS = (OFFERINGS.c.partner_id, OFFERINGS.c.version)
_OFFERING = select(*_OFFERING_COLUMNS).where(
    OFFERINGS.c.offering_id == bindparam("the_offering_id")
)
_OFFERINGS_AMONG = with_list(
    lambda one_of: select(OFFERINGS.c.offering_id, *_OFFERING_COLUMNS).where(
        one_of(OFFERINGS.c.offering_id, "offering_ids")
    )
)
_INSERT_OFFERING = OFFERINGS.insert()
_UPDATE_OFFERING = update(OFFERINGS).where(OFFERINGS.c.offering_id == bindparam("the_offering_id"))


class OfferingRepository(_Repository):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        # offering id -> the offering read ahead (None: none held), kept up to date
        self._read: dict[str, Offering | None] = {}

    async def read_ahead(self, offering_ids: Collection[str]) -> None:
        rows = await execute(self._session, _OFFERINGS_AMONG, {"offering_ids": list(offering_ids)})
        self._read.update(dict.fromkeys(offering_ids))
        self._read.update((row[0], Offering(*row)) for row in rows)

    def was_read(self, offering_id: str) -> bool:
        return offering_id in self._read

    async def get(self, offering_id: str) -> Offering | None:
        if offering_id in self._read:
            return self._read[offering_id]
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
        if offering.offering_id in self._read:
            self._read[offering.offering_id] = offering


_ENROLMENT_COLUMNS = (
    ENROLMENTS.c.learner_id,
    ENROLMENTS.c.offering_id,
    ENROLMENTS.c.partner_id,
    ENROLMENTS.c.status,
)
_ENROLMENT = select(*_ENROLMENT_COLUMNS).where(
    ENROLMENTS.c.enrolment_id == bindparam("the_enrolment_id")
)
_ENROLMENTS_AMONG = with_list(
    lambda one_of: select(ENROLMENTS.c.enrolment_id, *_ENROLMENT_COLUMNS).where(
        one_of(ENROLMENTS.c.enrolment_id, "enrolment_ids")
    )
)
_INSERT_ENROLMENT = ENROLMENTS.insert()
_ADD_ENROLMENT = insert_new(ENROLMENTS, returning=ENROLMENTS.c.enrolment_id)
_ADD_ENROLMENTS = insert_rows(
    ENROLMENTS,
    [c.name for c in ENROLMENTS.c],
    returning=ENROLMENTS.c.enrolment_id,
    skip_existing=True,
)
_UPDATE_ENROLMENT = update(ENROLMENTS).where(
    ENROLMENTS.c.enrolment_id == bindparam("the_enrolment_id")
)


def _enrolment(
    enrolment_id: str, learner_id: str, offering_id: str, partner_id: str, status: str
) -> Enrolment:
    return Enrolment(enrolment_id, learner_id, offering_id, partner_id, EnrolmentStatus(status))


class EnrolmentRepository(_Repository):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        # enrolment id -> the enrolment read ahead (None: none held), kept up to date
        self._read: dict[str, Enrolment | None] = {}
        # enrolment id -> an enrolment added, not written yet
        self._kept: dict[str, Enrolment] = {}

    async def read_ahead(self, enrolment_ids: Collection[str]) -> None:
        rows = await execute(
            self._session, _ENROLMENTS_AMONG, {"enrolment_ids": list(enrolment_ids)}
        )
        self._read.update(dict.fromkeys(enrolment_ids))
        self._read.update((row[0], _enrolment(*row)) for row in rows)

    def was_read(self, enrolment_id: str) -> bool:
        return enrolment_id in self._read  # what is kept was read as not held

    async def get(self, enrolment_id: str) -> Enrolment | None:
        if enrolment_id in self._kept:
            return self._kept[enrolment_id]
        if enrolment_id in self._read:
            return self._read[enrolment_id]
        row = (await execute(self._session, _ENROLMENT, {"the_enrolment_id": enrolment_id})).first()
        return _enrolment(enrolment_id, *row) if row else None

    async def add(self, enrolment: Enrolment) -> bool:
        """Adds the enrolment if none with its id is held; False when one is. Read ahead as
        not held, it is kept to the commit; else written now."""
        enrolment_id = enrolment.enrolment_id
        if enrolment_id in self._kept:
            return False
        if enrolment_id in self._read:
            if self._read[enrolment_id] is not None:
                return False
            self._kept[enrolment_id] = enrolment
            return True
        return await added(
            self._session,
            _ADD_ENROLMENT,
            {"enrolment_id": enrolment_id, **_enrolment_fields(enrolment)},
        )

    async def save(self, enrolment: Enrolment, first: bool) -> None:
        """`first` when `get` found none: a new row rather than a change of one."""
        enrolment_id = enrolment.enrolment_id
        if enrolment_id in self._kept:  # not written yet: written as it is now
            self._kept[enrolment_id] = enrolment
            return
        fields = _enrolment_fields(enrolment)
        if first:
            await execute(
                self._session, _INSERT_ENROLMENT, {"enrolment_id": enrolment_id, **fields}
            )
        else:
            await execute(
                self._session, _UPDATE_ENROLMENT, {"the_enrolment_id": enrolment_id, **fields}
            )
        if enrolment_id in self._read:
            self._read[enrolment_id] = enrolment

    async def write_kept(self) -> None:
        """Writes the enrolments kept; LostRace when one was written by another meanwhile."""
        kept, self._kept = self._kept, {}
        if not kept:
            return
        rows = [
            {"enrolment_id": enrolment_id, **_enrolment_fields(enrolment)}
            for enrolment_id, enrolment in kept.items()
        ]
        if not await all_added(self._session, _ADD_ENROLMENTS, rows):
            raise LostRace("an enrolment was written meanwhile; retry")
        self._read.update(kept)


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
        *_OFFERING_COLUMNS,
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
# The results a batch of submissions bears on: those under their result_ids and the ones
# they correct, and their enrolments' current ones.
_RESULTS_AMONG = with_list(
    lambda one_of: select(*_RESULT_COLUMNS).where(
        or_(
            one_of(RESULTS.c.result_id, "result_ids"),
            and_(one_of(RESULTS.c.enrolment_id, "enrolment_ids"), _CURRENT),
        )
    )
)
# A result that clashes with a committed one (its result_id, or a second current result for
# its enrolment) is not written and returns no row: the transaction stays usable.
_ADD_RESULTS = insert_rows(
    RESULTS,
    [c.name for c in RESULTS.c],
    returning=RESULTS.c.result_id,
    skip_existing=True,
)
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


def _row(result: Result) -> dict[str, Any]:
    assessed = result.result
    return {
        "result_id": assessed.result_id,
        "enrolment_id": assessed.enrolment_id,
        "offering_id": assessed.offering_id,
        "partner_id": assessed.partner_id,
        "learner_id": assessed.learner_id,
        "supersedes_result_id": assessed.supersedes_result_id,
        "superseded_by_result_id": result.superseded_by_result_id,
        "result": assessed.model_dump_json(exclude_none=True),
        "recorded_at": result.recorded_at,
    }


class ResultRepository(_Repository):
    """The results. A submission is judged (`facts`) with what was read ahead of its batch
    when that covers it, else in one statement; the results added are kept to the commit."""

    def __init__(
        self,
        session: AsyncSession,
        offerings: OfferingRepository,
        enrolments: EnrolmentRepository,
    ) -> None:
        super().__init__(session)
        self._offerings = offerings
        self._enrolments = enrolments
        # result id -> the result read ahead (current or not), or added, kept up to date;
        # enrolment id -> the ids of its results held
        self._held: dict[str, Result] = {}
        self._held_of: dict[str, set[str]] = {}
        # result ids whose result (if any) is in `_held`; enrolment ids whose current one is
        self._read_ids: set[str] = set()
        self._read_enrolments: set[str] = set()
        # result ids of the results added, not written yet
        self._kept: set[str] = set()

    async def read_ahead(self, submissions: Sequence[AssessedResult]) -> None:
        """Reads the results a batch's submissions bear on in one statement (`facts` also
        needs their offerings and enrolments read ahead by those repositories)."""
        enrolment_ids = {s.enrolment_id for s in submissions}
        result_ids = {s.result_id for s in submissions} | {
            s.supersedes_result_id for s in submissions if s.supersedes_result_id
        }
        rows = await execute(
            self._session,
            _RESULTS_AMONG,
            {"result_ids": list(result_ids), "enrolment_ids": list(enrolment_ids)},
        )
        for row in rows:
            result = _stored(*row)
            if result.result_id not in self._held:  # what this unit of work changed stays
                self._hold(result)
        self._read_ids |= result_ids
        self._read_enrolments |= enrolment_ids

    async def get(self, result_id: str) -> Result | None:
        if result_id in self._kept:
            return self._held[result_id]
        row = (await execute(self._session, _RESULT, {"result_id": result_id})).first()
        return _stored(*row) if row else None

    async def facts(self, submission: AssessedResult) -> Facts:
        """What the service holds that bears on `submission`, in one read or none (read
        ahead); nothing at all when its offering is not known."""
        corrects = submission.supersedes_result_id
        if (
            self._offerings.was_read(submission.offering_id)
            and self._enrolments.was_read(submission.enrolment_id)
            and submission.enrolment_id in self._read_enrolments
            and submission.result_id in self._read_ids
            and (corrects is None or corrects in self._read_ids)
        ):
            offering = await self._offerings.get(submission.offering_id)
            if offering is None:
                return Facts(None, None, None, None, None)
            bearing = {submission.result_id, *self._held_of.get(submission.enrolment_id, ())}
            if corrects is not None:
                bearing.add(corrects)
            found = [self._held[i] for i in bearing if i in self._held]
            enrolment = await self._enrolments.get(submission.enrolment_id)
        else:
            # Not read ahead: what this unit of work keeps is written, so the read sees it.
            await self._enrolments.write_kept()
            await self.write_kept()
            read = await self._facts(submission)
            if read is None:
                return Facts(None, None, None, None, None)
            offering, enrolment, found = read
        by_id = {r.result_id: r for r in found}
        return Facts(
            offering=offering,
            enrolment=enrolment,
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

    async def _facts(
        self, submission: AssessedResult
    ) -> tuple[Offering, Enrolment | None, list[Result]] | None:
        rows = (
            await execute(
                self._session,
                _FACTS,
                {
                    "the_offering_id": submission.offering_id,
                    "enrolment_id": submission.enrolment_id,
                    "result_id": submission.result_id,
                    "corrects": submission.supersedes_result_id,
                },
            )
        ).all()
        if not rows:
            return None
        partner_id, version, *enrolment = rows[0][:6]
        return (
            Offering(submission.offering_id, partner_id, version),
            _enrolment(submission.enrolment_id, *enrolment) if enrolment[0] else None,
            [_stored(*row[6:]) for row in rows if row[6] is not None],
        )

    async def current_of(self, enrolment_id: str) -> Result | None:
        await self.write_kept()
        row = (
            await execute(self._session, _CURRENT_RESULT, {"enrolment_id": enrolment_id})
        ).first()
        return _stored(*row) if row else None

    async def supersede(self, result_id: str, by_result_id: str) -> bool:
        """Marks the result `result_id` as superseded by `by_result_id` if it is current.

        The mark is conditional, so of two corrections racing for the same result only one
        wins: False for the other.
        """
        held = self._held.get(result_id)
        if result_id in self._kept:
            assert held is not None  # what is kept is held
            marked = held.is_current
        else:
            done = await execute(
                self._session,
                _SUPERSEDE,
                {"the_result_id": result_id, "by_result_id": by_result_id},
            )
            marked = done.rowcount == 1
        if marked and held is not None:
            self._held[result_id] = replace(held, superseded_by_result_id=by_result_id)
        return marked

    def add(self, result: Result) -> None:
        """Keeps `result` to be written at the commit (`write_kept`)."""
        self._hold(result)
        self._kept.add(result.result_id)

    def _hold(self, result: Result) -> None:
        self._held[result.result_id] = result
        self._held_of.setdefault(result.result.enrolment_id, set()).add(result.result_id)

    async def write_kept(self) -> None:
        """Writes the results kept. Raises ConcurrentResult (a lost race) when a concurrent
        submission for the same enrolment (its current result) or under the same result_id
        was committed first: judged again, the submission is then a repeat or a refusal."""
        kept, self._kept = self._kept, set()
        if not kept:
            return
        rows = [_row(self._held[result_id]) for result_id in kept]
        if not await all_added(self._session, _ADD_RESULTS, rows):
            raise ConcurrentResult("Another result for this enrolment was just recorded.")

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
        await self.write_kept()
        rows = await execute(
            self._session,
            _PAGE[scope, offering_id is not None],
            {"scope": value, "the_offering_id": offering_id, "limit": limit, "offset": offset},
        )
        return [_stored(*row) for row in rows]
