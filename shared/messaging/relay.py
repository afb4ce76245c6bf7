"""The outbox relay: publishes committed outbox rows in order, marked published in the same
transaction, which commits once Kafka has acknowledged them all.

A crash between publishing and that commit publishes those rows again on restart (at least
once); consumers drop the repeat by event id. Rows are never lost: a row leaves the backlog
only after Kafka has acknowledged it with acks=all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import signal
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import Row, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.clock import utc_now
from shared.db.outbox import OUTBOX, cloud_event
from shared.db.statements import execute_on
from shared.envelope import CloudEvent, EventSigner
from shared.metrics import EVENTS_PUBLISHED, OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE_SECONDS
from shared.settings import FaultMoment, FaultSettings
from shared.telemetry import send_span

log = logging.getLogger(__name__)

# Sends one record and returns a future that resolves when the broker acknowledges it,
# so a batch is sent in one go and awaited together.
SendRecord = Callable[[str, CloudEvent, dict[str, str]], Awaitable["asyncio.Future[Any]"]]

# One relay per database publishes at a time, which keeps each key's events in order.
RELAY_LOCK_ID = 0x0A111A2CE
_OLDEST = (
    select(OUTBOX.c.position)
    .where(OUTBOX.c.published_at.is_(None))
    .order_by(OUTBOX.c.position)
    .limit(bindparam("limit"))
)
# The oldest rows to publish, marked published in the statement that reads them (one round
# trip instead of a read and a write per batch). The mark commits only after the broker has
# acknowledged every row: the transaction spans the sends, and a failure or a crash before
# the commit leaves the rows unpublished. Built once, not per wake.
_CLAIM = (
    update(OUTBOX)
    .where(OUTBOX.c.position.in_(_OLDEST.scalar_subquery()))
    .values(published_at=bindparam("now"))
    .returning(*OUTBOX.c)
)
# The same, only for the relay that takes the lock: a WITH query calling a volatile function
# is evaluated once, never folded into the query (PostgreSQL's WITH semantics); no rows if
# another relay holds the lock or nothing waits. The lock is read as a scalar subquery: named
# in the UPDATE's FROM, with nothing joining it to the outbox, it would be a cross join
# (which SQLAlchemy warns of).
_LOCK = select(func.pg_try_advisory_xact_lock(RELAY_LOCK_ID).label("held")).cte("relay_lock")
_CLAIM_IF_LOCKED = _CLAIM.where(select(_LOCK.c.held).scalar_subquery()).add_cte(_LOCK)
# Each database's claim (SQLite, the unit tests' database, has no advisory locks).
_CLAIM_BY_DIALECT = {"postgresql": _CLAIM_IF_LOCKED, "sqlite": _CLAIM}
_MAX_BACKOFF_S = 10.0


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        signer: EventSigner | None,
        send: SendRecord,
        batch_size: int = 200,
        poll_interval_s: float = 0.2,
        fault: FaultSettings | None = None,
        linger_s: float = 0.0,
    ) -> None:
        self._engine = engine
        self._signer = signer
        self._send = send
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._linger_s = linger_s
        self._wake = asyncio.Event()
        self._stopping = False
        self._fault = fault or FaultSettings()
        self._published = 0

    @property
    def can_sign(self) -> bool:
        return self._signer is not None

    def wake(self) -> None:
        """Called after a commit that recorded events, so they go out without waiting a poll."""
        self._wake.set()

    async def publish_pending(self) -> int:
        """Publishes one batch; returns how many rows it published."""
        # Core statements on a connection of its own: no session, no ORM object made or
        # changed; the claim is run as a plan once met again (see shared.db.statements).
        async with self._engine.begin() as connection:
            claimed = await execute_on(
                connection, _CLAIM_BY_DIALECT, {"limit": self._batch_size, "now": utc_now()}
            )
            # RETURNING keeps no order; the rows go out in the order they were recorded.
            rows = sorted(claimed.all(), key=lambda row: row.position)
            if not rows:
                return 0
            self._fault_point("after-commit-before-publish")
            pending = [await self._send_row(row) for row in rows]
            await asyncio.gather(*pending)
            # The mark is made but not committed yet.
            self._fault_point("after-ack-before-mark")
            for row in rows:
                EVENTS_PUBLISHED.labels(row.event_type).inc()
        self._published += len(rows)
        return len(rows)

    def _fault_point(self, moment: FaultMoment) -> None:
        """Dies here when the fault suite asked for this moment (see FaultSettings)."""
        fault = self._fault
        if fault.fault_injection == moment and self._published >= fault.fault_after_published:
            log.warning("fault injection: SIGKILL %s after %d rows", moment, self._published)
            os.kill(os.getpid(), signal.SIGKILL)

    async def _send_row(self, row: Row[Any]) -> asyncio.Future[Any]:
        if self._signer is None:
            raise RuntimeError("this service has no event-signing key, so it cannot publish")
        event = self._signer.sign(cloud_event(row))
        # Published inside the trace of the transaction that wrote the row.
        saved = {
            k: v for k, v in (("traceparent", row.traceparent), ("tracestate", row.tracestate)) if v
        }
        with send_span(row.topic, row.aggregate_id, row.event_id, len(event.data), saved) as trace:
            return await self._send(row.topic, event, {**event.headers(), **trace})

    async def measure_backlog(self) -> None:
        async with self._engine.connect() as connection:
            result = await connection.execute(
                select(func.count(), func.min(OUTBOX.c.occurred_at)).where(
                    OUTBOX.c.published_at.is_(None)
                )
            )
            count, oldest = result.one()
        OUTBOX_BACKLOG.set(count)
        OUTBOX_OLDEST_AGE_SECONDS.set((utc_now() - oldest).total_seconds() if oldest else 0)

    async def run(self) -> None:
        failures = 0
        while not self._stopping:
            try:
                published = await self.publish_pending()
            except Exception as exc:
                failures += 1
                # Full jitter: the relays of every service do not all knock at once when the
                # broker or database comes back. The first failure is logged with its cause.
                delay = random.uniform(0, min(_MAX_BACKOFF_S, 0.2 * 2**failures))
                log.warning(
                    "outbox relay cannot publish (%s); retrying with back-off",
                    type(exc).__name__,
                    exc_info=failures == 1,
                )
                await asyncio.sleep(delay)
                continue
            if failures:
                log.info("outbox relay publishing again after %d failed attempts", failures)
                failures = 0
            if published < self._batch_size:
                await self._idle()

    async def _idle(self) -> None:
        # The backlog gauges are refreshed by the service's gauge task, not on every poll.
        # Events committed while the last batch went out mean a busy stream: the relay waits
        # a moment, so the commits close behind go out in one batch; a quiet stream's
        # commit goes out at once (as Nagle's algorithm holds data back only while some is
        # in flight).
        busy = self._wake.is_set()  # then the wait below returns at once
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=self._poll_interval_s)
        if busy and self._linger_s and not self._stopping:
            await asyncio.sleep(self._linger_s)
        self._wake.clear()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
