"""A partner system that is not written in Python: kcat publishes a contract-valid event.

Everything kcat sends is built from contracts/README.md alone: the JSON value, the key and
the CloudEvents headers with the signature. The event is sent before the catalogue starts,
so this also shows that a new consumer group reads from the earliest offset.
"""

from __future__ import annotations

import asyncio
import shutil

import httpx
import pytest

from shared.contracts import validate_payload
from shared.partner_system import demo_signer, signed_event
from tests.conftest import ServiceFactory
from tests.support.builders import offering_published
from tests.support.infra import Infrastructure
from tests.support.kafka import kcat_options


async def test_an_event_published_with_kcat_is_consumed(
    infra: Infrastructure, service_process: ServiceFactory, tmp_path: object
) -> None:
    kcat = shutil.which("kcat")
    if kcat is None:
        pytest.fail("kcat is not installed: `make setup` installs it (Debian package kcat)")
    offering = offering_published("vallombra")
    envelope = signed_event(demo_signer("vallombra"), offering)
    validate_payload(envelope.type, offering.model_dump(mode="json", exclude_none=True))

    headers = [
        arg for name, value in envelope.headers().items() for arg in ("-H", f"{name}={value}")
    ]
    producer = await asyncio.create_subprocess_exec(
        kcat, "-P", "-b", infra.kafka_bootstrap_servers, "-t", "alliance.offerings",
        "-k", envelope.key, "-X", "acks=all", *kcat_options("vallombra"), *headers,
        stdin=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(producer.communicate(envelope.data), timeout=30)
    assert producer.returncode == 0, stderr.decode()

    catalogue = await service_process("catalogue")
    catalogue.start()
    async with httpx.AsyncClient(base_url=catalogue.url) as client:
        for _ in range(100):
            response = await client.get(f"/offerings/{offering.offering_id}")
            if response.status_code == 200:
                break
            await asyncio.sleep(0.2)
    assert response.status_code == 200, catalogue.log_tail()
    shown = response.json()
    assert shown["partner_id"] == "vallombra"
    assert shown["offering"]["title"] == offering.title
