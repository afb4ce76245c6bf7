"""Outbox: the state change and its events commit together; a relay publishes them once.

The crash case runs the real catalogue service as a process: an event its relay holds when
the process dies (after the commit, before the publish) goes out after a restart, exactly
once, and a second crash and restart does not publish it again.
"""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func
from sqlmodel import col, select

from services.catalogue.domain import Listing
from services.catalogue.repository import OfferingRepository
from services.catalogue.unit_of_work import CatalogueUnitOfWork
from shared.clock import epoch_ms
from shared.db.engine import create_engine, session_factory
from shared.db.outbox import OutboxMessage
from shared.db.uow import UnitOfWorkFactory
from shared.envelope import CloudEvent, EventSigner
from shared.events import OfferingPublished
from shared.messaging.relay import RELAY_LOCK_ID, OutboxRelay
from tests.conftest import MigratedDatabase, ServiceFactory
from tests.support.builders import offering_published
from tests.support.infra import Infrastructure
from tests.support.kafka import header, read_all, wait_for, with_event_id
from tests.support.relay import acknowledging
from tests.support.services import ServiceProcess

CATALOGUE = "urn:alliance:service:catalogue"


async def _commit_offering(
    database_url: str, offering: OfferingPublished, fail: bool = False
) -> str:
    """Writes the listing and its event in one unit of work; returns the event id."""
    engine = create_engine(database_url)
    units_of_work = UnitOfWorkFactory(CatalogueUnitOfWork, session_factory(engine), CATALOGUE)
    try:
        async with units_of_work() as uow:
            await uow.offerings.save(
                Listing(offering.offering_id, offering.partner_id, 1, "published", offering),
                first=True,
            )
            uow.record(offering)
            if fail:
                raise RuntimeError("the request fails before its commit")
            await uow.commit()
        async with units_of_work() as uow:
            rows = await uow.session.exec(
                select(OutboxMessage.event_id).where(
                    col(OutboxMessage.aggregate_id) == offering.offering_id
                )
            )
            return rows.one()
    finally:
        await engine.dispose()


async def _marked_published(database_url: str, event_id: str, timeout_s: float = 30.0) -> None:
    """Returns once the relay has marked the event's row published: every row before it in
    the outbox has then been sent and acknowledged too (a batch is marked after its acks)."""
    engine = create_engine(database_url)
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            async with session_factory(engine)() as session:
                row = (
                    await session.exec(
                        select(OutboxMessage).where(col(OutboxMessage.event_id) == event_id)
                    )
                ).one()
            if row.published_at is not None:
                return
            assert time.monotonic() < deadline, f"{event_id} not marked published"
            await asyncio.sleep(0.1)
    finally:
        await engine.dispose()


async def _exit_status(service: ServiceProcess, timeout_s: float = 30.0) -> int:
    assert service.process is not None
    return await asyncio.to_thread(service.process.wait, timeout_s)


async def test_a_failed_unit_of_work_leaves_neither_the_change_nor_the_event(
    migrated_database: MigratedDatabase,
) -> None:
    url = await migrated_database("catalogue")
    offering = offering_published("lindeveld")
    with pytest.raises(RuntimeError):
        await _commit_offering(url, offering, fail=True)
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            assert await OfferingRepository(session).get(offering.offering_id) is None
            assert (await session.exec(select(OutboxMessage))).all() == []
    finally:
        await engine.dispose()


