"""The benchmark's warm-up ends with statistics gathered (real PostgreSQL, `infra`): a plan
cached while a table was empty is made again for the table as it has grown."""

from __future__ import annotations

import asyncpg

from bench.statements import gather_statistics
from shared.db.engine import driver_dsn
from tests.conftest import MigratedDatabase

ROWS = 5000
# Like assessment's look-up of a result and of its enrolment's current one: an OR over two
# indexes, for which a table without statistics is read whole.
_LOOKUP = """
PREPARE lookup(varchar, varchar) AS
SELECT result FROM results
WHERE result_id = $1 OR (enrolment_id = $2 AND superseded_by_result_id IS NULL)
"""


async def _plan(connection: asyncpg.Connection) -> str:
    rows = await connection.fetch("EXPLAIN EXECUTE lookup('res-1', 'enr-1')")
    return "\n".join(row[0] for row in rows)


async def test_gathered_statistics_replace_a_plan_made_on_an_empty_table(
    migrated_database: MigratedDatabase,
) -> None:
    dsn = driver_dsn(await migrated_database("assessment"))
    connection = await asyncpg.connect(dsn)
    try:
        # Autovacuum would analyze in its own time; the test says when.
        await connection.execute("ALTER TABLE results SET (autovacuum_enabled = false)")
        # One plan for every execution, made now, on the empty table (a service's prepared
        # statement after its first executions).
        await connection.execute("SET plan_cache_mode = force_generic_plan")
        await connection.execute(_LOOKUP)
        assert "Seq Scan on results" in await _plan(connection)
        await connection.execute(
            """
            INSERT INTO results (result_id, enrolment_id, offering_id, partner_id, learner_id,
                                 result, recorded_at)
            SELECT 'res-' || i, 'enr-' || i, 'off', 'nordhavn', 'lrn-' || i, '{}', now()
            FROM generate_series(1, $1) AS i
            """,
            ROWS,
        )
        assert "Seq Scan on results" in await _plan(connection), "the plan is made only once"

        await gather_statistics([dsn])

        plan = await _plan(connection)
        assert "Seq Scan" not in plan, plan
        assert "results_pkey" in plan, plan
        assert "ux_results_current" in plan, plan
    finally:
        await connection.close()
