"""Counts the SQL statements a use case runs, so a test can pin what one event costs a
service's database and a change that adds a round trip per event fails it."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from shared.db.uow import UnitOfWorkFactory, UowT

_WRITE = re.compile(r"(INSERT INTO|UPDATE|DELETE FROM)\s+(\w+)")
_READ = re.compile(r"SELECT\b.*?\bFROM\s+(\w+)", re.DOTALL)


def shape(statement: str) -> str:
    """What a statement does to which table, e.g. "SELECT credentials", "INSERT outbox";
    a statement on no table (a savepoint) by its first word."""
    if written := _WRITE.match(statement):
        return f"{written[1].split()[0]} {written[2]}"
    if read := _READ.match(statement):
        return f"SELECT {read[1]}"
    return statement.split()[0]


@contextmanager
def statements_run(units_of_work: UnitOfWorkFactory[Any]) -> Iterator[list[str]]:
    """The shapes of the statements sent to the units of work's database while inside, in
    order: each is a round trip to the database and work for the driver."""
    engine = units_of_work.engine
    seen: list[str] = []

    def count(*args: Any) -> None:
        # before_cursor_execute(conn, cursor, statement, parameters, context, executemany)
        seen.append(shape(str(args[2]).strip()))

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


async def committed_statements(
    units_of_work: UnitOfWorkFactory[UowT], use_case: Callable[[UowT], Awaitable[object]]
) -> list[str]:
    """The statements one use case and its commit run in a unit of work of their own, as a
    handler's do (the consumer runtime's inbox claim is the runtime's, not counted here)."""
    async with units_of_work() as uow:
        with statements_run(units_of_work) as seen:
            await use_case(uow)
            await uow.commit()
    return seen


class CountedUnits(UnitOfWorkFactory[UowT]):
    """A service's unit-of-work factory that counts the units (transactions) it opened."""

    opened = 0

    def __call__(self) -> UowT:
        self.opened += 1
        return super().__call__()
