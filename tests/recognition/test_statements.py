"""What one credential event costs recognition's database, pinned: the learner's standing
read once, whatever else the event moves, and the credentials and progress of a whole batch
of events written at its commit, one statement each (on SQLite)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa

from services.recognition import application
from services.recognition.unit_of_work import RecognitionUnitOfWork
from shared.db.outbox import OUTBOX
from shared.db.statements import execute
from shared.db.uow import UnitOfWorkFactory
from shared.events import OfferingPublished, PathwayProgressed
from tests.recognition.conftest import (
    credential_issued,
    credential_suspended,
    pathway_defined,
    stacked_issued,
)
from tests.support.builders import offering_published
from tests.support.identities import new_id
from tests.support.sqlite import migrated_sqlite
from tests.support.statements import committed_statements

Units = UnitOfWorkFactory[RecognitionUnitOfWork]

# Every credential event reads the learner's record (credentials, announced progress and
# completions) in one statement, then judges it on every pathway: their current versions and
# the titles of what they require.
RECORD = "SELECT credentials"
PATHWAYS = ["SELECT pathway_definitions", "SELECT offerings"]
# The first time the process meets a version of a pathway, its definition is read once more.
FIRST_OF_A_VERSION = ["SELECT pathway_definitions", *PATHWAYS]


@pytest.fixture
async def units_of_work(tmp_path: Path) -> AsyncIterator[Units]:
    async with migrated_sqlite(tmp_path, "recognition", RecognitionUnitOfWork) as units_of_work:
        yield units_of_work


@pytest.fixture
async def offering(units_of_work: Units) -> OfferingPublished:
    """An offering a pathway requires, so each event judges the learner on it."""
    offering = offering_published("rheinfeld")
    pathway = pathway_defined("valdemora", required_offering_ids=(offering.offering_id,))
    await committed_statements(
        units_of_work, lambda u: application.apply_offering_event(u, offering)
    )
    await committed_statements(units_of_work, lambda u: application.pathway_defined(u, pathway))
    return offering


async def test_an_issued_credential_is_written_and_the_learner_read_once(
    units_of_work: Units, offering: OfferingPublished
) -> None:
    learner_id = new_id("lrn")
    first = credential_issued(learner_id, "rheinfeld", offering.offering_id)
    assert await committed_statements(
        units_of_work, lambda u: application.credential_issued(u, first)
    ) == [
        RECORD,
        *FIRST_OF_A_VERSION,
        "INSERT credentials",  # unless known, in the same statement
        "INSERT pathway_progress",  # or in place of what was announced, in the same statement
        "INSERT outbox",
    ]
    second = credential_issued(learner_id, "nordhavn")
    assert await committed_statements(
        units_of_work, lambda u: application.credential_issued(u, second)
    ) == [RECORD, *PATHWAYS, "INSERT credentials", "INSERT pathway_progress", "INSERT outbox"]
    # Announced once more: the credential is not written again, nothing is announced.
    assert await committed_statements(
        units_of_work, lambda u: application.credential_issued(u, second)
    ) == [RECORD, *PATHWAYS, "INSERT credentials"]
    async with units_of_work() as uow:
        held = await uow.credentials.of_learner(learner_id)
    assert [c.credential_id for c in held] == [first.credential_id, second.credential_id]


async def test_a_suspension_is_one_update_then_the_learner_read_once(
    units_of_work: Units, offering: OfferingPublished
) -> None:
    issued = credential_issued(new_id("lrn"), "rheinfeld", offering.offering_id)
    await committed_statements(units_of_work, lambda u: application.credential_issued(u, issued))
    suspended = credential_suspended(issued)
    assert await committed_statements(
        units_of_work, lambda u: application.credential_suspended(u, suspended)
    ) == ["UPDATE credentials", RECORD, *PATHWAYS, "INSERT pathway_progress", "INSERT outbox"]


async def test_a_stacked_credential_reads_the_learners_completions_once(
    units_of_work: Units, offering: OfferingPublished
) -> None:
    learner_id = new_id("lrn")
    for issued in (
        credential_issued(learner_id, "rheinfeld", offering.offering_id),
        credential_issued(learner_id, "nordhavn"),
        credential_issued(learner_id, "vallombra"),
    ):
        await committed_statements(
            units_of_work, partial(application.credential_issued, event=issued)
        )
    async with units_of_work() as uow:
        [completion] = (await uow.learners.record(learner_id)).completions
    stacked = stacked_issued(learner_id, completion.pathway_id, completion.component_ids, 15)
    assert await committed_statements(
        units_of_work, lambda u: application.credential_issued(u, stacked)
    ) == [
        RECORD,  # with the completions, to tie the credential to its completion and judge
        "UPDATE pathway_completions",
        *PATHWAYS,
        "INSERT credentials",
    ]
    async with units_of_work() as uow:
        [tied] = (await uow.learners.record(learner_id)).completions
    assert tied.stacked_credential_id == stacked.credential_id


async def test_a_batch_of_events_reads_the_pathways_and_their_modules_once(
    units_of_work: Units, offering: OfferingPublished
) -> None:
    """The consumer applies a run of records in one unit of work: the pathways' versions and
    the titles of their modules are read for its first credential event, not for the next;
    the versions again once a new version of a pathway is stored, the modules again once
    one of them changes."""
    ada, bob = new_id("lrn"), new_id("lrn")

    async def batch(uow: RecognitionUnitOfWork) -> None:
        for learner_id in (ada, bob):
            issued = credential_issued(learner_id, "rheinfeld", offering.offering_id)
            await application.credential_issued(uow, issued)
        newer = pathway_defined("valdemora", required_offering_ids=(offering.offering_id,))
        await application.pathway_defined(uow, newer)
        await application.credential_issued(uow, credential_issued(ada, "nordhavn"))
        changed = offering_published("rheinfeld", offering_id=offering.offering_id, version=2)
        await application.apply_offering_event(uow, changed)
        await application.credential_issued(uow, credential_issued(bob, "nordhavn"))

    assert await committed_statements(units_of_work, batch) == [
        RECORD,
        *FIRST_OF_A_VERSION,
        RECORD,
        # The new version: stored, what the batch kept back written so that every learner
        # is judged on it, and every learner judged.
        "SELECT pathway_definitions",
        "INSERT pathway_definitions",
        "INSERT credentials",
        "INSERT pathway_progress",
        "SELECT pathway_progress",
        "SELECT pathway_completions",
        "SELECT credentials",
        RECORD,
        "SELECT pathway_definitions",
        "SELECT pathway_definitions",
        # The module changed: its title is read again.
        "SELECT offerings",
        "INSERT offerings",
        RECORD,
        "SELECT offerings",
        # Both learners' second credentials and progress on both versions, at the commit.
        "INSERT credentials",
        "INSERT pathway_progress",
        "INSERT outbox",
    ]


async def test_each_event_of_a_batch_is_judged_with_what_the_batch_has_not_written_yet(
    units_of_work: Units, offering: OfferingPublished
) -> None:
    """Two credentials of one learner in one unit of work: the learner's record is read once,
    the second event's judgement counts the first, and its progress is announced from the
    first's, though neither is written before the commit."""
    learner_id = new_id("lrn")
    first = credential_issued(learner_id, "rheinfeld", offering.offering_id)
    second = credential_issued(learner_id, "nordhavn")

    async def batch(uow: RecognitionUnitOfWork) -> None:
        await application.credential_issued(uow, first)
        await application.credential_issued(uow, second)

    assert await committed_statements(units_of_work, batch) == [
        RECORD,
        *FIRST_OF_A_VERSION,
        "INSERT credentials",
        "INSERT pathway_progress",
        "INSERT outbox",
    ]
    async with units_of_work() as uow:
        payloads = await execute(
            uow.session,
            sa.select(OUTBOX.c.payload)
            .where(OUTBOX.c.event_type == "eu.alliance.pathway.progressed.v1")
            .order_by(OUTBOX.c.position),
        )
        announced = [PathwayProgressed.model_validate_json(p) for (p,) in payloads]
        record = await uow.learners.record(learner_id)
    counted = [a.counted_credential_ids for a in announced if a.learner_id == learner_id]
    assert counted == [(first.credential_id,), (first.credential_id, second.credential_id)]
    assert [c.credential_id for c in record.credentials] == [
        first.credential_id,
        second.credential_id,
    ]
    [(_, progress)] = record.announced.items()
    assert progress.counted == tuple(sorted(counted[-1]))  # kept in id order


