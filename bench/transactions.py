"""CPU per unit of work of the consumer runtime, without Kafka or a service:
`python -m bench.transactions [--profile test]`.

On a scratch database of the profile's PostgreSQL (created, migrated as catalogue, dropped
again), each variant runs 300 times after 30 warm-up runs: an empty unit of work, and one that
claims k events in the inbox, records k events in the outbox and commits (what a consumer
batch of k events costs the runtime before any handler's own work).
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence

import asyncpg

import services  # noqa: F401  (registers every service's migrations)
from bench.journeys import plan_offerings
from infra.profiles import PROFILES
from shared.clock import utc_now
from shared.db import inbox
from shared.db.engine import create_engine, session_factory
from shared.db.migrate import upgrade
from shared.db.uow import UnitOfWork, UnitOfWorkFactory
from shared.events import OfferingPublished

RUNS = 300
WARM_UP = 30
SOURCE = "urn:alliance:service:catalogue"


def _event() -> OfferingPublished:
    """The benchmark's own offering (a demo offering under a fresh id), as its event."""
    snapshot = plan_offerings("uow", 1, 10)[0]
    return OfferingPublished(**snapshot.model_dump(), published_at=utc_now())


async def _measure(name: str, run: Callable[[], Awaitable[None]]) -> None:
    for _ in range(WARM_UP):
        await run()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(RUNS):
        await run()
    cpu_ms = (time.process_time() - cpu) / RUNS * 1000
    wall_ms = (time.perf_counter() - wall) / RUNS * 1000
    print(f"| {name} | {cpu_ms:.2f} | {wall_ms:.2f} |")


async def measure(profile_name: str) -> None:
    profile = PROFILES[profile_name]
    admin = f"postgresql://postgres@127.0.0.1:{profile.postgres_port}/postgres"
    database = f"bench_uow_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(admin)
    await connection.execute(f'CREATE DATABASE "{database}"')
    await connection.close()
    try:
        url = profile.database_url(database)
        await asyncio.to_thread(upgrade, "catalogue", url)
        engine = create_engine(url)
        units_of_work = UnitOfWorkFactory(UnitOfWork, session_factory(engine), SOURCE)
        event = _event()

        async def empty() -> None:
            async with units_of_work():
                pass

        def batch(k: int) -> Callable[[], Awaitable[None]]:
            async def run() -> None:
                async with units_of_work() as uow:
                    ids = [(uuid.uuid4().hex, "bench") for _ in range(k)]
                    await inbox.claim_all(uow.session, "bench", ids)
                    for _ in range(k):
                        uow.record(event)
                    await uow.commit()

            return run

        print("| unit of work | CPU ms | wall ms |\n|---|---:|---:|")
        await _measure("empty", empty)
        for k in (1, 10, 100):
            await _measure(f"claim {k}, record {k}, commit", batch(k))
        await engine.dispose()
    finally:
        connection = await asyncpg.connect(admin)
        await connection.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
        await connection.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.transactions", description=__doc__)
    parser.add_argument("--profile", default="test", choices=sorted(PROFILES))
    args = parser.parse_args(argv)
    asyncio.run(measure(args.profile))


if __name__ == "__main__":
    main()
