"""A service's log keeps what an operator acts on, not a line per call between services."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest

from shared.logs import configure_logging


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root, calls = logging.getLogger(), logging.getLogger("httpx")
    handlers, level, calls_level = root.handlers[:], root.level, calls.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    calls.setLevel(calls_level)


async def test_calls_to_services_are_not_logged_one_line_each(
    restored_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # Here, so that the service's handler writes to the output captured for this test.
    configure_logging("gateway", "INFO", "json")
    transport = httpx.MockTransport(lambda _: httpx.Response(200, json={}))
    async with httpx.AsyncClient(transport=transport, base_url="http://issuance") as client:
        await client.get("/credentials/urn-uuid-4f1c/status")
    logging.getLogger("httpx").warning("issuance unreachable")
    logging.getLogger("services.gateway").info("gateway ready")
    written = capsys.readouterr().out
    assert "urn-uuid-4f1c" not in written
    assert "issuance unreachable" in written
    assert "gateway ready" in written
