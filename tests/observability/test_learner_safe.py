"""Spans are searchable by learner-safe ids and never carry a learner id; every record
belongs to one trace, also when its sender traces nothing."""

from __future__ import annotations

import re

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared.events import OfferingPublished
from shared.partner_system import PartnerSystem, demo_signer, signed_event
from shared.telemetry import (
    LearnerSafeSpanProcessor,
    derived_trace_id,
    record_context,
    searchable_attributes,
)
from tests.support.builders import offering_published
from tests.support.infra import Infrastructure
from tests.support.kafka import header, read_all, with_event_id


def test_a_learner_keyed_record_exports_no_learner_id() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(LearnerSafeSpanProcessor())
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    # What a consumer span starts with for a record keyed by learner (shared.telemetry).
    with tracer.start_as_current_span(
        "process alliance.results",
        attributes={
            "messaging.kafka.message.key": "lrn-7f3a9c",
            "url.path": "/learners/lrn-7f3a9c/credentials",
            "messaging.destination.name": "alliance.results",
        },
    ):
        pass
    [span] = exporter.get_finished_spans()
    attributes = dict(span.attributes or {})
    assert not [v for v in attributes.values() if "lrn-" in str(v)]
    assert attributes["url.path"] == "/learners/[learner]/credentials"
    assert attributes["messaging.destination.name"] == "alliance.results"


def test_share_tokens_in_urls_are_exported_as_secret() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(LearnerSafeSpanProcessor())
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    token = "Zq8Xr0c2YdVY6m4rQ2vN1w"
    with provider.get_tracer("test").start_as_current_span(
        "GET /shared/{token}",
        attributes={
            "url.path": f"/shared/{token}/page",
            "http.target": f"/verify/{token}?lang=en",
            "url.full": f"http://127.0.0.1:8000/me/shares/{token}",
            "http.route": "/shared/{token}",
        },
    ):
        pass
    [span] = exporter.get_finished_spans()
    attributes = dict(span.attributes or {})
    assert not [v for v in attributes.values() if token in str(v)]
    assert attributes["url.path"] == "/shared/[secret]/page"
    assert attributes["http.target"] == "/verify/[secret]?lang=en"
    assert attributes["http.route"] == "/shared/{token}"


def test_searchable_attributes_are_the_event_ids_not_the_learner() -> None:
    event: OfferingPublished = offering_published("valdemora")
    attributes = searchable_attributes("eu.alliance.offering.published.v1", "evt-1", event)
    assert attributes == {
        "alliance.event_type": "eu.alliance.offering.published.v1",
        "alliance.event_id": "evt-1",
        "alliance.offering_id": event.offering_id,
        "alliance.partner_id": "valdemora",
    }


def test_a_record_without_trace_context_joins_the_trace_derived_from_its_source_and_id() -> None:
    """Every service reading a partner's untraced record derives the same trace for it."""
    envelope = signed_event(demo_signer("rheinfeld"), offering_published("rheinfeld"))
    headers = [(k, v.encode()) for k, v in envelope.headers().items() if k != "traceparent"]
    first, second = (
        trace.get_current_span(record_context(headers)).get_span_context() for _ in range(2)
    )
    assert first == second
    assert first.is_valid
    assert first.trace_flags.sampled
    assert f"{first.trace_id:032x}" == derived_trace_id(envelope.source, envelope.id)
    other = signed_event(demo_signer("rheinfeld"), offering_published("rheinfeld"))
    other_headers = [(k, v.encode()) for k, v in other.headers().items()]
    assert trace.get_current_span(record_context(other_headers)).get_span_context() != first

    given = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    traced = trace.get_current_span(record_context([*headers, ("traceparent", given.encode())]))
    assert f"{traced.get_span_context().trace_id:032x}" == "0af7651916cd43dd8448eb211c80319c"


async def test_a_partner_system_sends_trace_context(infra: Infrastructure) -> None:
    async with PartnerSystem(infra.kafka_bootstrap_servers, demo_signer("rheinfeld")) as partner:
        envelope = await partner.publish(offering_published("rheinfeld"))
    [record] = with_event_id(
        await read_all(infra.kafka_bootstrap_servers, "alliance.offerings"), envelope.id
    )
    assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-01", header(record, "traceparent") or "")
