"""Prebuilt statements, run as Core on a unit of work's transaction.

Repositories build their statements once, at import, with named parameters: the statement's
cache key and compiled form are then reused, and the ORM's execution path (identity map,
instance state, flush) is skipped, which costs more than a few-row statement does. Where
PostgreSQL and SQLite (the fallback the unit tests run on) need different SQL, a statement
is given per dialect name and the connection's dialect picks it.

On PostgreSQL a prebuilt statement met a second time runs as a plan (`_Plan`): its SQL,
compiled once, goes straight to the asyncpg connection under the unit of work's
transaction. A one-row SELECT cost the service 150 µs of CPU through SQLAlchemy's execution
path (execution context, parameters, result set-up, a greenlet per call), 72 µs as a plan and
48 µs for the driver alone (4,000 runs, this machine). A plan keeps what the repositories rely
on: the one transaction, SQLAlchemy's own type processing, rows with attribute access, the
rows a statement touched, and errors raised as SQLAlchemy raises them (IntegrityError, a lost
connection invalidated). A statement with something settled only as it runs (an expanding IN,
a Python-side default), a list of parameter sets, or an engine with event listeners (statement
spans when traces are exported, the tests' statement counts) takes SQLAlchemy's path.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    CursorResult,
    Executable,
    IteratorResult,
    Table,
    any_,
    bindparam,
    column as named_column,
    func,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.result import SimpleResultMetaData
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import greenlet_spawn
from sqlmodel.ext.asyncio.session import AsyncSession


class Fetched(IteratorResult[*tuple[Any, ...]]):
    """A plan's rows, and how many rows the statement touched (as `CursorResult` has it)."""

    rowcount: int = -1


Rows = CursorResult[*tuple[Any, ...]] | Fetched
# One statement for every database, or one per dialect name ("postgresql", "sqlite").
Statement = Executable | Mapping[str, Executable]
Parameters = Mapping[str, Any] | Sequence[Mapping[str, Any]] | None

_DIALECTS = (postgresql, sqlite)
# The unit of work's connection, with the transaction it belongs to, in its session's `info`.
_HELD = "shared.db.statements.connection"


async def execute(
    session: AsyncSession, statement: Statement, parameters: Parameters = None
) -> Rows:
    """Runs a prebuilt statement (or its dialect's) on the session's transaction."""
    return await execute_on(await _connection(session), statement, parameters)


async def execute_on(
    connection: AsyncConnection, statement: Statement, parameters: Parameters = None
) -> Rows:
    """Runs a prebuilt statement (or its dialect's) on a connection whose transaction has
    begun (`engine.begin()`), for work outside a unit of work (the outbox relay's)."""
    if isinstance(statement, Mapping):
        statement = statement[connection.dialect.name]
    if connection.dialect.driver == "asyncpg" and not isinstance(parameters, Sequence):
        given = parameters or {}
        plan = _plan_for(statement, given, connection)
        if plan is not None:
            return await plan.run(connection, given)
    return await connection.execute(statement, parameters)


def hold(session: AsyncSession, connection: AsyncConnection) -> None:
    """Says that `session` is bound to `connection`, which has begun the transaction the
    session joins: statements run on it without asking the session."""
    session.info[_HELD] = (None, connection)


async def _connection(session: AsyncSession) -> AsyncConnection:
    """The session's connection: the one it is bound to (`hold`) until the ORM begins its
    own transaction there, else asked of the session once per transaction, as each ask
    costs a greenlet."""
    transaction = session.sync_session.get_transaction()
    held = session.info.get(_HELD)
    if held is not None and held[0] is transaction:
        connection: AsyncConnection = held[1]
        return connection
    connection = await session.connection()
    session.info[_HELD] = (session.sync_session.get_transaction(), connection)
    return connection


_Bind = Callable[[Any], Any]
_REQUIRED = object()


