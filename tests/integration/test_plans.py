"""Prebuilt statements run as plans on PostgreSQL (real PostgreSQL, `infra`): straight on the
asyncpg connection of the unit of work's transaction, and answering as SQLAlchemy does. Three
tests run on SQLite, the other way each goes (`with_list`, `insert_rows`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError, InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.db.statements import (
    Fetched,
    Rows,
    execute,
    execute_on,
    insert_all,
    insert_new,
    insert_rows,
    with_list,
)
from shared.transient import is_transient
from tests.conftest import MigratedDatabase

_METADATA = sa.MetaData()
NOTES = sa.Table(
    "plan_notes",
    _METADATA,
    sa.Column("note_id", sa.String, primary_key=True),
    sa.Column("n", sa.Integer, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True)),
    sa.Column("doc", sa.JSON),
    sa.Column("kept", sa.Boolean, nullable=False),
)
_ADD = insert_new(NOTES, returning=NOTES.c.note_id)
_INSERT = sa.insert(NOTES)
_NOTE = sa.select(NOTES, sa.literal("note").label("kind")).where(
    NOTES.c.note_id == sa.bindparam("note_id")
)
_RENUMBER = sa.update(NOTES).where(NOTES.c.kept).values(n=sa.bindparam("n"))
_SOME = sa.select(NOTES.c.note_id).where(NOTES.c.note_id.in_(sa.bindparam("ids", expanding=True)))
_AMONG = with_list(
    lambda one_of: (
        sa.select(NOTES.c.note_id).where(one_of(NOTES.c.note_id, "ids")).order_by(NOTES.c.n)
    )
)
LINES = sa.Table(
    "plan_lines",
    _METADATA,
    sa.Column("line", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("note_id", sa.String, nullable=False, unique=True),
    sa.Column("n", sa.Integer, nullable=False),
)
_LINES = insert_rows(LINES, ["note_id", "n"], returning=LINES.c.note_id, skip_existing=True)
TALLIES = sa.Table(
    "plan_tallies",
    _METADATA,
    sa.Column("note_id", sa.String, primary_key=True),
    sa.Column("day", sa.String, primary_key=True),
    sa.Column("n", sa.Integer, nullable=False),
    sa.Column("first_n", sa.Integer, nullable=False),
)
_TALLIES = insert_rows(TALLIES, ["note_id", "day", "n", "first_n"], update=["n"])
AT = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)


def _note(note_id: str, n: int) -> dict[str, object]:
    return {"note_id": note_id, "n": n, "at": AT, "doc": {"tags": ["a", n]}, "kept": True}


def _line(note_id: str, n: int) -> dict[str, object]:
    return {"note_id": note_id, "n": n}


@pytest.fixture
async def engine(migrated_database: MigratedDatabase) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(await migrated_database("assessment"), pool_size=2)
    async with engine.begin() as connection:
        await connection.run_sync(_METADATA.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """The same tables on SQLite, the unit tests' database."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'plans.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(_METADATA.create_all)
    yield engine
    await engine.dispose()


def _sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


async def test_a_statement_met_again_runs_as_a_plan_and_answers_as_sqlalchemy_does(
    engine: AsyncEngine,
) -> None:
    async with _sessions(engine)() as session:
        first = await execute(session, _ADD, _note("a", 1))
        assert not isinstance(first, Fetched), "met once: SQLAlchemy's path"
        assert first.first() == ("a",)
        added = await execute(session, _ADD, _note("b", 2))
        assert isinstance(added, Fetched), "met again: a plan"
        assert added.first() == ("b",)
        clash = await execute(session, _ADD, _note("b", 3))
        assert clash.first() is None, "ON CONFLICT DO NOTHING: no row back"

        by_sqlalchemy = (await execute(session, _NOTE, {"note_id": "a"})).one()
        planned = await execute(session, _NOTE, {"note_id": "a"})
        assert isinstance(planned, Fetched)
        row = planned.one()
        assert tuple(row) == tuple(by_sqlalchemy)
        # Attribute access, SQLAlchemy's JSON processing, an aware timestamp, a literal.
        assert row.doc == {"tags": ["a", 1]}
        assert row.at == AT
        assert row.kept is True
        assert row.kind == "note"

        assert (await execute(session, _RENUMBER, {"n": 7})).rowcount == 2
        renumbered = await execute(session, _RENUMBER, {"n": 8})
        assert isinstance(renumbered, Fetched)
        assert renumbered.rowcount == 2
        await session.commit()
    async with _sessions(engine)() as session:
        assert (await execute(session, _NOTE, {"note_id": "b"})).one().n == 8, "committed"


