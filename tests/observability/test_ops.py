"""The operator CLI (`python -m infra.ops`) on the real broker, database and service."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import httpx
import pytest

from infra.ops import main
from shared.db.engine import driver_dsn
from shared.envelope import CloudEvent
from shared.messaging.dead_letter import dead_letter_topic
from shared.ops.dead_letters import DeadLetter, dead_letters
from shared.partner_system import PartnerSystem, demo_signer, signed_event
from tests.conftest import ServiceFactory
from tests.support.builders import new_offering_id, offering_published
from tests.support.infra import Infrastructure
from tests.support.services import ServiceProcess

DEADLINE_S = 20.0


async def ops(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    # The CLI runs its own event loop, as it does from a shell.
    code = await asyncio.to_thread(main, list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


async def parked(bootstrap: str, consumer: str, event_id: str, count: int) -> list[DeadLetter]:
    deadline = time.monotonic() + DEADLINE_S
    while True:
        found = [d for d in await dead_letters(bootstrap, consumer) if d.event_id == event_id]
        if len(found) >= count:
            return found
        assert time.monotonic() < deadline, f"{event_id} parked {len(found)} times, not {count}"
        await asyncio.sleep(0.2)


async def shown(catalogue: ServiceProcess, offering_id: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    async with httpx.AsyncClient(base_url=catalogue.url, timeout=5) as api:
        while (await api.get(f"/offerings/{offering_id}")).status_code != 200:
            assert time.monotonic() < deadline, f"{offering_id} never shown"
            await asyncio.sleep(0.1)


async def test_dead_letters_are_listed_with_their_reason_and_replayed_once(
    service_process: ServiceFactory, infra: Infrastructure, capsys: pytest.CaptureFixture[str]
) -> None:
    catalogue = await service_process("catalogue")
    catalogue.start()
    consumer = catalogue.env["CONSUMER_NAME"]
    bootstrap = infra.kafka_bootstrap_servers
    # Nordhavn's system speaks for Valdemora: a real sender, not entitled to this.
    event = offering_published("valdemora", new_offering_id("valdemora"))
    async with PartnerSystem(bootstrap, demo_signer("nordhavn")) as nordhavn:
        envelope: CloudEvent = signed_event(nordhavn.signer, event)
        await nordhavn.send("alliance.offerings", envelope)
    [first] = await parked(bootstrap, consumer, envelope.id, 1)

    listing_args = ["--bootstrap-servers", bootstrap, "dead-letters", "list"]
    listing_args += ["--service", "catalogue", "--consumer", consumer]
    code, listing = await ops(capsys, *listing_args)
    assert code == 0, listing
    assert f"dead letter {first.position}   reason: unauthorised" in listing
    assert f"id: {envelope.id}" in listing
    assert "eu.alliance.offering.published.v1" in listing
    assert "from:     alliance.offerings[" in listing
    assert event.offering_id not in listing, "the payload is shown only when asked for"

    replay = [
        "--bootstrap-servers",
        bootstrap,
        "dead-letters",
        "replay",
        "--service",
        "catalogue",
        "--consumer",
        consumer,
        "--event-id",
        envelope.id,
    ]
    catalogue.stop()  # no new dead letter can appear until it runs again
    code, out = await ops(capsys, *replay)
    assert code == 0, out
    assert f"replayed {first.position} (event {envelope.id}) to alliance.offerings" in out
    # The replay is remembered: the same dead letter is not replayed twice by accident.
    code, out = await ops(capsys, *replay)
    assert code == 1
    assert f"already replayed: {first.position}" in out

    # Nothing was fixed: the consumer meets the same event and parks it for the same reason.
    catalogue.start()
    letters = await parked(bootstrap, consumer, envelope.id, 2)
    assert {letter.header("dlq_reason") for letter in letters} == {"unauthorised"}
    assert letters[1].value == first.value

    # The same event; only `traceparent` moves on (each parking is a span of one trace).
    def event_headers(letter: DeadLetter) -> list[tuple[str, bytes]]:
        return [(k, v) for k, v in letter.original_headers() if k != "traceparent"]

    assert event_headers(letters[1]) == event_headers(first)

    code, listing = await ops(capsys, *listing_args, "--show-payload")
    assert "replayed: " in listing
    assert event.offering_id in listing
    assert dead_letter_topic(consumer) in listing


async def test_views_are_rebuilt_from_the_log_only_while_the_service_is_stopped(
    service_process: ServiceFactory,
    infra: Infrastructure,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The tables emptied are the ones the catalogue itself declares: nothing here names them.
    catalogue = await service_process("catalogue")
    catalogue.start()
    consumer = catalogue.env["CONSUMER_NAME"]
    bootstrap = infra.kafka_bootstrap_servers
    event = offering_published("valdemora", new_offering_id("valdemora"))
    async with PartnerSystem(bootstrap, demo_signer("valdemora")) as valdemora:
        await valdemora.publish(event)
    await shown(catalogue, event.offering_id)
    args = [
        "--bootstrap-servers",
        bootstrap,
        "rebuild-views",
        "--service",
        "catalogue",
        "--consumer",
        consumer,
        "--database-url",
        catalogue.env["DATABASE_URL"],
    ]

    code, out = await ops(capsys, *args)
    assert code == 1
    assert "active member" in out

    catalogue.stop()
    code, out = await ops(capsys, *args)
    assert code == 0, out
    assert "rewound" in out
    dsn = driver_dsn(catalogue.env["DATABASE_URL"])
    connection = await asyncpg.connect(dsn)
    try:
        assert await connection.fetchval("SELECT count(*) FROM offerings") == 0
        # What it applied is forgotten; which records it dead-lettered is not, so the replay
        # does not dead-letter them again.
        applied = "SELECT count(*) FROM inbox WHERE consumer = $1"
        assert await connection.fetchval(applied, consumer) == 0
    finally:
        await connection.close()

    catalogue.start()
    await shown(catalogue, event.offering_id)