async def test_events_committed_before_a_crash_are_published_once_after_restart(
    infra: Infrastructure, service_process: ServiceFactory
) -> None:
    # The fault suite's switch: the relay kills its own process once it has read committed
    # rows, before it sends them.
    catalogue = await service_process("catalogue", FAULT_INJECTION="after-commit-before-publish")
    catalogue.start()
    url = catalogue.env["DATABASE_URL"]

    offering = offering_published("lindeveld")
    event_id = await _commit_offering(url, offering)
    assert await _exit_status(catalogue) == -signal.SIGKILL, catalogue.log_tail()
    # A live relay held the row and died: it died before the publish, not after.
    assert (
        with_event_id(await read_all(infra.kafka_bootstrap_servers, "alliance.offerings"), event_id)
        == []
    )

    del catalogue.env["FAULT_INJECTION"]
    catalogue.start()  # the restarted relay finds the unpublished row
    records = await wait_for(
        infra.kafka_bootstrap_servers,
        "alliance.offerings",
        lambda rs: bool(with_event_id(rs, event_id)),
    )
    published = with_event_id(records, event_id)
    assert len(published) == 1
    assert header(published[0], "ce_source") == CATALOGUE
    assert published[0].key == offering.offering_id.encode()
    # Stamped with the event's time, not the restarted relay's: consumers order by it.
    assert published[0].timestamp == epoch_ms(str(header(published[0], "ce_time")))

    # Marked as published in the same database, so a second crash does not publish it again.
    await _marked_published(url, event_id)
    catalogue.kill()
    catalogue.start()
    # Once an event committed after the restart is marked, the restarted relay has passed
    # every row before it: a repeat of the first event would be on the broker by then.
    later = offering_published("lindeveld")
    await _marked_published(url, await _commit_offering(url, later))
    records = await read_all(infra.kafka_bootstrap_servers, "alliance.offerings")
    assert len(with_event_id(records, event_id)) == 1

    async with httpx.AsyncClient(base_url=catalogue.url) as client:
        listed = await client.get(f"/offerings/{offering.offering_id}")
    assert listed.status_code == 200


async def test_only_the_relay_holding_the_lock_publishes(
    migrated_database: MigratedDatabase,
) -> None:
    """Two relays on one database (two processes of a service): while one holds the relay
    lock, the other reads nothing and sends nothing, so each key's events stay in order."""
    url = await migrated_database("catalogue")
    offering = offering_published("lindeveld")
    event_id = await _commit_offering(url, offering)
    sent: list[str] = []
    engine = create_engine(url)
    signer = EventSigner(CATALOGUE, "test-key", Ed25519PrivateKey.generate())
    relay = OutboxRelay(engine, signer, acknowledging(sent))
    try:
        async with engine.begin() as other_relay:
            await other_relay.execute(select(func.pg_advisory_xact_lock(RELAY_LOCK_ID)))
            assert await relay.publish_pending() == 0
            assert sent == []
        assert await relay.publish_pending() == 1
        assert sent == [event_id]
        assert await relay.publish_pending() == 0  # marked published: not sent again
    finally:
        await engine.dispose()


async def test_a_batch_the_broker_refuses_stays_in_the_outbox_and_goes_out_later(
    migrated_database: MigratedDatabase,
) -> None:
    """The relay marks a batch published in the statement that reads it; when the broker
    refuses one record of the batch, none is marked, and the next wake sends them all, in
    the order they were recorded."""
    url = await migrated_database("catalogue")
    event_ids = [await _commit_offering(url, offering_published("lindeveld")) for _ in range(3)]
    sent: list[str] = []
    refuse = {event_ids[1]}

    async def send(topic: str, event: CloudEvent, headers: dict[str, str]) -> asyncio.Future[Any]:
        acknowledged: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if event.id in refuse:
            acknowledged.set_exception(ConnectionError("the broker refused the record"))
        else:
            sent.append(event.id)
            acknowledged.set_result(None)
        return acknowledged

    engine = create_engine(url)
    relay = OutboxRelay(
        engine, EventSigner(CATALOGUE, "test-key", Ed25519PrivateKey.generate()), send
    )
    try:
        with pytest.raises(ConnectionError):
            await relay.publish_pending()
        async with session_factory(engine)() as session:
            unpublished = await session.exec(
                select(func.count()).where(col(OutboxMessage.published_at).is_(None))
            )
            assert unpublished.one() == 3
        refuse.clear()
        sent.clear()
        assert await relay.publish_pending() == 3
        assert sent == event_ids
        assert await relay.publish_pending() == 0
    finally:
        await engine.dispose()