async def test_a_plan_runs_in_the_unit_of_works_transaction(engine: AsyncEngine) -> None:
    sessions = _sessions(engine)
    async with sessions() as session:
        await execute(session, _ADD, _note("a", 1))
        await execute(session, _ADD, _note("b", 1))  # a plan from here on
        await session.commit()
    async with sessions() as session:
        await execute(session, _ADD, _note("c", 1))
        await session.rollback()
        await execute(session, _ADD, _note("d", 1))
        # Not committed: closing the session rolls it back.
    async with sessions() as session:
        kept = {row.note_id for row in await execute(session, sa.select(NOTES.c.note_id))}
    assert kept == {"a", "b"}


async def test_a_plan_runs_on_a_connection_begun_outside_a_unit_of_work(
    engine: AsyncEngine,
) -> None:
    """As the outbox relay runs its claim: `engine.begin()` commits the plan's writes when
    the block ends, and keeps none when it ends by an error."""

    async def add_then_fail(note_id: str) -> None:
        async with engine.begin() as connection:
            assert isinstance(await execute_on(connection, _ADD, _note(note_id, 1)), Fetched)
            raise RuntimeError("the broker did not acknowledge")

    async with engine.begin() as connection:
        await execute_on(connection, _ADD, _note("a", 1))
        assert isinstance(await execute_on(connection, _ADD, _note("b", 1)), Fetched)
    with pytest.raises(RuntimeError):
        await add_then_fail("c")
    async with engine.connect() as connection:
        kept = {row.note_id for row in await connection.execute(sa.select(NOTES.c.note_id))}
    assert kept == {"a", "b"}


async def test_a_plans_errors_are_sqlalchemys(engine: AsyncEngine) -> None:
    async with _sessions(engine)() as session:
        for note_id in ("a", "b"):
            await execute(session, _INSERT, _note(note_id, 1))
        with pytest.raises(IntegrityError) as clash:
            await execute(session, _INSERT, _note("a", 1))
        assert getattr(clash.value.orig, "sqlstate", None) == "23505"
    async with _sessions(engine)() as session:
        await execute(session, _NOTE, {"note_id": "a"})
        with pytest.raises(InvalidRequestError, match="note_id"):
            await execute(session, _NOTE, {})


async def test_a_lost_connection_is_invalidated_and_the_next_unit_of_work_goes_on(
    engine: AsyncEngine,
) -> None:
    sessions = _sessions(engine)
    async with sessions() as session:
        await execute(session, _ADD, _note("a", 1))
        await execute(session, _ADD, _note("b", 1))
        await session.commit()
    async with sessions() as session:
        raw = await (await session.connection()).get_raw_connection()
        backend = await raw.driver_connection.fetchval("SELECT pg_backend_pid()")  # type: ignore[union-attr]
        async with engine.connect() as other:
            await other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        with pytest.raises(sa.exc.DBAPIError) as lost:
            await execute(session, _NOTE, {"note_id": "a"})
        assert lost.value.connection_invalidated
        assert is_transient(lost.value), "the consumer and the requests retry it"
    async with sessions() as session:
        assert (await execute(session, _NOTE, {"note_id": "a"})).one().note_id == "a"


async def test_listeners_and_statements_settled_as_they_run_take_sqlalchemys_path(
    engine: AsyncEngine,
) -> None:
    seen: list[str] = []

    def count(*args: object) -> None:
        seen.append(str(args[2]))

    async with _sessions(engine)() as session:
        for note_id in ("a", "b", "c"):
            await execute(session, _ADD, _note(note_id, 1))
        for _ in range(2):
            some = await execute(session, _SOME, {"ids": ["a", "c"]})
            assert not isinstance(some, Fetched), "an expanding IN is settled as it runs"
            assert sorted(row.note_id for row in some) == ["a", "c"]
        event.listen(engine.sync_engine, "before_cursor_execute", count)
        try:
            traced = await execute(session, _NOTE, {"note_id": "a"})
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", count)
        assert not isinstance(traced, Fetched), "a listener (a statement span) sees it"
        assert traced.one().note_id == "a"
    assert len(seen) == 1


