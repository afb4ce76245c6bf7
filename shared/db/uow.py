"""The unit of work owns the transaction: domain changes and outgoing events commit together.

As in cosmicpython, a service's unit of work exposes its repositories (`uow.offerings`), made
over the transaction's session when the unit of work is entered; application code uses those
and never the session. The entry point (a route, or the consumer runtime for a handler) opens
the unit of work and makes the one commit.

The transaction is the unit of work's own connection's, not the session's: the session is
bound to that connection and joins its transaction for the ORM reads and writes a few
repositories make, and the commit is the connection's. Through the session's transaction
bookkeeping (its connection asked for, committed and closed through it), a unit of work
claiming and recording one event cost 0.91-1.19 ms of CPU, on its connection 0.66-0.81
(`python -m bench.transactions`, four runs of each, this machine).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.db import outbox, statements
from shared.transient import is_transient


def engine_of(sessions: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    """The database `sessions` open their sessions on."""
    engine = sessions.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    return engine


class UnitOfWork:
    """The base every service's unit of work extends; on its own it exposes no repository."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        source: str,
        on_events_committed: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._source = source
        self._on_events_committed = on_events_committed
        self._session: AsyncSession | None = None
        self._connection: AsyncConnection | None = None
        self._recorded: list[dict[str, Any]] = []
        self.released: list[str] = []

    @property
    def session(self) -> AsyncSession:
        """For the runtime's own tables (inbox, deferrals) and a service's repositories."""
        if self._session is None:
            raise RuntimeError("the unit of work is used outside `async with`")
        return self._session

    async def __aenter__(self) -> Self:
        self._connection = await engine_of(self._sessions).connect()
        # Begun here, so the commit below is the connection's whatever ran on it (statements
        # run as plans go past SQLAlchemy's connection, which would not begin by itself).
        await self._connection.begin()
        self._session = self._sessions(bind=self._connection)
        statements.hold(self._session, self._connection)
        self._recorded = []
        self.released = []
        self._open(self._session)
        return self

    def _open(self, session: AsyncSession) -> None:
        """Makes the service's repositories over the new transaction's session."""

    async def _write_kept(self) -> None:
        """Writes what the service's repositories kept back until the commit (none here)."""

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session, connection = self.session, self._connection
        self._session = self._connection = None
        if session.in_transaction():  # the ORM was used: let go of its objects
            await session.close()
        # Anything not committed is rolled back as the connection goes back to the pool.
        if connection is not None:
            await connection.close()

    def release(self, fact: str) -> None:
        """Says that `fact` now holds, so events deferred until it can be applied."""
        self.released.append(fact)

    def record(self, event: BaseModel) -> None:
        """Queues an event for publication; it is published only if the transaction commits.
        The rows are written together just before the commit, in the order recorded."""
        self._recorded.append(outbox.row_for_event(event, self._source))

    async def commit(self) -> None:
        """Commits the transaction; the unit of work is done with after it."""
        recorded, self._recorded = self._recorded, []
        session = self.session
        await self._write_kept()
        await outbox.write(session, recorded)
        if session.new or session.dirty or session.deleted:
            await session.flush()
        assert self._connection is not None  # set with the session
        await self._connection.commit()
        if recorded and self._on_events_committed is not None:
            self._on_events_committed()


UowT = TypeVar("UowT", bound=UnitOfWork)


class UnitOfWorkFactory(Generic[UowT]):
    """Makes a fresh unit of work of the service's kind per request or per event."""

    def __init__(
        self,
        kind: type[UowT],
        sessions: async_sessionmaker[AsyncSession],
        source: str,
        on_events_committed: Callable[[], None] | None = None,
    ) -> None:
        self.kind = kind
        self.sessions = sessions
        self.source = source
        self.on_events_committed = on_events_committed

    @property
    def engine(self) -> AsyncEngine:
        """The database the units of work are opened on, for the runtime's reads that need
        no unit of work."""
        return engine_of(self.sessions)

    def __call__(self) -> UowT:
        return self.kind(self.sessions, self.source, self.on_events_committed)


T = TypeVar("T")

# A request that lost a race re-reads and tries again; more than this means heavy contention.
ATTEMPTS = 5


async def run_committed(
    units_of_work: UnitOfWorkFactory[UowT],
    use_case: Callable[[UowT], Awaitable[T]],
    attempts: int = ATTEMPTS,
) -> T:
    """Runs a request's use case in its own unit of work and commits it: the entry point's
    one commit. A use case that lost a race (`LostRace`, a serialisation failure, a lost
    connection) runs again on fresh state; after `attempts` the last failure is raised."""
    for attempt in range(1, attempts + 1):
        try:
            async with units_of_work() as uow:
                result = await use_case(uow)
                await uow.commit()
                return result
        except Exception as exc:
            if not is_transient(exc) or attempt == attempts:
                raise
    raise AssertionError("unreachable: the last attempt returns or raises")
