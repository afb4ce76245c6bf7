"""The relay's fault-injection setting kills the process for real, at the moment named, and
leaves the row unpublished in its outbox (SQLite, a stand-in for the broker: no services)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from infra.profiles import REPO_ROOT

# One outbox row, then one relay batch; the stand-in broker notes each record it acknowledges.
RELAY = """
import asyncio, sys
from pathlib import Path
from sqlmodel import SQLModel
from shared.db.engine import create_engine, session_factory
from shared.db.outbox import OutboxMessage
from shared.messaging.relay import OutboxRelay
from shared.partner_system import demo_signer
from tests.support.builders import offering_published

database, acked = sys.argv[1], Path(sys.argv[2])

async def main() -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all, tables=[OutboxMessage.__table__])
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        signer = demo_signer("lindeveld")
        session.add(OutboxMessage.for_event(offering_published("lindeveld"), signer.source))

    async def send(topic, event, headers):
        acked.write_text(topic)
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    await OutboxRelay(engine, demo_signer("lindeveld"), send).publish_pending()

asyncio.run(main())
"""


@pytest.mark.parametrize(
    ("moment", "acknowledged"),
    [("after-commit-before-publish", False), ("after-ack-before-mark", True)],
)
def test_the_relay_kills_itself_at_the_moment_named(
    tmp_path: Path, moment: str, acknowledged: bool
) -> None:
    database, acked = tmp_path / "outbox.db", tmp_path / "acked"
    env = {**os.environ, "FAULT_INJECTION": moment, "PYTHONPATH": str(REPO_ROOT)}
    run = subprocess.run(
        [sys.executable, "-c", RELAY, str(database), str(acked)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == -signal.SIGKILL, run.stderr
    assert acked.exists() is acknowledged
    with sqlite3.connect(database) as connection:
        unpublished = connection.execute(
            "SELECT count(*) FROM outbox WHERE published_at IS NULL"
        ).fetchone()
    assert unpublished == (1,)


def test_without_the_setting_the_row_is_published(tmp_path: Path) -> None:
    database, acked = tmp_path / "outbox.db", tmp_path / "acked"
    env = {k: v for k, v in os.environ.items() if k != "FAULT_INJECTION"}
    env["PYTHONPATH"] = str(REPO_ROOT)
    run = subprocess.run(
        [sys.executable, "-c", RELAY, str(database), str(acked)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    with sqlite3.connect(database) as connection:
        assert connection.execute(
            "SELECT count(*) FROM outbox WHERE published_at IS NULL"
        ).fetchone() == (0,)
