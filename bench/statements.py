"""Statements each service's database runs in the timed run, counted by PostgreSQL itself
(pg_stat_statements, which the bench profile's server loads): each is a round trip from the
service and work for both sides, the largest share of a journey's CPU after the second
round of issue 15, so the report gives them per journey."""

from __future__ import annotations

import asyncpg

from infra.profiles import Profile
from shared.db.engine import driver_dsn

_COUNTED = """
SELECT d.datname AS database, sum(s.calls)::bigint AS calls
FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
GROUP BY d.datname
"""


def _dsn(profile: Profile) -> str:
    return driver_dsn(profile.database_url("postgres"))


async def start_counting(profile: Profile) -> None:
    """Counts from zero from now on."""
    connection = await asyncpg.connect(_dsn(profile))
    try:
        await connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        await connection.execute("SELECT pg_stat_statements_reset()")
    finally:
        await connection.close()


async def counted(profile: Profile) -> dict[str, int]:
    """Statements run since `start_counting`, by database (each service has its own)."""
    connection = await asyncpg.connect(_dsn(profile))
    try:
        rows = await connection.fetch(_COUNTED)
    finally:
        await connection.close()
    return {row["database"]: int(row["calls"]) for row in rows if row["database"] != "postgres"}
