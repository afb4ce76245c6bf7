"""Fixtures for tests that need the real broker and database (see tests/support/infra.py)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from infra.acls import alliance_acls, apply_acls
from infra.topics import alliance_topics, ensure_topics
from shared.db.engine import create_engine
from shared.db.migrate import upgrade
from shared.messaging.clients import kafka_connection
from tests.support.infra import (
    Infrastructure,
    InfrastructureUnavailable,
    create_database,
    drop_database,
    provide_infrastructure,
)
from tests.support.kafka import forget_history, principal_env
from tests.support.services import ServiceProcess, free_port

# The tests are a local alliance: services they build in-process or start as processes may
# use the committed development keys (tests/infra/test_development_keys.py shows the refusal).
os.environ.setdefault("ALLOW_DEVELOPMENT_KEYS", "true")


@pytest.fixture(scope="session")
def infra() -> Iterator[Infrastructure]:
    try:
        with provide_infrastructure() as provided:
            bootstrap = provided.kafka_bootstrap_servers
            asyncio.run(ensure_topics(bootstrap, partitions=3))
            if "sasl_plain_username" in kafka_connection():
                # A broker with principals (the local profile): they may do only this.
                asyncio.run(apply_acls(bootstrap, alliance_acls()))
            if provided.origin == "local":
                # The project's own test broker outlives a session; without this, every
                # service a test starts would replay all earlier sessions' events first.
                asyncio.run(forget_history(bootstrap, list(alliance_topics())))
            yield provided
    except InfrastructureUnavailable as exc:
        pytest.fail(f"no Kafka/PostgreSQL for this test: {exc}", pytrace=False)


MigratedDatabase = Callable[[str], Awaitable[str]]


@pytest.fixture
async def migrated_database(infra: Infrastructure) -> AsyncIterator[MigratedDatabase]:
    """Makes a fresh PostgreSQL database migrated for a service; returns its SQLAlchemy URL."""
    created: list[str] = []

    async def make(service: str) -> str:
        name = await create_database(infra, service)
        created.append(name)
        url = infra.database_url(name)
        await asyncio.to_thread(upgrade, service, url)
        return url

    yield make
    for name in created:
        await drop_database(infra, name)


MigratedEngine = Callable[[str], Awaitable[AsyncEngine]]


@pytest.fixture
async def migrated_engine(migrated_database: MigratedDatabase) -> AsyncIterator[MigratedEngine]:
    """Makes an engine on a fresh PostgreSQL database migrated for a service; each is
    disposed of after the test, before its database is dropped."""
    engines: list[AsyncEngine] = []

    async def make(service: str) -> AsyncEngine:
        engine = create_engine(await migrated_database(service))
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        await engine.dispose()


ServiceFactory = Callable[..., Awaitable[ServiceProcess]]


@pytest.fixture
async def service_process(
    infra: Infrastructure, migrated_database: MigratedDatabase, tmp_path: Path
) -> AsyncIterator[ServiceFactory]:
    """Builds (not starts) a service process with its own database and consumer group."""
    made: list[ServiceProcess] = []

    async def make(name: str, **env: str) -> ServiceProcess:
        url = await migrated_database(name)
        consumer = f"{name}-{uuid.uuid4().hex[:8]}"
        process = ServiceProcess(
            name=name,
            env={
                "SERVICE_NAME": name,
                "DATABASE_URL": url,
                "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap_servers,
                "CONSUMER_NAME": consumer,
                "LOG_FORMAT": "text",
                "CONSUMER_BACKOFF_INITIAL_S": "0.05",
                # Each service is its own principal at the broker, as under `make run`.
                **principal_env(name),
                **env,
            },
            log_path=tmp_path / f"{consumer}.log",
            port=free_port(),
        )
        made.append(process)
        return process

    yield make
    for process in made:
        process.stop()