class _Plan:
    """A statement compiled once for asyncpg: its SQL, its parameters in order (each with its
    type processing, and the value of a literal), and how its rows are read."""

    def __init__(self, compiled: SQLCompiler, dialect: Dialect) -> None:
        self._dialect = dialect
        self.sql = compiled.string
        processors = compiled._bind_processors
        self._parameters: tuple[tuple[str, _Bind | None, Any], ...] = tuple(
            (
                name,
                processor if callable(processor := processors.get(name)) else None,
                _REQUIRED if compiled.binds[name].required else compiled.binds[name].value,
            )
            for name in compiled.positiontup or ()
        )
        self._columns = [(column.keyname, column.type) for column in compiled._result_columns]
        self._metadata: SimpleResultMetaData | None = None

    async def run(self, connection: AsyncConnection, parameters: Mapping[str, Any]) -> Fetched:
        values = []
        for name, process, fixed in self._parameters:
            value = parameters.get(name, fixed)
            if value is _REQUIRED:
                raise InvalidRequestError(f"A value is required for bind parameter {name!r}")
            values.append(value if process is None else process(value))
        sync = connection.sync_connection
        assert sync is not None  # an AsyncConnection the session handed out is started
        adapted: Any = sync.connection.dbapi_connection
        try:
            rows, status, described = await _fetch(adapted, self.sql, values, self._dialect)
        except self._dialect.loaded_dbapi.Error as error:
            # As SQLAlchemy raises it: wrapped (IntegrityError, OperationalError, ...), and
            # the connection invalidated when it was lost.
            await greenlet_spawn(
                sync._handle_dbapi_exception, error, self.sql, tuple(values), None, None
            )
            raise
        if self._metadata is None:
            self._metadata = self._read_as(described)
        result = Fetched(self._metadata, iter(rows))
        counted = _COUNTED.match(status or "")
        result.rowcount = int(counted[1]) if counted else -1
        return result

    def _read_as(self, described: Sequence[tuple[str, int]]) -> SimpleResultMetaData:
        """The rows' keys and result processing, given the columns the driver reports (by
        their own names when the statement does not say what it returns, as for text)."""
        if len(self._columns) != len(described):
            return SimpleResultMetaData([name for name, _ in described])
        processors = [
            kind._cached_result_processor(self._dialect, oid)
            for (_, kind), (_, oid) in zip(self._columns, described, strict=True)
        ]
        return SimpleResultMetaData(
            [key for key, _ in self._columns],
            _processors=processors if any(processors) else None,
        )


_COUNTED = re.compile(r"(?:SELECT|UPDATE|DELETE|INSERT \d+) (\d+)")


async def _fetch(
    adapted: Any, sql: str, values: Sequence[Any], dialect: Dialect
) -> tuple[list[Any], str | None, list[tuple[str, int]]]:
    """The rows, status and columns (name, type) of `sql` on SQLAlchemy's asyncpg connection,
    as its cursor runs a statement: under its lock, in its transaction (begun here when this
    is the transaction's first statement), with its prepared statements."""
    async with adapted._execute_mutex:
        if adapted._transaction is None:
            await adapted._start_transaction()
        try:
            prepared, attributes = await adapted._prepare(
                sql,
                dialect._invalidate_schema_cache_asof,  # type: ignore[attr-defined]
            )
            rows = await prepared.fetch(*values)
        except Exception as error:
            adapted._handle_exception(error)  # raises it as the DB-API error it is
        columns = [(a.name, a.type.oid) for a in attributes or ()]
        return rows, prepared.get_statusmsg(), columns


# Statement -> its plans by the names of the parameters given (an INSERT or UPDATE without
# `values` sets the columns named), None where one cannot be made. Statements are held
# weakly, so one built for a single call is forgotten with it; a statement is planned when
# it is met again, and until then SQLAlchemy's compiled cache serves it, as before.
_plans: weakref.WeakKeyDictionary[Executable, dict[tuple[str, ...], _Plan | None]] = (
    weakref.WeakKeyDictionary()
)


def _plan_for(
    statement: Executable, parameters: Mapping[str, Any], connection: AsyncConnection
) -> _Plan | None:
    sync = connection.sync_connection
    if sync is None or sync._has_events or sync.engine._has_events:
        return None
    planned = _plans.get(statement)
    if planned is None:
        _plans[statement] = {}
        return None
    names = tuple(sorted(parameters))
    if names not in planned:
        compiled = statement.compile(  # type: ignore[attr-defined]
            dialect=connection.dialect, column_keys=list(names)
        )
        usable = isinstance(compiled, SQLCompiler) and not _set_as_it_runs(compiled)
        planned[names] = _Plan(compiled, connection.dialect) if usable else None
    return planned[names]


def _set_as_it_runs(compiled: SQLCompiler) -> bool:
    """Whether some of the statement's SQL or parameters are settled only when it runs."""
    return bool(
        compiled.positiontup is None
        or compiled.post_compile_params
        or compiled.literal_execute_params
        or compiled.insert_prefetch
        or compiled.update_prefetch
        or compiled.escaped_bind_names
        or any(bind.callable is not None for bind in compiled.binds.values())
        # A tuple's parameter has a processor per element, applied as it is expanded.
        or not all(callable(p) for p in compiled._bind_processors.values())
    )


async def added(session: AsyncSession, statement: Statement, parameters: Parameters) -> bool:
    """Runs an `insert_new` statement made with `returning`: whether it wrote the row."""
    return (await execute(session, statement, parameters)).first() is not None


async def all_added(
    session: AsyncSession, statement: ManyRows, rows: Sequence[Mapping[str, Any]]
) -> bool:
    """Runs an `insert_rows` statement made with `returning` and `skip_existing`: whether it
    wrote every row (a row that clashes with a committed one is not written)."""
    return len((await insert_all(session, statement, rows)).all()) == len(rows)


# Tests that a column is one of a list given as the named parameter.
OneOf = Callable[[ColumnElement[Any], str], ColumnElement[bool]]


