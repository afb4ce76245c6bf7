from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db.engine import create_engine
from shared.db.migrate import upgrade


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A migrated catalogue database in a file: the consumer runtime needs its inbox table."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'catalogue.db'}"
    await asyncio.to_thread(upgrade, "catalogue", url)
    engine = create_engine(url)
    yield engine
    await engine.dispose()
