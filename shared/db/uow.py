"""The unit of work owns the transaction: domain changes and outgoing events commit together."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Self

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.db.outbox import OutboxMessage


class UnitOfWork:
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
        self._recorded = 0
        self.released: list[str] = []

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("the unit of work is used outside `async with`")
        return self._session

    async def __aenter__(self) -> Self:
        self._session = self._sessions()
        self._recorded = 0
        self.released = []
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        self._session = None
        # Anything not committed explicitly is rolled back.
        await session.rollback()
        await session.close()

    def release(self, fact: str) -> None:
        """Says that `fact` now holds, so events deferred until it can be applied."""
        self.released.append(fact)

    def record(self, event: BaseModel) -> None:
        """Queues an event for publication; it is published only if the transaction commits."""
        self.session.add(OutboxMessage.for_event(event, self._source))
        self._recorded += 1

    async def commit(self) -> None:
        await self.session.commit()
        if self._recorded and self._on_events_committed is not None:
            self._on_events_committed()
        self._recorded = 0


class UnitOfWorkFactory:
    """Makes a fresh unit of work per request or per event."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        source: str,
        on_events_committed: Callable[[], None] | None = None,
    ) -> None:
        self.sessions = sessions
        self.source = source
        self.on_events_committed = on_events_committed

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.source, self.on_events_committed)
