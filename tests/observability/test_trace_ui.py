"""The trace UI that Jaeger serves from infra/jaeger/ui, in a real (headless) browser.

The test exports a known journey over OTLP: a span in one service, its child in a second and
its grandchild in a third, carrying a learner-safe offering id, the grandchild linked to a
span of another trace. An operator then finds it by that id on the search page and reads it
on the trace page, as the pages render after their scripts ran against Jaeger's query API.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

import httpx
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from tests.observability.browser import Element, rendered
from tests.observability.conftest import TraceBackend
from tests.support.identities import new_id

# Names no real service has, so the journey never mixes with theirs.
PORTAL = "trace-ui-portal"
ASSESSMENT = "trace-ui-assessment"
ISSUANCE = "trace-ui-issuance"
SUBMIT = "POST /offerings/{offering_id}/results"
PROCESS = "alliance.results process"
ISSUE = "alliance.credentials create"
PUBLISH = "alliance.offerings publish"
# The journey's spans, each the child of the one before it.
JOURNEY = ((PORTAL, SUBMIT), (ASSESSMENT, PROCESS), (ISSUANCE, ISSUE))


@dataclass(frozen=True)
class Journey:
    trace_id: str
    submission_span_id: str
    linked_trace_id: str
    offering_id: str


def export_journey(otlp_endpoint: str) -> Journey:
    """Three services' spans, one trace: each service its own provider, as its own process
    would have; the context passes from span to span as propagation would carry it."""
    providers = {}
    for service in (PORTAL, ASSESSMENT, ISSUANCE):
        provider = TracerProvider(resource=Resource.create({"service.name": service}))
        exporter = OTLPSpanExporter(endpoint=f"{otlp_endpoint}/v1/traces")
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        providers[service] = provider
    tracers = {name: provider.get_tracer("tests.trace_ui") for name, provider in providers.items()}
    offering_id = new_id("off")
    with tracers[PORTAL].start_as_current_span(PUBLISH, kind=SpanKind.PRODUCER) as earlier:
        earlier_context = earlier.get_span_context()
    # The earlier span has ended: the submission starts a trace of its own.
    with (
        tracers[PORTAL].start_as_current_span(
            SUBMIT,
            kind=SpanKind.SERVER,
            attributes={"alliance.offering_id": offering_id},
        ) as submission,
        tracers[ASSESSMENT].start_as_current_span(PROCESS, kind=SpanKind.CONSUMER),
        tracers[ISSUANCE].start_as_current_span(
            ISSUE, kind=SpanKind.PRODUCER, links=[Link(earlier_context)]
        ) as issue,
    ):
        issue.set_status(Status(StatusCode.ERROR, "the credential was refused"))
    for provider in providers.values():
        provider.shutdown()
    return Journey(
        trace_id=trace.format_trace_id(submission.get_span_context().trace_id),
        submission_span_id=trace.format_span_id(submission.get_span_context().span_id),
        linked_trace_id=trace.format_trace_id(earlier_context.trace_id),
        offering_id=offering_id,
    )


def facts(page: Element) -> dict[str, str]:
    """The trace header's facts (Trace id, Spans, Depth, ...), term to value."""
    pairs = page.find_all(lambda e: [c.tag for c in e.children] == ["dt", "dd"])
    return {pair.children[0].text: pair.children[1].text for pair in pairs}


def assert_ready(page: Element, url: str) -> None:
    body = page.find_all(lambda e: e.tag == "body")[0]
    alerts = [e.text for e in page.find_all(lambda e: e.has_class("notice-error"))]
    assert body.attrs.get("data-state") == "ready", f"{url} did not render: {alerts}"


async def test_an_operator_finds_a_journey_by_offering_and_reads_it_as_a_waterfall(
    trace_backend: TraceBackend,
) -> None:
    async with httpx.AsyncClient(base_url=trace_backend.url, timeout=5) as client:
        index = (await client.get("/search")).text
    assert "static/app.js" in index, (
        "Jaeger does not serve infra/jaeger/ui: it runs with an older config. Restart the "
        "test profile's Jaeger (kill the pid in .run/test/pids/jaeger.pid, then "
        "`python -m infra.local start --profile test`)."
    )

    journey = export_journey(trace_backend.otlp_endpoint)
    # Spans are searchable a moment after export; the UI is asked only once they are.
    await trace_backend.wait_for_trace(
        PORTAL, {"alliance.offering_id": journey.offering_id}, lambda t: len(t["spans"]) == 3
    )

    # (1) The search page, by the learner-safe id, lists the trace with its three services.
    query = urllib.parse.urlencode(
        {"service": PORTAL, "tags": f"alliance.offering_id={journey.offering_id}"}
    )
    search_url = f"{trace_backend.url}/search?{query}"
    search = rendered(search_url)
    assert_ready(search, search_url)
    cards = search.find_all(lambda e: e.attrs.get("data-trace-id") == journey.trace_id)
    assert len(cards) == 1, f"trace {journey.trace_id} not listed by {search_url}"
    card = cards[0]
    chips = {e.attrs["data-service"]: e.text for e in card.find_all(lambda e: e.has_class("chip"))}
    assert set(chips) == {PORTAL, ASSESSMENT, ISSUANCE}
    assert all(text == f"{service} 1" for service, text in chips.items()), chips
    assert f"{PORTAL}: {SUBMIT}" in card.text
    assert "3 spans" in card.text
    assert "1 error" in card.text
    [title] = card.find_all(lambda e: e.tag == "a")
    assert title.attrs["href"] == f"/trace/{journey.trace_id}"

    # (2) The trace page: the three spans, each under its parent, with their services; the
    # address names the submission's span, so its details are open.
    trace_url = f"{trace_backend.url}/trace/{journey.trace_id}?span={journey.submission_span_id}"
    page = rendered(trace_url)
    assert_ready(page, trace_url)
    rows = page.find_all(lambda e: "data-span-id" in e.attrs)
    shown = [
        (r.attrs["data-depth"], r.attrs["data-service"], r.attrs["data-operation"]) for r in rows
    ]
    assert shown == [(str(depth), *span) for depth, span in enumerate(JOURNEY)]
    for row, (service, operation) in zip(rows, JOURNEY, strict=True):
        assert f"{service} {operation}" in row.text, row.text
    assert [r.has_class("has-error") for r in rows] == [False, False, True]
    [details] = [e for e in page.find_all(lambda e: e.has_class("span-detail")) if e.nodes]
    assert "hidden" not in details.attrs
    assert rows[0].find_all(lambda e: e is details), "the open details are not the submission's"
    attributes = {
        row.children[0].text: row.children[1].text
        for row in details.find_all(lambda e: e.tag == "tr")
    }
    assert attributes["alliance.offering_id"] == journey.offering_id
    assert attributes["service.name"] == PORTAL
    header = facts(page)
    assert header["Trace id"] == journey.trace_id
    assert (header["Spans"], header["Depth"], header["Services"]) == ("3", "3", "3")
    # The grandchild's link to the earlier trace is shown, and leads there.
    linked = page.find_all(lambda e: e.attrs.get("data-linked-trace") == journey.linked_trace_id)
    assert linked, "the link to the earlier trace is not shown"
    assert linked[0].attrs["href"].startswith(f"/trace/{journey.linked_trace_id}?span=")
