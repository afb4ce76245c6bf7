"""One causal chain is one trace, across real service processes, read back from Jaeger's API.

A teaching partner's system submits a result; the assessment service checks it and records
`assessment.result_recorded` in its outbox; issuance consumes it and issues the credential;
recognition and enrolment consume the credential; recognition finds a pathway completed and
issuance stacks the credential into the pathway's. All of that is one trace, found the way an
operator finds it: by a learner-safe id (the offering's), never by the learner.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from shared.auth import learner_id_for
from shared.events import EnrolmentAccepted
from shared.events.pathways import PathwayCriteria, PathwayDefined
from shared.events.topics import ENROLMENTS, OFFERINGS, PATHWAY_DEFINITIONS, TOPIC_KEY_FIELD
from shared.partner_system import PartnerSystem, demo_signer, signed_event
from tests.catalogue.helpers import offering_draft, staff_of
from tests.conftest import ServiceFactory
from tests.observability.conftest import TraceBackend
from tests.support.builders import new_offering_id, offering_published, result_submitted
from tests.support.identities import ISSUER, new_id, service_signer, token
from tests.support.kafka import start_at_the_end, wait_until_caught_up
from tests.support.services import ServiceProcess


@dataclass(frozen=True)
class Hop:
    """A span the journey must contain, and the span it must be a child of."""

    service: str
    operation: str
    kind: str
    parent_service: str
    parent_operation: str


class Trace:
    """A trace as Jaeger's API returns it, with spans addressable by service and name."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.spans: list[dict[str, Any]] = raw["spans"]
        self._services = {pid: p["serviceName"] for pid, p in raw["processes"].items()}
        self._by_id = {span["spanID"]: span for span in self.spans}

    def service(self, span: dict[str, Any]) -> str:
        return str(self._services[span["processID"]])

    def named(self, service: str, operation: str) -> list[dict[str, Any]]:
        return [
            s for s in self.spans if self.service(s) == service and s["operationName"] == operation
        ]

    def parent(self, span: dict[str, Any]) -> dict[str, Any] | None:
        parents = [r["spanID"] for r in span["references"] if r["refType"] == "CHILD_OF"]
        return self._by_id.get(parents[0]) if parents else None

    def ancestors(self, span: dict[str, Any]) -> list[tuple[str, str]]:
        found = []
        parent = self.parent(span)
        while parent is not None:
            found.append((self.service(parent), str(parent["operationName"])))
            parent = self.parent(parent)
        return found

    def has_all(self, hops: tuple[Hop, ...]) -> bool:
        """Whether each hop's span and the span it follows have reached the backend: each
        process exports on its own schedule, so the caller's span may come after its
        callee's (the gateway's after enrolment's, seen once in a fresh clone's run)."""
        return all(
            self.named(hop.service, hop.operation)
            and self.named(hop.parent_service, hop.parent_operation)
            for hop in hops
        )


def assert_chain(trace: Trace, hops: tuple[Hop, ...]) -> None:
    """Each hop has a span of its kind descending from the span it follows, and each service
    consumed each record once (no second Kafka instrumentation doubling spans). Producer
    spans may repeat: an attempt rolled back and retried still leaves its span, and an
    event that waited for another is resumed under a `resume` span of its own trace."""
    for hop in hops:
        lineages = [
            trace.ancestors(span)
            for span in trace.named(hop.service, hop.operation)
            if tags(span)["span.kind"] == hop.kind
        ]
        assert any((hop.parent_service, hop.parent_operation) in a for a in lineages), hop
        if hop.kind == "consumer":
            consumed = trace.named(hop.service, hop.operation)
            # Delivery is at least once: a redelivered record is a second, no-op consumption,
            # never a second effect.
            applied = Counter(
                (tags(s)["messaging.consumer.group.name"], tags(s)["messaging.message.id"])
                for s in consumed
                if tags(s).get("alliance.outcome") == "applied"
            )
            # Counted per record and consumer group: a chain may carry several records of
            # one topic (a credential, then the stacked one), and another test session's
            # processes on the same broker consume them under groups of their own.
            assert all(n == 1 for n in applied.values()), (hop, applied)
            # A second instrumentation would nest a consumer span in another.
            for span in consumed:
                parent = trace.parent(span)
                assert parent is None or parent["operationName"] != hop.operation, hop