def with_list(build: Callable[[OneOf], Executable]) -> Mapping[str, Executable]:
    """The statement `build` makes, once per dialect, given how to test that a column is one
    of a list passed as a parameter. On PostgreSQL the list is one array (`= ANY`), so the
    statement runs as a plan: an expanding IN is written out as it runs and takes
    SQLAlchemy's path (an issuance's read with eight values cost 204-208 µs of CPU that way,
    93-95 µs as a plan; 4,000 reads, this machine). Elsewhere, an expanding IN."""

    def any_of(column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
        return column == any_(bindparam(name, type_=postgresql.ARRAY(column.type)))

    def in_list(column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
        return column.in_(bindparam(name, expanding=True))

    return {d.dialect.name: build(any_of if d is postgresql else in_list) for d in _DIALECTS}


def insert_new(
    table: Table,
    returning: Column[Any] | None = None,
    key: Sequence[Column[Any]] = (),
    values: Mapping[str, Any] | None = None,
) -> Mapping[str, Executable]:
    """INSERT ... ON CONFLICT [(key)] DO NOTHING [RETURNING returning]: a row that clashes
    with a committed one (the expected race) is not written, and the transaction stays
    usable without a savepoint; with `returning`, no row back means nothing was written.
    `values` are columns the statement itself computes (an SQL expression each)."""
    built: dict[str, Executable] = {}
    for dialect in _DIALECTS:
        statement = dialect.insert(table)
        if values:
            statement = statement.values(**values)
        statement = statement.on_conflict_do_nothing(index_elements=key or None)
        built[dialect.dialect.name] = (
            statement.returning(returning) if returning is not None else statement
        )
    return built


@dataclass(frozen=True)
class ManyRows:
    """An INSERT of any number of rows in one prebuilt statement (see `insert_rows`)."""

    columns: tuple[str, ...]
    # PostgreSQL: the rows given as one array per column, so one plan serves any count.
    unnested: Executable
    # Any other database: the statement run with the list of rows.
    each: Statement


def insert_rows(
    table: Table,
    columns: Sequence[str],
    returning: Column[Any] | None = None,
    skip_existing: bool = False,
    update: Sequence[str] = (),
) -> ManyRows:
    """INSERT of the rows' `columns`, in the order given (a serial key follows it); with
    `skip_existing`, a row that clashes with a committed one is not written, as in
    `insert_new`; with `update`, a row whose primary key is taken changes those columns of
    the row there instead, as in `upsert` (so no two of the rows may share a key). On
    PostgreSQL it is one statement over one array per column (`unnest ... WITH
    ORDINALITY`), a plan whatever the number of rows. A list of parameter sets takes
    SQLAlchemy's executemany path instead, which on asyncpg runs an INSERT per row without
    RETURNING: a unit of work claiming one event and writing one outbox row cost 807 µs of
    CPU that way and 705 µs this way (2,000 units of work, this machine)."""
    typed = [table.c[name] for name in columns]
    given = (
        func.unnest(*[bindparam(c.name, type_=postgresql.ARRAY(c.type)) for c in typed])
        .table_valued(*[named_column(c.name, c.type) for c in typed], with_ordinality="ordinality")
        .render_derived(name="given")
    )
    unnested = postgresql.insert(table).from_select(
        list(columns), select(*[given.c[name] for name in columns]).order_by(given.c.ordinality)
    )
    if skip_existing:
        unnested = unnested.on_conflict_do_nothing()
        each: Statement = insert_new(table, returning)
    elif update:
        keys = list(table.primary_key)
        unnested = unnested.on_conflict_do_update(
            index_elements=keys, set_={name: unnested.excluded[name] for name in update}
        )
        each = _upserts(table, keys, update)
    else:
        each = insert(table) if returning is None else insert(table).returning(returning)
    return ManyRows(
        tuple(columns),
        unnested if returning is None else unnested.returning(returning),
        each,
    )


async def insert_all(
    session: AsyncSession, statement: ManyRows, rows: Sequence[Mapping[str, Any]]
) -> Rows:
    """Runs an `insert_rows` statement on the session's transaction; every row gives every
    column the statement names."""
    connection = await _connection(session)
    if connection.dialect.name == "postgresql":
        arrays = {name: [row[name] for row in rows] for name in statement.columns}
        return await execute_on(connection, statement.unnested, arrays)
    return await execute_on(connection, statement.each, rows)


def upsert(table: Table, key: str, changed: Sequence[str]) -> Mapping[str, Executable]:
    """INSERT, or UPDATE of the `changed` columns of the row with the same `key`: a view
    written whole, new or not."""
    return _upserts(table, [table.c[key]], changed)


def _upserts(
    table: Table, keys: Sequence[Column[Any]], changed: Sequence[str]
) -> dict[str, Executable]:
    built: dict[str, Executable] = {}
    for dialect in _DIALECTS:
        statement = dialect.insert(table)
        built[dialect.dialect.name] = statement.on_conflict_do_update(
            index_elements=keys, set_={name: statement.excluded[name] for name in changed}
        )
    return built
