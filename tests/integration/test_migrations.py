"""Every service's migrations build exactly the schema its models declare, on PostgreSQL."""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, Table
from sqlalchemy.engine import Connection

from services import SERVICES
from shared.db.engine import create_engine
from shared.db.inbox import ProcessedEvent
from shared.db.outbox import OutboxMessage
from tests.conftest import MigratedDatabase


def _declared(service: str) -> MetaData:
    metadata = MetaData()
    tables: list[Table] = [OutboxMessage.__table__, ProcessedEvent.__table__]  # type: ignore[attr-defined]
    if importlib.util.find_spec(f"services.{service}.tables") is not None:
        module = importlib.import_module(f"services.{service}.tables")
        # Every table the module names, including shared ones it imports (deferred_events).
        tables += [
            value.__table__
            for value in vars(module).values()
            if isinstance(getattr(value, "__table__", None), Table)
        ]
    for table in {t.name: t for t in tables}.values():
        table.to_metadata(metadata)
    return metadata


def _differences(connection: Connection, metadata: MetaData) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return [
        diff
        for diff in compare_metadata(context, metadata)
        if not (diff[0] == "remove_table" and diff[1].name == "alembic_version")
    ]


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_match_the_models(
    service: str, migrated_database: MigratedDatabase
) -> None:
    engine = create_engine(await migrated_database(service))
    metadata = _declared(service)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_differences, metadata)
    finally:
        await engine.dispose()
    assert differences == [], f"{service}: models and migrations disagree: {differences}"
