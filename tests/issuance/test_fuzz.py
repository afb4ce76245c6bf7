"""Schemathesis fuzzes issuance's API, its real process, as each kind of caller."""

from __future__ import annotations

import pytest

from tests.conftest import ServiceFactory
from tests.support.fuzz import CALLER_IDS, CALLERS, CallerRole, caller, keeps_its_promises


@pytest.mark.parametrize("role", CALLERS, ids=CALLER_IDS)
async def test_issuance_keeps_its_openapi_promises(
    service_process: ServiceFactory, role: CallerRole
) -> None:
    issuance = await service_process("issuance")
    issuance.start()
    keeps_its_promises(issuance.url, caller(role))
