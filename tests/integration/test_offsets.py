"""Consumers commit offsets only after their own transaction commits.

The real catalogue process consumes an offering while the test holds a lock on its table, so
the handler's transaction cannot finish. For longer than aiokafka's auto-commit interval the
group's committed offset must stay at the stuck event; the service is then killed, and the
restarted one reads the event again and applies it.
"""

from __future__ import annotations

import asyncio

import asyncpg
import httpx

from shared.db.engine import driver_dsn
from shared.partner_system import PartnerSystem, demo_signer, signed_event
from tests.conftest import ServiceFactory
from tests.support.builders import offering_published
from tests.support.infra import Infrastructure
from tests.support.kafka import committed_offset, wait_until_caught_up

TOPIC = "alliance.offerings"


async def _listed(url: str, offering_id: str, timeout_s: float = 20) -> bool:
    async with httpx.AsyncClient(base_url=url) as client:
        for _ in range(int(timeout_s / 0.2)):
            if (await client.get(f"/offerings/{offering_id}")).status_code == 200:
                return True
            await asyncio.sleep(0.2)
    return False


async def test_offset_is_committed_only_after_the_effect_and_survives_a_crash(
    infra: Infrastructure, service_process: ServiceFactory
) -> None:
    bootstrap = infra.kafka_bootstrap_servers
    catalogue = await service_process("catalogue")
    catalogue.start()
    group = catalogue.env["CONSUMER_NAME"]
    await wait_until_caught_up(bootstrap, group, TOPIC)
    offering = offering_published("rheinfeld")
    dsn = driver_dsn(catalogue.env["DATABASE_URL"])

    blocker = await asyncpg.connect(dsn)
    try:
        transaction = blocker.transaction()
        await transaction.start()
        await blocker.execute("LOCK TABLE offerings IN ACCESS EXCLUSIVE MODE")
        async with PartnerSystem(bootstrap, demo_signer("rheinfeld")) as partner:
            sent = await partner.send(TOPIC, signed_event(partner.signer, offering))
        # Longer than the 5 s auto-commit interval an at-most-once consumer would use.
        await asyncio.sleep(6)
        stuck_at = await committed_offset(bootstrap, group, TOPIC, sent.partition)
        catalogue.kill()
        await transaction.rollback()
    finally:
        await blocker.close()
    assert stuck_at is None or stuck_at <= sent.offset, (
        f"offset {stuck_at} committed past event at {sent.offset} before its effect"
    )

    catalogue.start()
    assert await _listed(catalogue.url, offering.offering_id), catalogue.log_tail()
    await wait_until_caught_up(bootstrap, group, TOPIC)
    assert await committed_offset(bootstrap, group, TOPIC, sent.partition) == sent.offset + 1