def tags(span: dict[str, Any]) -> dict[str, Any]:
    return {tag["key"]: tag["value"] for tag in span["tags"]}


def tracing(backend: TraceBackend) -> dict[str, str]:
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": backend.otlp_endpoint,
        # Spans leave every 200 ms rather than every 5 s, so a trace completes soon; the
        # queue holds what a fresh service's replay of the session's events produces.
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "OTEL_BSP_MAX_QUEUE_SIZE": "100000",
    }


async def start_traced(
    service_process: ServiceFactory, backend: TraceBackend, hops: tuple[Hop, ...]
) -> dict[str, ServiceProcess]:
    """Starts the services of `hops`, exporting spans, at the end of the log: replaying the
    session's history would only bury the test's traces among thousands of others."""
    names = sorted({hop.service for hop in hops})
    processes = {name: await service_process(name, **tracing(backend)) for name in names}
    for process in processes.values():
        bootstrap = process.env["KAFKA_BOOTSTRAP_SERVERS"]
        await start_at_the_end(bootstrap, process.env["CONSUMER_NAME"], list(TOPIC_KEY_FIELD))
    await asyncio.gather(*(asyncio.to_thread(p.start) for p in processes.values()))
    return processes


async def caught_up(processes: list[ServiceProcess], *topics: str) -> None:
    """Waits until each service has applied what is on `topics` (the test's own events)."""
    for process in processes:
        group = process.env["CONSUMER_NAME"]
        for topic in topics:
            await wait_until_caught_up(process.env["KAFKA_BOOTSTRAP_SERVERS"], group, topic)


OFFERINGS_SEND = "send alliance.offerings"
OFFERINGS_PROCESS = "process alliance.offerings"
OFFERING_HOPS = (
    # Through the outbox: the relay's producer span continues the request's trace.
    Hop("catalogue", OFFERINGS_SEND, "producer", "catalogue", "POST /offerings"),
    # Through Kafka: the context travels in the record's headers.
    Hop("catalogue", OFFERINGS_PROCESS, "consumer", "catalogue", OFFERINGS_SEND),
    Hop("enrolment", OFFERINGS_PROCESS, "consumer", "catalogue", OFFERINGS_SEND),
    Hop("assessment", OFFERINGS_PROCESS, "consumer", "catalogue", OFFERINGS_SEND),
    Hop("issuance", OFFERINGS_PROCESS, "consumer", "catalogue", OFFERINGS_SEND),
)


