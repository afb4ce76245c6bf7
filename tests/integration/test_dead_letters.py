"""Bad events go to the dead-letter topic with their reason; the consumer carries on.

Runs the real catalogue service as a process against the real broker and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import json

import httpx

from shared.envelope import CloudEvent
from shared.messaging.dead_letter import dead_letter_topic
from shared.partner_system import PartnerSystem, demo_signer, signed_event
from tests.conftest import ServiceFactory
from tests.support.builders import offering_published
from tests.support.infra import Infrastructure
from tests.support.kafka import header, wait_for


def _retyped(envelope: CloudEvent, **changes: str) -> CloudEvent:
    return dataclasses.replace(envelope, **changes)  # type: ignore[arg-type]


async def test_each_bad_event_is_parked_with_its_reason_and_the_good_one_applied(
    infra: Infrastructure, service_process: ServiceFactory
) -> None:
    catalogue = await service_process("catalogue")
    catalogue.start()
    consumer = catalogue.env["CONSUMER_NAME"]
    valdemora = demo_signer("valdemora")
    nordhavn = demo_signer("nordhavn")

    good = offering_published("valdemora")
    tampered = dataclasses.replace(
        signed_event(valdemora, offering_published("valdemora")),
        data=good.model_dump_json().encode(),
    )
    invalid_payload = json.loads(offering_published("valdemora").model_dump_json())
    invalid_payload["eqf_level"] = 9
    invalid = signed_event(valdemora, offering_published("valdemora"))
    invalid = valdemora.sign(
        dataclasses.replace(invalid, data=json.dumps(invalid_payload).encode())
    )
    unknown_type = valdemora.sign(
        _retyped(
            signed_event(valdemora, offering_published("valdemora")),
            type="eu.alliance.offering.promoted.v1",
        )
    )
    headerless_key = f"{good.offering_id}-headerless".encode()
    not_json = valdemora.sign(dataclasses.replace(signed_event(valdemora, good), data=b"{not json"))

    bad = {
        # nordhavn signs, correctly, an offering of valdemora's: a partner speaks only for itself
        "unauthorised": signed_event(nordhavn, offering_published("valdemora")),
        "unauthenticated": tampered,
        "contract": invalid,
        "unknown-type": unknown_type,
    }
    async with PartnerSystem(infra.kafka_bootstrap_servers, valdemora) as partner:
        for envelope in bad.values():
            await partner.send("alliance.offerings", envelope)
        await partner.send("alliance.offerings", not_json)
        # A record with no CloudEvents headers at all.
        await partner._producer.send_and_wait("alliance.offerings", b"{}", key=headerless_key)
        good_envelope = await partner.publish(good)

    expected = {envelope.id: reason for reason, envelope in bad.items()}
    expected[not_json.id] = "contract"
    dead = await wait_for(
        infra.kafka_bootstrap_servers,
        dead_letter_topic(consumer),
        lambda records: (
            expected.keys() <= {header(r, "ce_id") for r in records}
            and any(r.key == headerless_key for r in records)
        ),
    )
    reasons = {header(r, "ce_id"): header(r, "dlq_reason") for r in dead}
    for event_id, reason in expected.items():
        assert reasons[event_id] == reason, f"{reason} event {event_id}: got {reasons[event_id]}"
    headerless = next(r for r in dead if r.key == headerless_key)
    assert header(headerless, "dlq_reason") == "envelope"
    for record in dead:
        assert header(record, "dlq_detail"), "every dead letter says why"
        assert header(record, "dlq_source_topic") == "alliance.offerings"
        assert header(record, "dlq_source_offset") is not None

    # The consumer did not stop: the good event behind the bad ones was applied.
    async with httpx.AsyncClient(base_url=catalogue.url) as client:
        for _ in range(50):
            response = await client.get(f"/offerings/{good.offering_id}")
            if response.status_code == 200:
                break
            await _pause()
        assert response.status_code == 200, catalogue.log_tail()
        assert response.json()["version"] == 1
        assert good_envelope.id not in reasons
        # None of the refused offerings reached the catalogue.
        for envelope in bad.values():
            offering_id = json.loads(envelope.data).get("offering_id")
            if offering_id and offering_id != good.offering_id:
                assert (await client.get(f"/offerings/{offering_id}")).status_code == 404


async def _pause() -> None:
    import asyncio

    await asyncio.sleep(0.2)