async def _notes_among(sessions: async_sessionmaker[AsyncSession]) -> list[Rows]:
    """`with_list`'s statement asked for three lists: two of several lengths, one empty."""
    async with sessions() as session:
        for n, note_id in enumerate("abc"):
            await execute(session, _ADD, _note(note_id, n))
        answers = [
            await execute(session, _AMONG, {"ids": ids}) for ids in (["c", "z", "a"], ["b"], [])
        ]
    assert [[row.note_id for row in rows] for rows in answers] == [["a", "c"], ["b"], []]
    return answers


async def test_a_list_goes_as_one_array_and_runs_as_a_plan(engine: AsyncEngine) -> None:
    first, *again = await _notes_among(_sessions(engine))
    assert not isinstance(first, Fetched), "met once: SQLAlchemy's path"
    assert all(isinstance(rows, Fetched) for rows in again), "one plan for a list of any length"


async def test_a_list_goes_as_an_expanding_in_elsewhere(sqlite_engine: AsyncEngine) -> None:
    await _notes_among(_sessions(sqlite_engine))


async def _insert_lines(sessions: async_sessionmaker[AsyncSession]) -> list[Rows]:
    """Two calls of one `insert_rows` statement; the second repeats a committed row and
    gives a new one twice."""
    answers = []
    async with sessions() as session:
        answers.append(await insert_all(session, _LINES, [_line("a", 1), _line("b", 2)]))
        await session.commit()
    async with sessions() as session:
        given = [_line("d", 4), _line("b", 9), _line("c", 3), _line("d", 5)]
        answers.append(await insert_all(session, _LINES, given))
        await session.commit()
    async with sessions() as session:
        lines = await execute(session, sa.select(LINES).order_by(LINES.c.line))
        assert [(row.note_id, row.n) for row in lines] == [("a", 1), ("b", 2), ("d", 4), ("c", 3)]
    return answers


async def test_rows_go_in_one_plan_in_their_order_and_the_existing_are_skipped(
    engine: AsyncEngine,
) -> None:
    first, second = await _insert_lines(_sessions(engine))
    assert sorted(first.scalars()) == ["a", "b"]
    assert isinstance(second, Fetched), "met again: one plan for any number of rows"
    assert sorted(second.scalars()) == ["c", "d"], "b was there; d is written once"


async def test_rows_go_as_a_list_of_parameter_sets_elsewhere(sqlite_engine: AsyncEngine) -> None:
    first, second = await _insert_lines(_sessions(sqlite_engine))
    assert sorted(first.scalars()) == ["a", "b"]
    assert sorted(second.scalars()) == ["c", "d"]


async def _tally(sessions: async_sessionmaker[AsyncSession]) -> list[Rows]:
    """Two calls of one `insert_rows` statement with `update`: the second changes a committed
    row (its key in two columns) and adds one; only the named column changes."""
    answers = []
    for given in (
        [("a", "mon", 1), ("b", "mon", 2)],
        [("a", "mon", 5), ("a", "tue", 3)],
    ):
        rows = [{"note_id": i, "day": d, "n": n, "first_n": n} for i, d, n in given]
        async with sessions() as session:
            answers.append(await insert_all(session, _TALLIES, rows))
            await session.commit()
    async with sessions() as session:
        tallies = await execute(session, sa.select(TALLIES).order_by(TALLIES.c.note_id, "day"))
        assert [tuple(row) for row in tallies] == [
            ("a", "mon", 5, 1),
            ("a", "tue", 3, 3),
            ("b", "mon", 2, 2),
        ]
    return answers


async def test_rows_whose_key_is_taken_change_it_in_one_plan(engine: AsyncEngine) -> None:
    _, second = await _tally(_sessions(engine))
    assert isinstance(second, Fetched), "met again: one plan for any number of rows"


async def test_rows_whose_key_is_taken_change_it_elsewhere(sqlite_engine: AsyncEngine) -> None:
    await _tally(_sessions(sqlite_engine))
