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
from collections import Counter
from dataclasses import dataclass
from typing import Any

from shared.auth import learner_id_for
from shared.events import EnrolmentAccepted, Outcome, ResultSubmitted
from shared.events.pathways import PathwayCriteria, PathwayDefined
from shared.events.topics import ENROLMENTS, OFFERINGS, PATHWAY_DEFINITIONS
from shared.events.vocabulary import AssessmentType, SupervisionAndIdentityVerification
from shared.partner_system import PartnerSystem, demo_signer, signed_event
from tests.conftest import ServiceFactory
from tests.observability.conftest import TraceBackend
from tests.support.builders import offering_published
from tests.support.identities import ISSUER, new_id, service_signer
from tests.support.kafka import wait_until_caught_up
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
        return all(self.named(hop.service, hop.operation) for hop in hops)


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


async def start_all(processes: list[ServiceProcess]) -> None:
    await asyncio.gather(*(asyncio.to_thread(p.start) for p in processes))


async def caught_up(processes: list[ServiceProcess], *topics: str) -> None:
    """Waits until each service has applied the session's earlier events on `topics`, so
    the traced events are not lost among the replay's spans."""
    for process in processes:
        group = process.env["CONSUMER_NAME"]
        for topic in topics:
            await wait_until_caught_up(process.env["KAFKA_BOOTSTRAP_SERVERS"], group, topic)


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
    names = sorted({hop.service for hop in RESULT_TO_STACKED_CREDENTIAL})
    processes = {name: await service_process(name, **tracing(trace_backend)) for name in names}
    await start_all(list(processes.values()))
    await caught_up(list(processes.values()), OFFERINGS)
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
        await rheinfeld.send(ENROLMENTS, signed_event(service_signer("enrolment"), enrolment))
        submitted = ResultSubmitted(
            result_id=new_id("res"),
            enrolment_id=enrolment.enrolment_id,
            offering_id=offering.offering_id,
            partner_id="rheinfeld",
            learner_id=learner,
            outcome=Outcome.PASSED,
            assessment_type=AssessmentType.PROJECT_WORK,
            supervision_and_identity_verification=(
                SupervisionAndIdentityVerification.SUPERVISED_WITH_IDENTITY_VERIFICATION
            ),
            assessed_on=dt.date.today(),
            submitted_at=dt.datetime.now(dt.UTC),
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
    assert {trace.service(s) for s in trace.spans} >= set(names)
    values = [str(tag["value"]) for span in trace.spans for tag in span["tags"]]
    assert not [v for v in values if v.startswith("lrn-")]
