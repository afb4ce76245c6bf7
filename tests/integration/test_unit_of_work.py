"""The unit of work's one transaction on a real PostgreSQL: statements run as plans (the
inbox claim, the outbox write) and ORM writes (a deferral) are committed together by
`commit`, and none of them is kept when the unit of work is left without it or by an error.
Each case runs twice: the second time on the plans the first one prepared. The last test reads
deferred events back as a consumer does after a commit that released their facts."""

from __future__ import annotations

import contextlib
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import deferral, inbox, outbox
from shared.db.engine import session_factory
from shared.db.uow import UnitOfWork, UnitOfWorkFactory
from shared.messaging.dead_letter import ConsumedRecord
from tests.conftest import MigratedEngine
from tests.support.builders import offering_published

_COUNTS = (
    "SELECT count(*) FROM inbox WHERE consumer = :c",
    "SELECT count(*) FROM deferred_events WHERE consumer = :c",
    "SELECT count(*) FROM outbox WHERE source = :c",
)


@pytest.fixture
async def engine(migrated_engine: MigratedEngine) -> AsyncEngine:
    return await migrated_engine("assessment")


async def _write_each_kind(uow: UnitOfWork, consumer: str, orm: bool = True) -> None:
    assert await inbox.claim(uow.session, consumer, f"{consumer}-event", "test")
    if orm:
        record = ConsumedRecord("alliance.results", 0, 7, b"key", b"{}", ())
        deferral.defer(uow.session, consumer, record, "enrolment:e-1", "waits")
    await outbox.write(
        uow.session, [outbox.row_for_event(offering_published("nordhavn"), consumer)]
    )


async def _kept(engine: AsyncEngine, consumer: str) -> list[int]:
    async with engine.connect() as connection:
        return [
            (await connection.execute(text(count), {"c": consumer})).scalar_one()
            for count in _COUNTS
        ]


@pytest.mark.parametrize("orm", [True, False], ids=["with the ORM", "statements only"])
async def test_commit_keeps_every_write(engine: AsyncEngine, orm: bool) -> None:
    units = UnitOfWorkFactory(UnitOfWork, session_factory(engine), "assessment")
    for attempt in range(2):
        consumer = f"uow-{uuid.uuid4().hex[:6]}-{attempt}"
        async with units() as uow:
            await _write_each_kind(uow, consumer, orm)
            uow.record(offering_published("nordhavn"))  # written by the commit itself
            await uow.commit()
        assert await _kept(engine, consumer) == [1, int(orm), 1]
        async with engine.connect() as connection:
            recorded = await connection.execute(
                text("SELECT count(*) FROM outbox WHERE source = 'assessment'")
            )
            assert recorded.scalar_one() == attempt + 1


@pytest.mark.parametrize("ending", ["left without commit", "an error"])
async def test_nothing_is_kept_without_commit(engine: AsyncEngine, ending: str) -> None:
    units = UnitOfWorkFactory(UnitOfWork, session_factory(engine), "assessment")
    for attempt in range(2):
        consumer = f"uow-{uuid.uuid4().hex[:6]}-{attempt}"
        failing = ending == "an error"
        with pytest.raises(RuntimeError) if failing else contextlib.nullcontext():
            async with units() as uow:
                await _write_each_kind(uow, consumer)
                await uow.session.flush()  # the ORM's insert reaches the database too
                if failing:
                    raise RuntimeError("the handler failed")
        assert await _kept(engine, consumer) == [0, 0, 0]


async def test_the_events_waiting_for_released_facts_are_found_outside_any_transaction(
    engine: AsyncEngine,
) -> None:
    """`deferral.pending`, as a consumer asks after each commit that released facts (in
    autocommit): from the second time on, on the plan the first one prepared."""
    units = UnitOfWorkFactory(UnitOfWork, session_factory(engine), "assessment")
    consumer = f"uow-{uuid.uuid4().hex[:6]}"
    async with units() as uow:
        for offset, fact in enumerate(["enrolment:e-1", "enrolment:e-2", "enrolment:e-1"]):
            record = ConsumedRecord("alliance.results", 0, offset, b"key", b"{}", ())
            deferral.defer(uow.session, consumer, record, fact, "waits")
        await uow.commit()
    for facts in (["enrolment:e-1", "enrolment:e-9"], ["enrolment:e-2"], []):
        waiting = await deferral.pending(engine, consumer, facts)
        expected = [o for o, f in enumerate(["e-1", "e-2", "e-1"]) if f"enrolment:{f}" in facts]
        assert [record.offset for _, record in waiting] == expected, facts
