"""OpenTelemetry set-up, once per process; exports OTLP when an endpoint is configured.

Spans come from four places, one instrumentation each: FastAPI (HTTP in), httpx (HTTP out),
SQLAlchemy (the database) and, for Kafka, the outbox relay and the consumer runtime below
(`send_span`, `process_span`: context in the record headers). No Kafka instrumentation is
added on top (neither FastStream's middleware nor aiokafka's), so every record has one
producer and one consumer span, not two; the consumer applies records in batches, yet each
record's span is a child of its producer's, so a causal chain stays one trace.

Traces are searched by learner-safe ids (`alliance.*` attributes); learner ids never reach the
trace backend: a learner-keyed record would carry its key as `messaging.kafka.message.key`,
so any attribute holding a learner id is redacted before the span is exported.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from opentelemetry import context as otel_context, propagate, trace
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
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    Span as TraceSpan,
    SpanContext,
    SpanKind,
    TraceFlags,
)
from opentelemetry.util.types import Attributes
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    # Only the gateway calls services over HTTP; the others need not load httpx (~5 MiB).
    import httpx

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
# Bearer secrets that travel in URLs: a share link's token opens the learner's credential to
# whoever holds it, so anyone who can read traces must not find it there.
BEARER_IN_PATH = re.compile(r"(/(?:shared|verify|shares)/)(?!\{)[^/?#\s]+")
BEARER_REDACTED = "[secret]"


def scrub(span: TraceSpan) -> None:
    """Replaces learner ids and bearer secrets in a span's attributes (where instrumentations
    put message keys, URLs and routes) before any exporter sees them."""
    for key, value in dict(getattr(span, "attributes", None) or {}).items():
        if isinstance(value, str):
            safe = BEARER_IN_PATH.sub(rf"\1{BEARER_REDACTED}", LEARNER_ID.sub(REDACTED, value))
            if safe != value:
                span.set_attribute(key, safe)


def scrub_server_span(span: TraceSpan, scope: Mapping[str, object]) -> None:
    """The ASGI instrumentation sets the request's attributes (`http.target`, `http.url`)
    again after the span started, so the server span is scrubbed once more, here."""
    scrub(span)


class LearnerSafeSpanProcessor(SpanProcessor):
    """Scrubs the attributes every span starts with."""

    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        scrub(span)

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


_TRACER = trace.get_tracer("alliance.messaging")
_TRACE_HEADERS = ("traceparent", "tracestate")


def process_span(
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    headers: Sequence[tuple[str, bytes]],
    body_size: int,
    consumer_group: str,
    operation: str = "process",
) -> TraceSpan:
    """A started consumer span for one record, child of the span that produced it (from the
    record's `traceparent`); the caller ends it once the record's effect is committed.
    A deferred record applied later is a `resume`, child of the span that deferred it."""
    attributes: dict[str, str | int] = {
        "messaging.system": "kafka",
        "messaging.operation.type": "process",
        "messaging.operation.name": operation,
        "messaging.destination.name": topic,
        "messaging.destination.partition.id": str(partition),
        "messaging.kafka.offset": offset,
        "messaging.consumer.group.name": consumer_group,
        "messaging.message.body.size": body_size,
    }
    if key is not None:
        attributes["messaging.kafka.message.key"] = key.decode("utf-8", errors="replace")
    event_id = next((v for k, v in headers if k == "ce_id"), None)
    if event_id is not None:
        attributes["messaging.message.id"] = event_id.decode("utf-8", errors="replace")
    return _TRACER.start_span(
        f"{operation} {topic}",
        context=record_context(headers),
        kind=SpanKind.CONSUMER,
        attributes=attributes,
    )


def record_context(headers: Sequence[tuple[str, bytes]]) -> otel_context.Context:
    """The trace context a record carries. A record sent without one (a partner system that
    does not trace) gets one derived from its source and id, the same in every service that
    reads it, so the chain it starts is one trace rather than one per service."""
    carrier = {k: v.decode("latin-1") for k, v in headers if k in _TRACE_HEADERS}
    extracted = propagate.extract(carrier)
    if trace.get_current_span(extracted).get_span_context().is_valid:
        return extracted
    found = dict(headers)
    if not found.get("ce_id"):
        return extracted
    digest = _chain_digest(found.get("ce_source", b""), found["ce_id"])
    derived = SpanContext(
        trace_id=int.from_bytes(digest[:16]),
        span_id=int.from_bytes(digest[16:24]),
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    return trace.set_span_in_context(NonRecordingSpan(derived))


def derived_trace_id(source: str, event_id: str) -> str:
    """The trace id of the chain an event without trace context starts (see above)."""
    return _chain_digest(source.encode(), event_id.encode())[:16].hex()


def _chain_digest(source: bytes, event_id: bytes) -> bytes:
    return hashlib.sha256(source + b"\n" + event_id).digest()


@contextmanager
def send_span(
    topic: str, key: str, event_id: str, body_size: int, parent: Mapping[str, str]
) -> Iterator[dict[str, str]]:
    """A producer span for one record, child of the context in `parent` (the trace context
    saved with an outbox row); yields the headers that carry it to the consumer."""
    with _TRACER.start_as_current_span(
        f"send {topic}",
        context=propagate.extract(parent),
        kind=SpanKind.PRODUCER,
        attributes={
            "messaging.system": "kafka",
            "messaging.operation.type": "send",
            "messaging.operation.name": "send",
            "messaging.destination.name": topic,
            "messaging.kafka.message.key": key,
            "messaging.message.id": event_id,
            "messaging.message.body.size": body_size,
        },
    ):
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        yield carrier


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
    # With nothing exported the instrumentations would only cost time, and the memory of
    # their modules (each is imported only where it is applied).
    if otlp_endpoint:
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

        instrumentor = HTTPXClientInstrumentor()
        if not instrumentor.is_instrumented_by_opentelemetry:
            # Every httpx client of the process (the gateway's calls to the services) gets
            # client spans and passes the context on in `traceparent`.
            instrumentor.instrument(tracer_provider=provider)
    return provider


def instrument_http_client(client: httpx.AsyncClient) -> None:
    """Client spans, and the caller's trace passed on in `traceparent`, for a client over the
    aiohttp pool of `shared.http_client`: the process-wide instrumentation patches httpx's
    own transports only, so without this the gateway's calls to the services began traces
    of their own and a learner's request was two traces."""
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor.instrument_client(client)


def instrument_database(engine: AsyncEngine) -> None:
    """Client spans (`db.system`, `db.statement` without parameters) for every query."""
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

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
    span = trace.get_current_span()
    # Without a trace backend no span records: the payload is not dumped for nothing.
    if span.is_recording():
        span.set_attributes(searchable_attributes(event_type, event_id, event))
