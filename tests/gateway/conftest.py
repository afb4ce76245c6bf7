"""The gateway in-process over a stand-in issuance, its own database on SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.gateway.fake_issuance import FakeIssuance
from tests.gateway.pages_support import gateway_client


@pytest.fixture
def issuance() -> FakeIssuance:
    return FakeIssuance()


@pytest.fixture
async def gateway(issuance: FakeIssuance, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_client(issuance, tmp_path) as client:
        yield client
