"""On a busy stream the outbox relay, woken by a commit, waits `outbox_linger_s` before it
claims: the commits close behind that one go out in the same batch (one claim, one produce
request). A quiet stream's commit goes out at once."""

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


async def test_on_a_busy_stream_the_commits_close_behind_a_wake_go_out_in_its_batch(
    sqlite_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A commit to an idle relay goes out at once; a commit made while a batch went out
    means a busy stream, and the relay, woken by it, waits for the commits behind it."""
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

    batches: list[int] = []
    looked, first_published, all_published = asyncio.Event(), asyncio.Event(), asyncio.Event()
    publish = relay.publish_pending

    async def counted() -> int:
        published = await publish()
        if published:
            batches.append(published)
        if batches == [1]:
            first_published.set()
            # Committed before the relay looks again: while its batch went out.
            await commit_offering("nordhavn")
        looked.set()
        if sum(batches) == 3:
            all_published.set()
        return published

    relay.publish_pending = counted  # type: ignore[method-assign]
    running = asyncio.create_task(relay.run())
    try:
        await asyncio.wait_for(looked.wait(), timeout=10)  # found nothing; now it waits
        await commit_offering("lindeveld")
        await asyncio.wait_for(first_published.wait(), timeout=10)
        assert not watched.waiting.is_set(), "a commit to an idle relay waited to go out"
        try:
            await asyncio.wait_for(watched.waiting.wait(), timeout=10)
        except TimeoutError:
            pytest.fail("woken on a busy stream, the relay did not wait for the commits behind")
        await commit_offering("lindeveld")
        await asyncio.wait_for(all_published.wait(), timeout=10)
        assert batches == [1, 2]
        assert len(sent) == 3
    finally:
        relay.stop()
        await running