async def test_a_published_offering_is_one_trace_across_four_services(
    service_process: ServiceFactory, trace_backend: TraceBackend
) -> None:
    processes = await start_traced(service_process, trace_backend, OFFERING_HOPS)
    catalogue = processes["catalogue"]
    offering_id = new_offering_id("valdemora")

    async with httpx.AsyncClient(base_url=catalogue.url, timeout=10) as api:
        # The partner's own system traces its call, so its trace id is known.
        trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
        published = await api.post(
            "/offerings",
            json=offering_draft("valdemora", offering_id),
            headers={**staff_of("valdemora"), "traceparent": f"00-{trace_id}-{caller_span}-01"},
        )
    assert published.status_code == 202, published.text

    raw = await trace_backend.wait_for_trace_id(trace_id, lambda t: Trace(t).has_all(OFFERING_HOPS))
    trace = Trace(raw)
    assert_chain(trace, OFFERING_HOPS)

    [request] = trace.named("catalogue", "POST /offerings")
    request_tags = tags(request)
    assert request_tags["span.kind"] == "server"
    assert request_tags["http.route"] == "/offerings"
    assert (
        request_tags.get("http.status_code", request_tags.get("http.response.status_code")) == 202
    )
    for send in trace.named("catalogue", OFFERINGS_SEND):
        assert tags(send)["messaging.system"] == "kafka"
        assert tags(send)["messaging.destination.name"] == "alliance.offerings"
        assert tags(send)["messaging.operation.type"] == "send"
    for name in processes:
        [process] = [
            s
            for s in trace.named(name, OFFERINGS_PROCESS)
            if tags(s).get("alliance.outcome") == "applied"
        ]
        attributes = tags(process)
        assert attributes["messaging.system"] == "kafka"
        assert attributes["messaging.operation.type"] == "process"
        assert attributes["messaging.consumer.group.name"] == processes[name].env["CONSUMER_NAME"]
        assert attributes["alliance.offering_id"] == offering_id
        assert attributes["alliance.partner_id"] == "valdemora"
        assert attributes["alliance.event_type"] == "eu.alliance.offering.published.v1"
        # The handler's queries are children of the consumer span, in the same service.
        queries = [
            s
            for s in trace.spans
            if trace.service(s) == name
            and tags(s).get("db.system") == "postgresql"
            and trace.parent(s) is process
        ]
        assert queries, f"no database spans under {name}'s consumer span"

    await metrics_show_the_traffic(catalogue, processes["enrolment"])


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [
        (sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]


def value(found: list[tuple[str, dict[str, str], float]], name: str, **labels: str) -> float:
    matching = [v for n, got, v in found if n == name and labels.items() <= got.items()]
    assert matching, f"no {name} with {labels}"
    return sum(matching)


async def metrics_show_the_traffic(catalogue: ServiceProcess, enrolment: ServiceProcess) -> None:
    published = "eu.alliance.offering.published.v1"
    async with httpx.AsyncClient(timeout=5) as http:
        shown = samples((await http.get(f"{catalogue.url}/metrics")).text)
        requests = {"method": "POST", "route": "/offerings"}
        assert value(shown, "alliance_http_requests_total", **requests, status="202") >= 1
        assert value(shown, "alliance_http_request_seconds_count", **requests) >= 1
        assert value(shown, "alliance_events_published_total", event_type=published) >= 1
        consumer = enrolment.env["CONSUMER_NAME"]
        deadline = time.monotonic() + 10
        while True:  # the lag and backlog gauges are refreshed on a timer
            shown = samples((await http.get(f"{enrolment.url}/metrics")).text)
            if any(
                n == "alliance_consumer_lag" and got["consumer"] == consumer for n, got, _ in shown
            ):
                break
            assert time.monotonic() < deadline, "no consumer lag gauge"
            await asyncio.sleep(0.2)
        lag = value(shown, "alliance_consumer_lag", consumer=consumer, topic="alliance.offerings")
        assert lag >= 0
        assert value(shown, "alliance_outbox_backlog") == 0
        applied = {"consumer": consumer, "event_type": published}
        assert value(shown, "alliance_events_consumed_total", **applied, outcome="applied") >= 1
        assert value(shown, "alliance_event_handling_seconds_count", **applied) >= 1
        ready = (await http.get(f"{enrolment.url}/health/ready")).json()
        assert ready["consumer"] == "ok"
        assert int(ready["assigned_partitions"]) >= 1


RESULT_RECORDED = "eu.alliance.assessment.result_recorded.v1"
RESULTS_PROCESS = "process alliance.results"
CREDENTIALS_SEND = "send alliance.credentials"
CREDENTIALS_PROCESS = "process alliance.credentials"
PATHWAYS_SEND = "send alliance.pathways"
PATHWAYS_PROCESS = "process alliance.pathways"
RESULT_TO_STACKED_CREDENTIAL = (
    # The partner system's submission starts the chain in the assessment service...
    Hop("assessment", "send alliance.results", "producer", "assessment", RESULTS_PROCESS),
    # ...the checked result is consumed by issuance, which issues the credential...
    Hop("issuance", RESULTS_PROCESS, "consumer", "assessment", "send alliance.results"),
    Hop("issuance", CREDENTIALS_SEND, "producer", "issuance", RESULTS_PROCESS),
    # ...which recognition (progress on pathways) and enrolment (prerequisites) consume...
    Hop("recognition", CREDENTIALS_PROCESS, "consumer", "issuance", CREDENTIALS_SEND),
    Hop("enrolment", CREDENTIALS_PROCESS, "consumer", "issuance", CREDENTIALS_SEND),
    # ...recognition finds the pathway complete (progress, completion)...
    Hop("recognition", PATHWAYS_SEND, "producer", "recognition", CREDENTIALS_PROCESS),
    # ...and issuance stacks the component into the pathway's credential.
    Hop("issuance", PATHWAYS_PROCESS, "consumer", "recognition", PATHWAYS_SEND),
    Hop("issuance", CREDENTIALS_SEND, "producer", "issuance", PATHWAYS_PROCESS),
)


async def test_a_result_its_credential_and_the_stacked_credential_are_one_trace(
    service_process: ServiceFactory, trace_backend: TraceBackend
) -> None:
    processes = await start_traced(service_process, trace_backend, RESULT_TO_STACKED_CREDENTIAL)
    bootstrap = processes["assessment"].env["KAFKA_BOOTSTRAP_SERVERS"]

    offering = offering_published("rheinfeld")
    learner = learner_id_for(ISSUER, new_id("learner"))
    enrolment = EnrolmentAccepted(
        enrolment_id=new_id("enr"),
        offering_id=offering.offering_id,
        partner_id="rheinfeld",
        learner_id=learner,
        accepted_at=dt.datetime.now(dt.UTC),
    )
    # The offering alone completes a pathway rheinfeld defines, so the credential is stacked.
    pathway = PathwayDefined(
        pathway_id=new_id("pth"),
        version=1,
        owner_partner_id="rheinfeld",
        title={"en": "Traced pathway (test)"},
        description={"en": "One module, stacked at once."},
        criteria=PathwayCriteria(
            min_ects=offering.workload.ects, required_offering_ids=(offering.offering_id,)
        ),
        defined_at=dt.datetime.now(dt.UTC),
    )
    async with PartnerSystem(bootstrap, demo_signer("rheinfeld")) as rheinfeld:
        await rheinfeld.publish(offering)
        await rheinfeld.publish(pathway)
        await caught_up([processes["recognition"]], PATHWAY_DEFINITIONS)
        async with PartnerSystem(bootstrap, service_signer("enrolment")) as enrolment_service:
            await enrolment_service.send(
                ENROLMENTS, signed_event(enrolment_service.signer, enrolment)
            )
        submitted = result_submitted(
            enrolment.enrolment_id, offering.offering_id, "rheinfeld", learner
        )
        await rheinfeld.publish(submitted)

    # An operator finds the chain by the learner-safe offering id.
    raw = await trace_backend.wait_for_trace(
        "issuance",
        {"alliance.offering_id": offering.offering_id, "alliance.event_type": RESULT_RECORDED},
        lambda t: Trace(t).has_all(RESULT_TO_STACKED_CREDENTIAL),
        timeout_s=120,
    )
    trace = Trace(raw)
    assert_chain(trace, RESULT_TO_STACKED_CREDENTIAL)
    assert {trace.service(s) for s in trace.spans} >= set(processes)
    values = [str(tag["value"]) for span in trace.spans for tag in span["tags"]]
    assert not [v for v in values if v.startswith("lrn-")]


ENROLLING = (
    # The gateway's call to the service continues the learner's request...
    Hop("enrolment", "POST /enrolments", "server", "gateway", "POST /me/enrolments"),
    # ...and the events the decision records go out in it.
    Hop("enrolment", "send alliance.enrolments", "producer", "enrolment", "POST /enrolments"),
)


async def test_a_learner_enrolling_through_the_gateway_is_one_trace(
    service_process: ServiceFactory, trace_backend: TraceBackend
) -> None:
    enrolment = await service_process("enrolment", **tracing(trace_backend))
    gateway = await service_process(
        "gateway", ENROLMENT_URL=enrolment.url, **tracing(trace_backend)
    )
    bootstrap = enrolment.env["KAFKA_BOOTSTRAP_SERVERS"]
    await start_at_the_end(bootstrap, enrolment.env["CONSUMER_NAME"], list(TOPIC_KEY_FIELD))
    await asyncio.gather(*(asyncio.to_thread(p.start) for p in (enrolment, gateway)))
    offering = offering_published("rheinfeld")
    async with PartnerSystem(bootstrap, demo_signer("rheinfeld")) as rheinfeld:
        await rheinfeld.publish(offering)
    await caught_up([enrolment], OFFERINGS)

    trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as api:
        answer = await api.post(
            "/me/enrolments",
            json={"offering_id": offering.offering_id},
            headers={**token(new_id("learner")), "traceparent": f"00-{trace_id}-{caller_span}-01"},
        )
    assert answer.status_code == 201, answer.text

    trace = Trace(
        await trace_backend.wait_for_trace_id(trace_id, lambda t: Trace(t).has_all(ENROLLING))
    )
    assert_chain(trace, ENROLLING)
    # Between the two requests, the gateway's client span of its call.
    [request] = trace.named("enrolment", "POST /enrolments")
    call = trace.parent(request)
    assert call is not None
    assert (trace.service(call), tags(call)["span.kind"]) == ("gateway", "client")
