"""A poll that fails before it is applied loses no record, on the real broker and database.

The catalogue is built and started in this process (its own database and consumer group, its
own principal at the broker) after offerings were published, with one step failing on the
first poll: FastStream's batch parser, or the consumer runtime itself (as when even the
dead-letter topic is unreachable). The offerings are all applied all the same, read again
from the failed poll's first record. Without the re-read, FastStream polls on past them and
the next poll's acknowledgement commits past records never applied.

A poll that does not fail is applied on the event loop alone: FastStream's FastAPI
integration would otherwise resolve the poll's parameter in a worker thread, every poll.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import anyio.to_thread
import httpx
import pytest
from aiokafka import ConsumerRecord
from faststream.message import StreamMessage

from services.catalogue.bootstrap import bootstrap
from shared import event_runtime
from shared.messaging.clients import producer
from shared.messaging.consumer import EventConsumer, Outcome
from shared.messaging.dead_letter import ConsumedRecord
from shared.partner_system import demo_signer, signed_event
from shared.settings import ServiceSettings
from tests.conftest import MigratedDatabase
from tests.support.builders import offering_published
from tests.support.infra import Infrastructure
from tests.support.kafka import principal_env, wait_until_caught_up

TOPIC = "alliance.offerings"
OFFERINGS = 20

Records = tuple[ConsumerRecord[Any, Any], ...]
Parse = Callable[[Records], Awaitable[StreamMessage[Any]]]


async def _listed_once_caught_up(
    infra: Infrastructure, migrated_database: MigratedDatabase, monkeypatch: pytest.MonkeyPatch
) -> list[int]:
    """Publishes the offerings, starts the catalogue, waits until its group has caught up;
    what the catalogue answers for each offering then."""
    bootstrap_servers = infra.kafka_bootstrap_servers
    consumer = f"catalogue-{uuid.uuid4().hex[:8]}"
    env = {
        "SERVICE_NAME": "catalogue",
        "DATABASE_URL": await migrated_database("catalogue"),
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers,
        "CONSUMER_NAME": consumer,
        "CONSUMER_BACKOFF_MAX_S": "0.1",
        **principal_env("catalogue"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    signer = demo_signer("lindeveld")
    offerings = [offering_published("lindeveld") for _ in range(OFFERINGS)]
    client = producer(bootstrap_servers)
    await client.start()
    try:
        for event in (signed_event(signer, offering) for offering in offerings):
            headers = [(k, v.encode()) for k, v in event.headers().items()]
            await client.send_and_wait(TOPIC, event.data, key=event.key.encode(), headers=headers)
    finally:
        await client.stop()

    app = bootstrap(ServiceSettings(service_name="catalogue"))
    async with app.router.lifespan_context(app):
        await wait_until_caught_up(bootstrap_servers, consumer, TOPIC)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://catalogue"
        ) as api:
            return [
                (await api.get(f"/offerings/{offering.offering_id}")).status_code
                for offering in offerings
            ]


async def test_a_poll_whose_parser_failed_is_applied_after_all(
    infra: Infrastructure, migrated_database: MigratedDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    polls: list[int] = []
    parse = event_runtime._parse_any_bytes

    async def failing_first(records: Records, parse_batch: Parse) -> StreamMessage[Any]:
        polls.append(len(records))
        if len(polls) == 1:
            raise SystemError("bad argument to internal function")
        return await parse(records, parse_batch)

    monkeypatch.setattr(event_runtime, "_parse_any_bytes", failing_first)
    listed = await _listed_once_caught_up(infra, migrated_database, monkeypatch)
    assert len(polls) > 1, f"the parser failed once and ran again: {polls}"
    assert listed == [200] * OFFERINGS


async def test_a_poll_the_runtime_could_not_settle_is_applied_after_all(
    infra: Infrastructure, migrated_database: MigratedDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[int] = []
    consume_in_order = EventConsumer.consume_in_order

    async def failing_first(
        self: EventConsumer[Any], records: list[ConsumedRecord]
    ) -> list[Outcome]:
        runs.append(len(records))
        if len(runs) == 1:
            raise ConnectionError("the dead-letter topic is unreachable")
        return await consume_in_order(self, records)

    monkeypatch.setattr(EventConsumer, "consume_in_order", failing_first)
    listed = await _listed_once_caught_up(infra, migrated_database, monkeypatch)
    assert len(runs) > 1, f"the runtime failed once and ran again: {runs}"
    assert listed == [200] * OFFERINGS


async def test_a_poll_is_applied_without_a_worker_thread(
    infra: Infrastructure, migrated_database: MigratedDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_threads: list[str] = []
    run_sync = anyio.to_thread.run_sync

    async def noted(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        called = getattr(func, "func", func)  # Starlette hands over a functools.partial
        in_threads.append(f"{called.__module__}.{called.__qualname__}")
        return await run_sync(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", noted)
    listed = await _listed_once_caught_up(infra, migrated_database, monkeypatch)
    assert listed == [200] * OFFERINGS
    assert [name for name in in_threads if name.startswith("faststream")] == []
