"""OpenTelemetry set-up, once per process; exports OTLP when an endpoint is configured.

Spans come from four places, one instrumentation each: FastAPI (HTTP in), httpx (HTTP out),
FastStream's Kafka middleware (produce and consume, context in the record headers) and
SQLAlchemy (the database). No Kafka client instrumentation is added on top of FastStream's,
so every record has one producer and one consumer span, not two.

Traces are searched by learner-safe ids (`alliance.*` attributes); learner ids never reach the
trace backend: a learner-keyed record would carry its key as `messaging.kafka.message.key`,
so any attribute holding a learner id is redacted before the span is exported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from opentelemetry import context as otel_context, trace
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
)
from opentelemetry.trace import Link, SpanKind
from opentelemetry.util.types import Attributes
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

# Payload fields that identify offerings, enrolments, results, credentials, pathways and
# partners: safe to search by. Anything about the learner stays out.
SEARCHABLE_FIELDS = (
    "offering_id",
    "enrolment_id",
    "result_id",
    "credential_id",
    "pathway_id",
    "recognition_id",
    "partner_id",
    "awarding_partner_id",
    "issuing_partner_id",
)
ATTRIBUTE_PREFIX = "alliance."
LEARNER_ID = re.compile(r"lrn-[A-Za-z0-9_-]+")
REDACTED = "[learner]"


class LearnerSafeSpanProcessor(SpanProcessor):
    """Replaces learner ids in the attributes a span starts with (where instrumentations put
    message keys, URLs and routes) before any exporter sees them."""

    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        for key, value in dict(span.attributes or {}).items():
            if isinstance(value, str) and LEARNER_ID.search(value):
                span.set_attribute(key, LEARNER_ID.sub(REDACTED, value))

    def on_end(self, span: ReadableSpan) -> None:
        return None


class _NoHousekeepingRoots(Sampler):
    """Drops client spans that start a trace: a query or call outside any request or event
    is housekeeping (outbox polls, readiness probes, gauges) and would bury the journeys."""

    def should_sample(
        self,
        parent_context: otel_context.Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: trace.TraceState | None = None,
    ) -> SamplingResult:
        if kind is SpanKind.CLIENT:
            return SamplingResult(Decision.DROP)
        return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes)

    def get_description(self) -> str:
        return "NoHousekeepingRoots"


def configure_tracing(service_name: str, otlp_endpoint: str | None) -> TracerProvider:
    provider = TracerProvider(
        resource=Resource.create({"service.name": service_name, "service.namespace": "alliance"}),
        # Without a backend nothing is recorded (the ids still reach the logs).
        sampler=ParentBased(root=_NoHousekeepingRoots()) if otlp_endpoint else ALWAYS_OFF,
    )
    provider.add_span_processor(LearnerSafeSpanProcessor())
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=f"{otlp_endpoint.rstrip('/')}/v1/traces")
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    instrumentor = HTTPXClientInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        # Every httpx client of the process (the gateway's calls to the services) gets
        # client spans and passes the context on in `traceparent`.
        instrumentor.instrument(tracer_provider=provider)
    return provider


def instrument_database(engine: AsyncEngine) -> None:
    """Client spans (`db.system`, `db.statement` without parameters) for every query."""
    instrumentor = SQLAlchemyInstrumentor()
    # One engine per service process; the instrumentor is a process-wide singleton.
    if not instrumentor.is_instrumented_by_opentelemetry:
        # Its declared range stops below SQLAlchemy 2.1, whose engine events it uses unchanged
        # (tests/observability checks the spans), so the version check is skipped.
        instrumentor.instrument(engine=engine.sync_engine, skip_dep_check=True)


def searchable_attributes(event_type: str, event_id: str, event: BaseModel) -> dict[str, str]:
    """The learner-safe ids of an event, as span attributes (`alliance.offering_id`, ...)."""
    attributes = {
        f"{ATTRIBUTE_PREFIX}event_type": event_type,
        f"{ATTRIBUTE_PREFIX}event_id": event_id,
    }
    payload: Mapping[str, object] = event.model_dump(include=set(SEARCHABLE_FIELDS))
    for name, value in payload.items():
        if isinstance(value, str) and not LEARNER_ID.search(value):
            attributes[ATTRIBUTE_PREFIX + name] = value
    return attributes


def annotate_event(event_type: str, event_id: str, event: BaseModel) -> None:
    """Makes the span handling an event findable by the event's learner-safe ids."""
    trace.get_current_span().set_attributes(searchable_attributes(event_type, event_id, event))


def annotate(name: str, value: str) -> None:
    trace.get_current_span().set_attribute(ATTRIBUTE_PREFIX + name, value)
