"""Statements each service's database runs in the timed run, counted by PostgreSQL itself
(pg_stat_statements, which the bench profile's server loads): each is a round trip from the
service and work for both sides, the largest share of a journey's CPU after the second
round of issue 15, so the report gives them per journey. With them, each service's
deferrals (an event set to wait for a fact; one looked at once more and set to wait again
counts twice): a deferral costs about 20 statements, and a run that tips into deferring
shows it there first. And the statements that took the longest, so the next step can aim:
their execution time is wall time (waits for a core are in it), not the server's CPU."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

import asyncpg

from infra.profiles import DATABASES, Profile
from shared.db.engine import driver_dsn

_COUNTED = """
SELECT d.datname AS database, sum(s.calls)::bigint AS calls,
    coalesce(sum(s.calls) FILTER (WHERE s.query LIKE 'INSERT INTO deferred_events %'), 0)::bigint
        AS deferrals
FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
GROUP BY d.datname
"""

# The longest in execution, summed over their calls, of each service's database.
_COSTLIEST = """
SELECT database, query, calls, exec_ms FROM (
    SELECT d.datname AS database, s.query, s.calls::bigint AS calls,
        s.total_exec_time AS exec_ms,
        row_number() OVER (PARTITION BY d.datname ORDER BY s.total_exec_time DESC) AS rank
    FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
    WHERE d.datname <> 'postgres'
) ranked
WHERE rank <= $1
ORDER BY exec_ms DESC
"""
COSTLIEST_PER_DATABASE = 3
_QUERY_CHARS = 140
# The lists of columns read or written say little of which statement it is; what follows does.
_COLUMN_LISTS = (
    (re.compile(r"^SELECT .+? FROM "), "SELECT … FROM "),
    (re.compile(r"^INSERT INTO (\w+) \([^)]*\)"), r"INSERT INTO \1 (…)"),
)


def short(query: str) -> str:
    """The statement on one line, its column lists elided, cut to a table cell's width."""
    text = " ".join(query.split())
    for pattern, replacement in _COLUMN_LISTS:
        text = pattern.sub(replacement, text, count=1)
    return text[:_QUERY_CHARS]


class Statement(NamedTuple):
    """One statement as PostgreSQL normalised it: its calls and their execution time."""

    database: str
    query: str
    calls: int
    exec_ms: float


class Counted(NamedTuple):
    """By service database: the statements run, the deferrals among them, and the
    statements that took the longest."""

    statements: dict[str, int]
    deferrals: dict[str, int]
    costliest: list[Statement]


def _dsn(profile: Profile) -> str:
    return driver_dsn(profile.database_url("postgres"))


async def gather_statistics(dsns: Iterable[str]) -> None:
    """ANALYZE each database, as autovacuum does within its naptime (a minute) of a table's
    growth. A service plans its prepared statements once per connection, and without
    statistics it planned them on the warm-up's first, empty tables: in a run at capacity
    (warm-up and timed run) those plans read the whole of issuance's credentials 2,580 times
    and assessment's results 2,601 times, 4.3 million rows each, a cold start no database
    that has run a while pays. The analysis invalidates those plans."""
    for dsn in dsns:
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute("ANALYZE")
        finally:
            await connection.close()


def service_databases(profile: Profile) -> list[str]:
    """The DSN of each service's database of the profile."""
    return [driver_dsn(profile.database_url(database)) for database in DATABASES]


async def start_counting(profile: Profile) -> None:
    """Counts from zero from now on."""
    connection = await asyncpg.connect(_dsn(profile))
    try:
        await connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        await connection.execute("SELECT pg_stat_statements_reset()")
    finally:
        await connection.close()


async def counted(profile: Profile) -> Counted:
    """Statements run since `start_counting`, by database (each service has its own)."""
    connection = await asyncpg.connect(_dsn(profile))
    try:
        rows = [row for row in await connection.fetch(_COUNTED) if row["database"] != "postgres"]
        costliest = await connection.fetch(_COSTLIEST, COSTLIEST_PER_DATABASE)
    finally:
        await connection.close()
    return Counted(
        {row["database"]: int(row["calls"]) for row in rows},
        {row["database"]: int(row["deferrals"]) for row in rows},
        [
            Statement(
                row["database"],
                short(row["query"]),
                int(row["calls"]),
                float(row["exec_ms"]),
            )
            for row in costliest
        ],
    )
