"""The outbox relay, woken by a commit, waits `outbox_linger_s` before it claims: the commits
close behind that one go out in the same batch (one claim, one produce request)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.ext.asyncio import AsyncEngine

from services.catalogue.domain import Listing
from services.catalogue.unit_of_work import CatalogueUnitOfWork
from shared.db.engine import session_factory
from shared.db.uow import UnitOfWorkFactory
from shared.envelope import EventSigner
from shared.messaging import relay as relay_module
from shared.messaging.relay import OutboxRelay
from tests.support.builders import offering_published
from tests.support.relay import acknowledging

CATALOGUE = "urn:alliance:service:catalogue"


class _Watched:
    """The relay module's `asyncio`, telling when the relay waits."""

    def __init__(self) -> None:
        self.waiting = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    async def sleep(self, seconds: float) -> None:
        self.waiting.set()
        await asyncio.sleep(seconds)


async def test_commits_close_behind_a_wake_go_out_in_its_batch(
    sqlite_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    watched = _Watched()
    monkeypatch.setattr(relay_module, "asyncio", watched)
    sent: list[str] = []
    relay = OutboxRelay(
        sqlite_engine,
        EventSigner(CATALOGUE, "test-key", Ed25519PrivateKey.generate()),
        acknowledging(sent),
        poll_interval_s=60,  # only a wake makes it look again
        linger_s=2.0,
    )
    batches: list[int] = []
    looked, both_published = asyncio.Event(), asyncio.Event()
    publish = relay.publish_pending

    async def counted() -> int:
        published = await publish()
        if published:
            batches.append(published)
        looked.set()
        if sum(batches) == 2:
            both_published.set()
        return published

    relay.publish_pending = counted  # type: ignore[method-assign]
    units_of_work = UnitOfWorkFactory(
        CatalogueUnitOfWork, session_factory(sqlite_engine), CATALOGUE, relay.wake
    )

    async def commit_offering(partner: str) -> None:
        offering = offering_published(partner)
        async with units_of_work() as uow:
            await uow.offerings.save(
                Listing(offering.offering_id, partner, 1, "published", offering), first=True
            )
            uow.record(offering)
            await uow.commit()  # wakes the relay

    running = asyncio.create_task(relay.run())
    try:
        await asyncio.wait_for(looked.wait(), timeout=10)  # found nothing; now it waits
        await commit_offering("lindeveld")
        try:
            await asyncio.wait_for(watched.waiting.wait(), timeout=10)
        except TimeoutError:
            pytest.fail("woken by a commit, the relay did not wait for the commits behind it")
        await commit_offering("nordhavn")
        await asyncio.wait_for(both_published.wait(), timeout=10)
        assert batches == [2]
        assert len(sent) == 2
    finally:
        relay.stop()
        await running
