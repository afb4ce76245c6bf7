"""The whole alliance as `make run` starts it: six service processes on the real broker."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx
import pytest

from services import SERVICES
from tests.conftest import ServiceFactory
from tests.support.identities import (
    ISSUER as ISSUER,  # re-exported: the journeys derive learner ids from it
    token,
)
from tests.support.services import ServiceProcess


@dataclass
class Alliance:
    services: dict[str, ServiceProcess]

    @property
    def gateway(self) -> str:
        return self.services["gateway"].url

    def url(self, service: str) -> str:
        return self.services[service].url

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.gateway, timeout=10)


def learner_headers(subject: str) -> dict[str, str]:
    return token(subject)


def partner_headers(partner_id: str) -> dict[str, str]:
    return token(f"{partner_id}-sis", "partner_system", partner_id)


async def eventually(check: object, timeout_s: float = 30, what: str = "condition") -> object:
    """Polls an async callable until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        result = await check()  # type: ignore[operator]
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.25)


@pytest.fixture
async def alliance(service_process: ServiceFactory) -> Alliance:
    services = {name: await service_process(name) for name in SERVICES if name != "gateway"}
    urls = {f"{name.upper()}_URL": process.url for name, process in services.items()}
    services["gateway"] = await service_process("gateway", DEV_IDP_ENABLED="true", **urls)
    await asyncio.gather(*(asyncio.to_thread(p.start, 90) for p in services.values()))
    return Alliance(services)
