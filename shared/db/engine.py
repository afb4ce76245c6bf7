from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.telemetry import instrument_database


def driver_dsn(url: str) -> str:
    """The DSN asyncpg itself takes for a service's SQLAlchemy URL (tools and tests that
    talk to PostgreSQL without SQLAlchemy)."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def create_engine(url: str, traced: bool = False) -> AsyncEngine:
    """`traced` adds a client span per query (only worth its cost when spans are exported)."""
    engine = _create_engine(url)
    if traced:
        instrument_database(engine)
    return engine


def _create_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(conn: DBAPIConnection, _: ConnectionPoolEntry) -> None:
            # WAL lets the relay read while a handler writes.
            cursor = conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    # No pre-ping: it costs a round trip per checkout, and a connection that died meanwhile
    # fails its query with an error the consumer and the relay already retry.
    return create_async_engine(url, pool_size=10, max_overflow=10)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
