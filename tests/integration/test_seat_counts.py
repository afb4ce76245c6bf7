"""An offering's seat counts, kept on its row by a trigger on PostgreSQL (migration
enrolment_0003), agree with its enrolments through every way a place is taken or given up,
and requests are decided on them; the migration counts the enrolments already there."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable
from functools import partial

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.enrolment import application
from services.enrolment.domain import AlreadyEnrolled, Enrolment, EnrolmentStatus
from services.enrolment.unit_of_work import EnrolmentUnitOfWork
from shared.db.engine import create_engine, session_factory
from shared.db.group_commit import GroupCommit
from shared.db.migrate import alembic_config
from shared.db.uow import UnitOfWorkFactory, run_committed
from shared.errors import LostRace
from shared.events import OfferingPublished
from tests.conftest import MigratedEngine
from tests.support.builders import offering_published, offering_withdrawn
from tests.support.infra import Infrastructure, create_database, drop_database
from tests.support.statements import CountedUnits, committed_statements

Units = UnitOfWorkFactory[EnrolmentUnitOfWork]
_COUNTED = """
SELECT o.accepted, o.waiting,
    (SELECT count(*) FROM enrolments e WHERE e.offering_id = o.offering_id
        AND e.status = 'accepted'),
    (SELECT count(*) FROM enrolments e WHERE e.offering_id = o.offering_id
        AND e.status = 'waitlisted')
FROM offerings o WHERE o.offering_id = :offering_id
"""


@pytest.fixture
async def engine(migrated_engine: MigratedEngine) -> AsyncEngine:
    return await migrated_engine("enrolment")


async def _seats(engine: AsyncEngine, offering_id: str) -> tuple[int, int]:
    """The row's counts, after checking them against the enrolments themselves."""
    async with engine.connect() as connection:
        row = (await connection.execute(text(_COUNTED), {"offering_id": offering_id})).one()
    kept, counted = (row[0], row[1]), (row[2], row[3])
    assert kept == counted, f"the offering's row says {kept}, its enrolments {counted}"
    return kept


async def _request(units: Units, learner_id: str, offering_id: str) -> Enrolment:
    return await run_committed(
        units, lambda uow: application.request_enrolment(uow, learner_id, offering_id)
    )


async def _publish(units: Units, offering: OfferingPublished) -> None:
    async with units() as uow:
        await application.apply_offering_event(uow, offering)
        await uow.commit()


async def test_the_counts_follow_every_change_of_place(engine: AsyncEngine) -> None:
    units = UnitOfWorkFactory(EnrolmentUnitOfWork, session_factory(engine), "enrolment")
    offering = offering_published("rheinfeld", capacity=2)
    await _publish(units, offering)
    assert await _seats(engine, offering.offering_id) == (0, 0)

    decided = [await _request(units, f"lrn-learner-{n}", offering.offering_id) for n in range(5)]
    assert [e.status for e in decided] == [EnrolmentStatus.ACCEPTED] * 2 + [
        EnrolmentStatus.WAITLISTED
    ] * 3
    assert [e.position for e in decided[2:]] == [1, 2, 3]
    assert await _seats(engine, offering.offering_id) == (2, 3)

    # A place given up goes to the first in line: still two places, two waiting.
    await run_committed(
        units,
        lambda uow: application.withdraw_enrolment(uow, "lrn-learner-0", decided[0].enrolment_id),
    )
    assert await _seats(engine, offering.offering_id) == (2, 2)
    # A queue place given up frees no seat.
    await run_committed(
        units,
        lambda uow: application.withdraw_enrolment(uow, "lrn-learner-4", decided[4].enrolment_id),
    )
    assert await _seats(engine, offering.offering_id) == (2, 1)
    # A learner who asks again joins the queue behind the one still waiting.
    again = await _request(units, "lrn-learner-0", offering.offering_id)
    assert (again.status, again.position) == (EnrolmentStatus.WAITLISTED, 2)
    assert await _seats(engine, offering.offering_id) == (2, 2)

    # The offering withdrawn: everyone waiting is turned away; the places stand.
    async with units() as uow:
        await application.apply_offering_event(uow, offering_withdrawn(offering, version=2))
        await uow.commit()
    assert await _seats(engine, offering.offering_id) == (2, 0)


async def test_the_migration_counts_the_enrolments_already_held(infra: Infrastructure) -> None:
    name = await create_database(infra, "enrolment")
    url = infra.database_url(name)
    engine = create_engine(url)
    try:
        await asyncio.to_thread(command.upgrade, alembic_config("enrolment", url), "enrolment_0002")
        now = dt.datetime.now(dt.UTC)
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO offerings (offering_id, partner_id, version, status, capacity, "
                    "required_offering_ids, changed_at) "
                    "VALUES ('off-1', 'rheinfeld', 1, 'published', 5, '[]', :now)"
                ),
                {"now": now},
            )
            for n, status in enumerate(("accepted", "accepted", "waitlisted", "withdrawn")):
                await connection.execute(
                    text(
                        "INSERT INTO enrolments (enrolment_id, offering_id, partner_id, "
                        "learner_id, status, requested_at, changed_at) "
                        "VALUES (:id, 'off-1', 'rheinfeld', :learner, :status, :now, :now)"
                    ),
                    {"id": f"enr-{n}", "learner": f"lrn-learner-{n}", "status": status, "now": now},
                )
        await asyncio.to_thread(command.upgrade, alembic_config("enrolment", url), "head")
        assert await _seats(engine, "off-1") == (2, 1)
    finally:
        await engine.dispose()
        await drop_database(infra, name)


