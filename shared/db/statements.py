"""Prebuilt statements, run as Core on a unit of work's transaction.

Repositories build their statements once, at import, with named parameters: the statement's
cache key and compiled form are then reused, and the ORM's execution path (identity map,
instance state, flush) is skipped, which costs more than a few-row statement does. Where
PostgreSQL and SQLite (the fallback the unit tests run on) need different SQL, a statement
is given per dialect name and the connection's dialect picks it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Column, CursorResult, Executable, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

Rows = CursorResult[*tuple[Any, ...]]
# One statement for every database, or one per dialect name ("postgresql", "sqlite").
Statement = Executable | Mapping[str, Executable]
Parameters = Mapping[str, Any] | Sequence[Mapping[str, Any]] | None

_DIALECTS = (postgresql, sqlite)


async def execute(
    session: AsyncSession, statement: Statement, parameters: Parameters = None
) -> Rows:
    """Runs a prebuilt statement (or its dialect's) on the session's transaction."""
    connection = await session.connection()
    if isinstance(statement, Mapping):
        statement = statement[connection.dialect.name]
    return await connection.execute(statement, parameters)


async def added(session: AsyncSession, statement: Statement, parameters: Parameters) -> bool:
    """Runs an `insert_new` statement made with `returning`: whether it wrote the row."""
    return (await execute(session, statement, parameters)).first() is not None


def insert_new(
    table: Table, returning: Column[Any] | None = None, key: Sequence[Column[Any]] = ()
) -> Mapping[str, Executable]:
    """INSERT ... ON CONFLICT [(key)] DO NOTHING [RETURNING returning]: a row that clashes
    with a committed one (the expected race) is not written, and the transaction stays
    usable without a savepoint; with `returning`, no row back means nothing was written."""
    built: dict[str, Executable] = {}
    for dialect in _DIALECTS:
        statement = dialect.insert(table).on_conflict_do_nothing(index_elements=key or None)
        built[dialect.dialect.name] = (
            statement.returning(returning) if returning is not None else statement
        )
    return built


def upsert(table: Table, key: str, changed: Sequence[str]) -> Mapping[str, Executable]:
    """INSERT, or UPDATE of the `changed` columns of the row with the same `key`: a view
    written whole, new or not."""
    built: dict[str, Executable] = {}
    for dialect in _DIALECTS:
        statement = dialect.insert(table)
        built[dialect.dialect.name] = statement.on_conflict_do_update(
            index_elements=[table.c[key]],
            set_={name: statement.excluded[name] for name in changed},
        )
    return built
