"""What an accepted enrolment and a submitted result cost assessment's database, pinned
(on SQLite): a new enrolment written with one statement, a change read once and written
once; a result's facts read in one statement and the result written in one; a batch of them
read ahead one statement a table, and its new enrolments and results written at its commit,
one statement each (on PostgreSQL too, `infra`)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa

from services.assessment import application
from services.assessment.domain import AlreadyAssessed
from services.assessment.repository import RESULTS
from services.assessment.unit_of_work import AssessmentUnitOfWork
from shared.db.engine import session_factory
from shared.db.outbox import OUTBOX
from shared.db.statements import execute
from shared.db.uow import UnitOfWorkFactory
from shared.errors import LostRace
from shared.events import (
    AssessedResult,
    EnrolmentAccepted,
    EnrolmentWithdrawn,
    OfferingPublished,
)
from tests.assessment.conftest import TEACHER, accepted_enrolment, result_submitted
from tests.conftest import MigratedEngine
from tests.support.builders import offering_published
from tests.support.sqlite import migrated_sqlite
from tests.support.statements import committed_statements

Units = UnitOfWorkFactory[AssessmentUnitOfWork]


@pytest.fixture
async def units_of_work(tmp_path: Path) -> AsyncIterator[Units]:
    async with migrated_sqlite(tmp_path, "assessment", AssessmentUnitOfWork) as units_of_work:
        yield units_of_work


async def _enrolled(units_of_work: Units) -> EnrolmentAccepted:
    offering = offering_published(TEACHER)
    assert await committed_statements(
        units_of_work, lambda u: application.apply_offering_event(u, offering)
    ) == ["SELECT offerings", "INSERT offerings"]
    enrolment = accepted_enrolment(offering.offering_id, "ada")
    assert await committed_statements(
        units_of_work, lambda u: application.apply_enrolment_event(u, enrolment)
    ) == ["INSERT enrolments"]
    return enrolment


async def test_an_acceptance_is_one_write_and_a_withdrawal_one_read_and_one_write(
    units_of_work: Units,
) -> None:
    enrolment = await _enrolled(units_of_work)
    # Again (another event id): the insert finds it held; read, nothing to write.
    assert await committed_statements(
        units_of_work, lambda u: application.apply_enrolment_event(u, enrolment)
    ) == ["INSERT enrolments", "SELECT enrolments"]
    withdrawn = EnrolmentWithdrawn(
        **enrolment.model_dump(exclude={"accepted_at"}), withdrawn_at=dt.datetime.now(dt.UTC)
    )
    assert await committed_statements(
        units_of_work, lambda u: application.apply_enrolment_event(u, withdrawn)
    ) == ["SELECT enrolments", "UPDATE enrolments"]


async def test_a_result_reads_its_offering_enrolment_and_results_in_one_statement(
    units_of_work: Units,
) -> None:
    enrolment = await _enrolled(units_of_work)
    submitted = result_submitted(enrolment)
    result = AssessedResult.model_validate(submitted.model_dump(exclude={"submitted_at"}))
    recorded = [
        # The offering, the enrolment, the same result_id, the corrected one, the current one.
        "SELECT offerings",
        # A concurrent result inserts nothing (a lost race), without a savepoint round trip.
        "INSERT results",
        "INSERT outbox",
    ]
    assert (
        await committed_statements(units_of_work, lambda u: application.record_result(u, result))
        == recorded
    )
    # The same result again is a repeat: read, nothing written.
    assert (
        await committed_statements(units_of_work, lambda u: application.record_result(u, result))
        == recorded[:1]
    )
    correction = AssessedResult.model_validate(
        {
            **result.model_dump(),
            "result_id": f"{result.result_id}-c",
            "supersedes_result_id": result.result_id,
        }
    )
    assert await committed_statements(
        units_of_work, lambda u: application.record_result(u, correction)
    ) == [*recorded[:1], "UPDATE results", *recorded[1:]]


async def _published(units_of_work: Units) -> OfferingPublished:
    offering = offering_published(TEACHER)
    await committed_statements(
        units_of_work, lambda u: application.apply_offering_event(u, offering)
    )
    return offering


def _assessed(enrolment: EnrolmentAccepted, **changes: object) -> AssessedResult:
    submitted = result_submitted(enrolment, **changes)
    return AssessedResult.model_validate(submitted.model_dump(exclude={"submitted_at"}))


async def test_a_batch_is_read_ahead_one_statement_a_table_and_written_at_its_commit(
    units_of_work: Units,
) -> None:
    offering = await _published(units_of_work)
    accepted = [accepted_enrolment(offering.offering_id, name) for name in ("ada", "bo")]

    async def enrolments(uow: AssessmentUnitOfWork) -> None:
        await application.events_coming(uow, accepted, [])
        for event in accepted:
            await application.apply_enrolment_event(uow, event)

    assert await committed_statements(units_of_work, enrolments) == [
        "SELECT enrolments",
        "INSERT enrolments",
    ]
    submissions = [_assessed(event) for event in accepted]

    async def results(uow: AssessmentUnitOfWork) -> None:
        await application.events_coming(uow, [], submissions)
        for submission in submissions:
            await application.record_result(uow, submission)

    assert await committed_statements(units_of_work, results) == [
        "SELECT enrolments",
        "SELECT offerings",
        "SELECT results",
        "INSERT results",
        "INSERT outbox",
    ]


async def test_each_event_of_a_batch_is_judged_with_what_the_batch_has_not_written_yet(
    units_of_work: Units,
) -> None:
    await _judged_with_what_the_batch_kept(units_of_work)


async def test_each_event_of_a_batch_is_judged_with_what_it_kept_on_postgresql(
    migrated_engine: MigratedEngine,
) -> None:
    """The same on real PostgreSQL (`infra`), where each table is read with one array and
    the rows kept go as one array a column."""
    await _judged_with_what_the_batch_kept(await _on_postgresql(migrated_engine))


async def _on_postgresql(migrated_engine: MigratedEngine) -> Units:
    engine = await migrated_engine("assessment")
    return UnitOfWorkFactory(AssessmentUnitOfWork, session_factory(engine), "urn:test:assessment")


async def _judged_with_what_the_batch_kept(units_of_work: Units) -> None:
    """Enrolments accepted, results for them, a correction of one of those and a repeat of
    another, all in one batch: each sees what the ones before it kept back."""
    offering = await _published(units_of_work)
    ada, bo = (accepted_enrolment(offering.offering_id, name) for name in ("ada", "bo"))
    first, second = _assessed(ada), _assessed(bo)
    correction = _assessed(
        ada, result_id=f"{first.result_id}-c", supersedes_result_id=first.result_id
    )
    submissions = [first, second, correction, second]

    async def batch(uow: AssessmentUnitOfWork) -> None:
        await application.events_coming(uow, [ada, bo], submissions)
        for event in (ada, bo):
            await application.apply_enrolment_event(uow, event)
        for submission in submissions:
            await application.record_result(uow, submission)

    assert await committed_statements(units_of_work, batch) == [
        "SELECT enrolments",
        "SELECT offerings",
        "SELECT results",
        "INSERT enrolments",
        "INSERT results",
        "INSERT outbox",
    ]
    async with units_of_work() as uow:
        rows = await execute(
            uow.session, sa.select(RESULTS.c.result_id, RESULTS.c.superseded_by_result_id)
        )
        held = {result_id: superseded_by for result_id, superseded_by in rows}
        payloads = await execute(
            uow.session, sa.select(OUTBOX.c.payload).order_by(OUTBOX.c.position)
        )
        announced = [json.loads(payload)["result_id"] for payload in payloads.scalars()]
    assert held == {
        first.result_id: correction.result_id,
        second.result_id: None,
        correction.result_id: None,
    }
    # Each recorded once, in the batch's order; the repeat is not announced again.
    assert announced == [first.result_id, second.result_id, correction.result_id]


async def test_a_batch_finds_an_enrolment_s_current_result_written_or_kept(
    units_of_work: Units,
) -> None:
    """A second result for an enrolment, not naming the one it corrects, is refused in the
    batch, whether the first was written before it or kept by the batch."""
    offering = await _published(units_of_work)
    ada, bo = (accepted_enrolment(offering.offering_id, name) for name in ("ada", "bo"))
    await committed_statements(units_of_work, partial(application.apply_enrolment_event, event=ada))
    await committed_statements(units_of_work, partial(application.apply_enrolment_event, event=bo))
    await committed_statements(
        units_of_work, lambda u: application.record_result(u, _assessed(ada))
    )
    again, first, second = _assessed(ada), _assessed(bo), _assessed(bo)
    async with units_of_work() as uow:
        await application.events_coming(uow, [], [again, first, second])
        with pytest.raises(AlreadyAssessed):
            await application.record_result(uow, again)
        await application.record_result(uow, first)
        with pytest.raises(AlreadyAssessed):
            await application.record_result(uow, second)
        await uow.commit()


async def test_an_enrolment_written_meanwhile_is_a_lost_race_at_the_commit(
    units_of_work: Units,
) -> None:
    await _an_enrolment_written_meanwhile(units_of_work)


async def test_an_enrolment_written_meanwhile_is_a_lost_race_on_postgresql(
    migrated_engine: MigratedEngine,
) -> None:
    await _an_enrolment_written_meanwhile(await _on_postgresql(migrated_engine))


async def _an_enrolment_written_meanwhile(units_of_work: Units) -> None:
    offering = await _published(units_of_work)
    accepted = [accepted_enrolment(offering.offering_id, name) for name in ("ada", "bo")]
    async with units_of_work() as uow:
        await application.events_coming(uow, accepted, [])
        # Another process writes the first after this batch read it as not held.
        await committed_statements(
            units_of_work, lambda u: application.apply_enrolment_event(u, accepted[0])
        )
        for event in accepted:
            await application.apply_enrolment_event(uow, event)
        with pytest.raises(LostRace):
            await uow.commit()
