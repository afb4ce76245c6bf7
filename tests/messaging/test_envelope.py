"""Signed envelopes and the registry's rules of who may say what."""

from __future__ import annotations

import dataclasses

import pytest

from shared.envelope import CloudEvent, EnvelopeError, verify_sender
from shared.partner_system import demo_signer, signed_event
from shared.registry import AllianceRegistry, Unauthorised
from tests.support.builders import offering_published

REGISTRY = AllianceRegistry.load()


def test_headers_round_trip_through_the_kafka_binding() -> None:
    envelope = signed_event(demo_signer("lindeveld"), offering_published("lindeveld"))
    back = CloudEvent.from_kafka(envelope.headers(), envelope.key.encode(), envelope.data)
    assert back == envelope
    verify_sender(back, REGISTRY)


@pytest.mark.parametrize(
    "change",
    [
        {"data": b'{"tampered": true}'},
        {"subject": "off-lindeveld-other"},
        {"time": "2030-01-01T00:00:00.000Z"},
        {"type": "eu.alliance.offering.withdrawn.v1"},
        {"source": "urn:alliance:partner:nordhavn"},
    ],
)
def test_any_change_to_a_signed_event_breaks_its_signature(change: dict[str, object]) -> None:
    envelope = signed_event(demo_signer("lindeveld"), offering_published("lindeveld"))
    with pytest.raises(Unauthorised):
        verify_sender(dataclasses.replace(envelope, **change), REGISTRY)  # type: ignore[arg-type]


@pytest.mark.parametrize("signature", ["AAAA", "not base64url!", "A" * 90])
def test_a_signature_of_the_wrong_shape_is_refused_as_unauthenticated(signature: str) -> None:
    envelope = signed_event(demo_signer("lindeveld"), offering_published("lindeveld"))
    with pytest.raises(Unauthorised, match="does not verify"):
        verify_sender(dataclasses.replace(envelope, signature=signature), REGISTRY)


def test_a_key_of_another_sender_is_refused() -> None:
    envelope = signed_event(demo_signer("lindeveld"), offering_published("lindeveld"))
    borrowed = dataclasses.replace(envelope, signing_key="nordhavn-2026-1")
    with pytest.raises(Unauthorised, match="not a key of"):
        verify_sender(borrowed, REGISTRY)


def test_records_without_the_cloudevents_headers_are_not_events() -> None:
    with pytest.raises(EnvelopeError, match="ce_id"):
        CloudEvent.from_kafka({"ce_source": "x"}, b"key", b"{}")
    envelope = signed_event(demo_signer("lindeveld"), offering_published("lindeveld"))
    with pytest.raises(EnvelopeError, match="key"):
        CloudEvent.from_kafka(envelope.headers(), None, envelope.data)


def test_a_partner_speaks_only_for_itself_and_services_only_for_their_events() -> None:
    REGISTRY.authorise("urn:alliance:partner:nordhavn", "offering.published", "nordhavn")
    with pytest.raises(Unauthorised, match="on behalf of"):
        REGISTRY.authorise("urn:alliance:partner:nordhavn", "offering.published", "valdemora")
    with pytest.raises(Unauthorised, match="may not emit"):
        REGISTRY.authorise("urn:alliance:partner:nordhavn", "credential.issued", "nordhavn")
    REGISTRY.authorise("urn:alliance:service:catalogue", "offering.updated", "valdemora")
    with pytest.raises(Unauthorised, match="may not emit"):
        REGISTRY.authorise("urn:alliance:service:catalogue", "enrolment.accepted", "valdemora")
    with pytest.raises(Unauthorised, match="not a partner or service"):
        REGISTRY.authorise("urn:alliance:partner:unknown", "offering.published", "unknown")
