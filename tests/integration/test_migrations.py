"""Every service's migrations build exactly the schema its models declare, on PostgreSQL."""

from __future__ import annotations

import importlib
import importlib.util
import json
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, Table, text
from sqlalchemy.engine import Connection

from services import SERVICES
from shared.db.inbox import ProcessedEvent
from shared.db.outbox import OutboxMessage
from tests.conftest import MigratedEngine


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
async def test_migrations_match_the_models(service: str, migrated_engine: MigratedEngine) -> None:
    engine = await migrated_engine(service)
    metadata = _declared(service)
    async with engine.connect() as connection:
        differences = await connection.run_sync(_differences, metadata)
    assert differences == [], f"{service}: models and migrations disagree: {differences}"


async def test_credential_documents_are_stored_compressed_with_lz4(
    migrated_engine: MigratedEngine,
) -> None:
    """Migration issuance_0006: a stored document is compressed with LZ4, not pglz."""
    engine = await migrated_engine("issuance")
    document = json.dumps({"proof": "z" + "signature" * 40, "claims": list(range(2000))})
    async with engine.begin() as connection:
        # Only the columns without a default; the rest of the row does not matter here.
        await connection.execute(
            text(
                "INSERT INTO credentials (credential_id, basis, learner_id, "
                "issuer_partner_id, awarding_partner_id, status_list_index, document, "
                "issued_at) VALUES ('urn:uuid:1', 'result', 'lrn-learner-1', 'rheinfeld', "
                "'rheinfeld', 7, :document, now())"
            ),
            {"document": document},
        )
        stored = await connection.execute(
            text("SELECT pg_column_compression(document) FROM credentials")
        )
        assert stored.scalar_one() == "lz4"
