"""Spans are searchable by learner-safe ids and never carry a learner id."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared.events import OfferingPublished
from shared.telemetry import LearnerSafeSpanProcessor, searchable_attributes
from tests.support.builders import offering_published


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


def test_searchable_attributes_are_the_event_ids_not_the_learner() -> None:
    event: OfferingPublished = offering_published("valdemora")
    attributes = searchable_attributes("eu.alliance.offering.published.v1", "evt-1", event)
    assert attributes == {
        "alliance.event_type": "eu.alliance.offering.published.v1",
        "alliance.event_id": "evt-1",
        "alliance.offering_id": event.offering_id,
        "alliance.partner_id": "valdemora",
    }
