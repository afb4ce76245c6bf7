"""The events a service keeps waiting for a fact they depend on, and since when."""

from __future__ import annotations

from shared.clock import rfc3339, utc_now
from shared.db import deferral
from shared.db.engine import create_engine, session_factory


async def list_waiting(database_url: str, consumer: str) -> str:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            waiting = await deferral.waiting_since(session, consumer)
    finally:
        await engine.dispose()
    if not waiting:
        return f"no event of {consumer} is waiting"
    now = utc_now()
    lines = [
        f"{row.topic}[{row.partition}]@{row.offset}   waiting for {row.waiting_for}"
        f"   since {rfc3339(row.deferred_at)} ({(now - row.deferred_at).total_seconds():.0f} s)"
        f"\n  reason: {row.reason}"
        for row in waiting
    ]
    return "\n".join([*lines, f"{len(waiting)} event(s) of {consumer} waiting"])
