"""What an accepted enrolment and a submitted result cost assessment's database, pinned
(on SQLite): a new enrolment written with one statement, a change read once and written
once; a result's facts read in one statement and the result written in one."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.assessment import application
from services.assessment.unit_of_work import AssessmentUnitOfWork
from shared.db.uow import UnitOfWorkFactory
from shared.events import AssessedResult, EnrolmentAccepted, EnrolmentWithdrawn
from tests.assessment.conftest import TEACHER, accepted_enrolment, result_submitted
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