async def test_the_records_of_a_batch_s_learners_are_read_in_one_statement(
    units_of_work: Units, offering: OfferingPublished
) -> None:
    """The consumer hands a run's events to recognition before applying them: the records of
    every learner they are about come in one read, each learner judged on their own."""
    ada, bob = new_id("lrn"), new_id("lrn")
    earlier = credential_issued(bob, "nordhavn")
    await committed_statements(units_of_work, lambda u: application.credential_issued(u, earlier))
    events = [
        credential_issued(learner, "rheinfeld", offering.offering_id) for learner in (ada, bob)
    ]

    async def batch(uow: RecognitionUnitOfWork) -> None:
        await application.credentials_coming(uow, events)
        for issued in events:
            await application.credential_issued(uow, issued)

    assert await committed_statements(units_of_work, batch) == [
        RECORD,
        *PATHWAYS,
        "INSERT credentials",
        "INSERT pathway_progress",
        "INSERT outbox",
    ]
    async with units_of_work() as uow:
        records = {learner: await uow.learners.record(learner) for learner in (ada, bob)}
    assert [c.credential_id for c in records[ada].credentials] == [events[0].credential_id]
    assert [c.credential_id for c in records[bob].credentials] == [
        earlier.credential_id,
        events[1].credential_id,
    ]
    [(_, progress)] = records[bob].announced.items()
    assert progress.counted == tuple(sorted((earlier.credential_id, events[1].credential_id)))


async def test_a_record_read_ahead_is_read_again_once_its_learner_s_completion_is_written(
    units_of_work: Units, offering: OfferingPublished
) -> None:
    """The last module completes the pathway, and the stacked credential comes in the same
    batch: it is tied to the completion just written, which the record read ahead of the
    batch did not hold (were that record used, the credential would start a second one)."""
    learner_id = new_id("lrn")
    for issued in (
        credential_issued(learner_id, "rheinfeld", offering.offering_id),
        credential_issued(learner_id, "nordhavn"),
    ):
        await committed_statements(
            units_of_work, partial(application.credential_issued, event=issued)
        )
    last = credential_issued(learner_id, "vallombra")

    async def batch(uow: RecognitionUnitOfWork) -> None:
        await application.credentials_coming(uow, [last])
        await application.credential_issued(uow, last)
        [pathway] = await uow.pathways.all_current()
        stacked = stacked_issued(learner_id, pathway.pathway_id, (last.credential_id,), 15)
        await application.credential_issued(uow, stacked)

    statements = await committed_statements(units_of_work, batch)
    assert statements.count(RECORD) == 2
    async with units_of_work() as uow:
        [completion] = (await uow.learners.record(learner_id)).completions
    assert completion.stacked_credential_id is not None
