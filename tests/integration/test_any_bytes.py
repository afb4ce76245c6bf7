"""Whatever bytes a partner sends, every record is applied or dead-lettered, none is dropped.

Runs the real catalogue service against the real broker and PostgreSQL: forty valid
offerings and one record of each kind of bad bytes go out in one burst, so they are fetched
together; then the group's offsets are reset to the earliest and the whole log is read again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

import httpx

from shared.envelope import CloudEvent
from shared.messaging.clients import producer
from shared.messaging.dead_letter import dead_letter_topic
from shared.ops.views import rewind
from shared.partner_system import demo_signer, signed_event
from tests.conftest import ServiceFactory
from tests.support.builders import offering_published, result_submitted
from tests.support.infra import Infrastructure
from tests.support.kafka import Record, read_all, wait_until_caught_up

TOPIC = "alliance.offerings"
VALID = 40


def _headers(envelope: CloudEvent) -> list[tuple[str, bytes]]:
    return [(k, v.encode()) for k, v in envelope.headers().items()]


def _bad_records() -> dict[str, tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]]:
    """Each kind of bad record (key, value, headers), named by the reason it must get."""
    signer = demo_signer("lindeveld")

    def valid() -> CloudEvent:
        return signed_event(signer, offering_published("lindeveld"))

    noted = valid()
    twice = valid()
    unreadable_key = valid()
    nul_event = signed_event(
        signer, offering_published("lindeveld", title={"en": "Data\x00Ethics"})
    )
    long_id = signer.sign(dataclasses.replace(valid(), id="x" * 65))
    empty = signer.sign(dataclasses.replace(valid(), data=b""))
    huge = signer.sign(dataclasses.replace(valid(), data=b'{"title": "' + b"a" * 600_000 + b'"}'))
    result = signed_event(
        demo_signer("rheinfeld"),
        result_submitted("enr-any-bytes", "off-rheinfeld-any-bytes", "rheinfeld", "lrn-any-bytes"),
    )
    return {
        "envelope: a header value that is not UTF-8": (
            noted.key.encode(),
            noted.data,
            [*_headers(noted), ("x-note", b"\xff\xfe")],
        ),
        "envelope: an envelope header given twice": (
            twice.key.encode(),
            twice.data,
            [*_headers(twice), ("ce_type", b"eu.alliance.offering.withdrawn.v1")],
        ),
        "envelope: a key that is not UTF-8": (
            b"\xff" + unreadable_key.key.encode(),
            unreadable_key.data,
            _headers(unreadable_key),
        ),
        "envelope: an event id of 65 characters": (
            long_id.key.encode(),
            long_id.data,
            _headers(long_id),
        ),
        "contract: a title with a NUL byte": (
            nul_event.key.encode(),
            nul_event.data,
            _headers(nul_event),
        ),
        "contract: an empty value": (empty.key.encode(), None, _headers(empty)),
        "contract: a huge value": (huge.key.encode(), huge.data, _headers(huge)),
        "contract: an event on a topic its contract does not name": (
            result.key.encode(),
            result.data,
            _headers(result),
        ),
    }


def _parked_at(records: list[Record]) -> dict[tuple[int, int], list[Record]]:
    parked: dict[tuple[int, int], list[Record]] = {}
    for record in records:
        found = {k: bytes(v) for k, v in record.headers if k.startswith("dlq_source_")}
        where = (int(found["dlq_source_partition"]), int(found["dlq_source_offset"]))
        parked.setdefault(where, []).append(record)
    return parked


def _reason(record: Record) -> str:
    return next(bytes(v).decode() for k, v in record.headers if k == "dlq_reason")


async def _wait_for_dead_letters(
    bootstrap: str, consumer: str, expected: int, timeout_s: float = 60.0
) -> list[Record]:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        records = await read_all(bootstrap, dead_letter_topic(consumer))
        if len(records) >= expected or asyncio.get_running_loop().time() > deadline:
            return records
        await asyncio.sleep(0.3)


async def test_bad_bytes_in_a_burst_lose_no_record_even_when_the_log_is_read_again(
    infra: Infrastructure, service_process: ServiceFactory
) -> None:
    bootstrap = infra.kafka_bootstrap_servers
    catalogue = await service_process("catalogue")
    consumer = catalogue.env["CONSUMER_NAME"]
    signer = demo_signer("lindeveld")
    offerings = [offering_published("lindeveld") for _ in range(VALID)]
    bad = _bad_records()

    client = producer(bootstrap)
    await client.start()
    try:
        sent: list[Any] = [
            await client.send(TOPIC, e.data, key=e.key.encode(), headers=_headers(e))
            for e in (signed_event(signer, offering) for offering in offerings[: VALID // 2])
        ]
        bad_sent = [
            await client.send(TOPIC, value, key=key, headers=headers)
            for key, value, headers in bad.values()
        ]
        sent += [
            await client.send(TOPIC, e.data, key=e.key.encode(), headers=_headers(e))
            for e in (signed_event(signer, offering) for offering in offerings[VALID // 2 :])
        ]
        await asyncio.gather(*sent)
        where = [await future for future in bad_sent]
    finally:
        await client.stop()
    expected = {(meta.partition, meta.offset): name for meta, name in zip(where, bad, strict=True)}

    # The service starts after the burst, so its first fetch holds the good and the bad.
    catalogue.start()
    await wait_until_caught_up(bootstrap, consumer, TOPIC)
    parked = _parked_at(await _wait_for_dead_letters(bootstrap, consumer, len(bad)))
    assert parked.keys() == expected.keys(), catalogue.log_tail()
    for position, name in expected.items():
        assert [_reason(r) for r in parked[position]] == [name.split(":")[0]], name
    noted = parked[next(p for p, n in expected.items() if "not UTF-8" in n and "header" in n)][0]
    assert ("x-note", b"\xff\xfe") in [(k, bytes(v)) for k, v in noted.headers], (
        "a dead letter keeps the bytes it arrived with"
    )

    async def applied() -> set[str]:
        found = set()
        async with httpx.AsyncClient(base_url=catalogue.url) as api:
            for offering in offerings:
                if (await api.get(f"/offerings/{offering.offering_id}")).status_code == 200:
                    found.add(offering.offering_id)
        return found

    assert await applied() == {o.offering_id for o in offerings}
    title = json.loads(bad["contract: a title with a NUL byte"][1] or b"{}")
    async with httpx.AsyncClient(base_url=catalogue.url) as api:
        assert (await api.get(f"/offerings/{title['offering_id']}")).status_code == 404
        assert (await api.get("/asyncapi.json")).status_code == 200
        # FastStream's "try it out" would publish anything to any topic without a token.
        tried = await api.post(
            "/asyncapi/try",
            json={"channelName": TOPIC, "message": {}, "options": {"sendToRealBroker": True}},
        )
        assert tried.status_code in (404, 405)
        search = await api.get("/offerings", params={"q": "a\x00b"})
        assert search.status_code == 422, search.text
        assert search.headers["content-type"].startswith("application/problem+json")

    # Full redelivery: the same bad records are not dead-lettered a second time.
    catalogue.stop()
    assert await rewind(bootstrap, consumer) > 0
    catalogue.start()
    await wait_until_caught_up(bootstrap, consumer, TOPIC)
    again = _parked_at(await read_all(bootstrap, dead_letter_topic(consumer)))
    assert {p: len(r) for p, r in again.items()} == {p: 1 for p in expected}
    assert await applied() == {o.offering_id for o in offerings}