async def _waiting_for_a_lock(engine: AsyncEngine) -> None:
    """Returns once a session of the test's database waits for a row lock."""
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        async with engine.connect() as connection:
            waiting = await connection.scalar(text(_WAITING_FOR_A_LOCK))
        if waiting:
            return
        assert asyncio.get_running_loop().time() < deadline, "no request waited for the lock"
        await asyncio.sleep(0.02)


_WAITING_FOR_A_LOCK = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock'
"""


async def test_a_request_is_its_standing_read_under_the_lock_and_one_write(
    engine: AsyncEngine,
) -> None:
    units = UnitOfWorkFactory(EnrolmentUnitOfWork, session_factory(engine), "enrolment")
    offering = offering_published("rheinfeld", capacity=1)
    await _publish(units, offering)
    for learner in ("lrn-ada-0001", "lrn-bob-0002"):
        statements = await committed_statements(
            units,
            partial(
                application.request_enrolment, learner_id=learner, offering_id=offering.offering_id
            ),
        )
        # The offering locked with the learner's enrolment in it and their credentials (a
        # subquery of the select list, which names its table first), then the insert.
        assert statements == ["SELECT earned_credentials", "INSERT enrolments", "INSERT outbox"]
    assert await _seats(engine, offering.offering_id) == (1, 1)


async def test_a_second_request_committed_while_one_waits_for_the_lock_is_caught_by_the_insert(
    engine: AsyncEngine,
) -> None:
    """The learner's standing is read as the request's statement starts: a request of theirs
    committed while it waits for the offering's lock is not seen by it, so the insert must
    refuse to write a second place (the partial unique index), and the request runs again and
    finds the first."""
    units = UnitOfWorkFactory(EnrolmentUnitOfWork, session_factory(engine), "enrolment")
    offering = offering_published("rheinfeld", capacity=5)
    await _publish(units, offering)
    learner = "lrn-twice-0001"

    async def ask() -> Enrolment:
        async with units() as uow:
            return await application.request_enrolment(uow, learner, offering.offering_id)

    async with units() as holder:
        assert await holder.offerings.lock(offering.offering_id) is not None
        waiting = asyncio.create_task(ask())
        await _waiting_for_a_lock(engine)
        first = await application.request_enrolment(holder, learner, offering.offering_id)
        await holder.commit()
    with pytest.raises(LostRace):
        await waiting
    assert first.status is EnrolmentStatus.ACCEPTED
    assert await _seats(engine, offering.offering_id) == (1, 0)

    # Run again (as run_committed does on a lost race), it names the place already held.
    with pytest.raises(AlreadyEnrolled, match=first.enrolment_id):
        await _request(units, learner, offering.offering_id)
    assert await _seats(engine, offering.offering_id) == (1, 0)


async def test_requests_decided_together_in_two_processes_never_overbook(
    engine: AsyncEngine,
) -> None:
    """Two enrolment processes, each deciding its requests for an offering together (one
    transaction for those that queued meanwhile), race for its places; one learner asks
    through both at once."""
    units = CountedUnits(EnrolmentUnitOfWork, session_factory(engine), "enrolment")
    offering = offering_published("rheinfeld", capacity=10)
    await _publish(units, offering)
    processes = [GroupCommit(units), GroupCommit(units)]
    opened = units.opened
    learners = [f"lrn-together-{n:04d}" for n in range(40)]

    def ask(learner_id: str, through: int) -> Awaitable[Enrolment]:
        return processes[through].run(
            offering.offering_id,
            lambda uow: application.request_enrolment(uow, learner_id, offering.offering_id),
        )

    answers = await asyncio.gather(
        *(ask(learner, n % 2) for n, learner in enumerate(learners)),
        ask("lrn-both-0000", 0),
        ask("lrn-both-0000", 1),
        return_exceptions=True,
    )
    decided = [a for a in answers if isinstance(a, Enrolment)]
    refused = [a for a in answers if not isinstance(a, Enrolment)]
    assert len(decided) == 41
    assert len(refused) == 1
    assert isinstance(refused[0], AlreadyEnrolled)
    statuses = [e.status for e in decided]
    assert statuses.count(EnrolmentStatus.ACCEPTED) == 10
    assert sorted(e.position or 0 for e in decided if e.position) == list(range(1, 32))
    assert await _seats(engine, offering.offering_id) == (10, 31)
    # Decided together: far fewer transactions than the 42 requests (two when each process
    # takes its requests at once; more if a batch lost the race for the learner asking twice
    # and ran again one request at a time).
    assert units.opened - opened < 30
