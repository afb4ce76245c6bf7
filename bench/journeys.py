"""The learners' journeys: what the partners and learners do, and what each journey took.

Partners publish one offering each and a pathway over them (signed partner events); each
learner enrols in `components` offerings at different partners through the gateway; after
the course the teaching partners' systems submit passing results as signed events; the
credentials, and the stacked credential of the completed pathway, are watched on Kafka.
Learners start at a steady rate (an open load: the system must keep up, or queues grow).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from itertools import cycle
from typing import Any

import httpx

from bench.observe import Seen
from infra.demo import offering_published, read_offerings
from shared.auth import learner_id_for
from shared.dev_idp import TokenRequest, issue_token
from shared.events import Outcome, ResultSubmitted
from shared.events.catalogue import OfferingSnapshot
from shared.events.pathways import PathwayCriteria, PathwayDefined
from shared.http_client import pooled_transport
from shared.partner_system import PartnerSystem, demo_signer
from shared.registry import AllianceRegistry
from shared.settings import ServiceSettings

ISSUER = ServiceSettings(service_name="gateway").oidc_issuer
CREDENTIAL_ISSUED = "eu.alliance.credential.issued.v1"
ENROLMENT_ACCEPTED = "eu.alliance.enrolment.accepted.v1"
RESULT_RECORDED = "eu.alliance.assessment.result_recorded.v1"
PATHWAY_COMPLETED = "eu.alliance.pathway.completed.v1"


@dataclass(frozen=True)
class Load:
    learners: int = 150
    partners: int = 3
    components: int = 2
    rate: float = 3.0
    course_s: float = 1.0
    concurrency: int = 64

    def __post_init__(self) -> None:
        if not 2 <= self.components <= self.partners <= 5:
            raise ValueError("2 <= components <= partners <= 5 (the registry has five)")


@dataclass(frozen=True)
class Learner:
    subject: str
    learner_id: str
    token: str
    offering_ids: tuple[str, ...]


def plan_offerings(run: str, partners: int, capacity: int) -> list[OfferingSnapshot]:
    """One offering per partner, copied from that partner's first demo offering that it
    awards alone, with a fresh id and room for every learner."""
    partner_ids = list(AllianceRegistry.load().partners)[:partners]
    templates = read_offerings()
    planned = []
    for partner_id in partner_ids:
        template = next(
            o
            for o in templates
            if o.partner_id == partner_id and len(o.awarding_bodies) == 1 and not o.prerequisites
        )
        planned.append(
            template.model_copy(
                update={"offering_id": f"off-bench-{run}-{partner_id}", "capacity": capacity}
            )
        )
    return planned


def choose(index: int, offerings: Sequence[OfferingSnapshot], components: int) -> tuple[str, ...]:
    """The offerings learner `index` takes: `components` consecutive partners, rotating."""
    return tuple(
        offerings[(index + step) % len(offerings)].offering_id for step in range(components)
    )


def pathway(run: str, offerings: Sequence[OfferingSnapshot], components: int) -> PathwayDefined:
    """Completed by any `components` of the offerings, from at least two partners."""
    smallest = sorted(o.workload.ects for o in offerings)[:components]
    return PathwayDefined(
        pathway_id=f"pth-bench-{run}",
        version=1,
        owner_partner_id=offerings[0].partner_id,
        title={"en": f"Benchmark pathway {run}"},
        description={"en": "Any of the benchmark's offerings, from two partners or more."},
        criteria=PathwayCriteria(
            min_ects=sum(smallest),
            min_partners=2,
            eligible_offering_ids=tuple(o.offering_id for o in offerings),
        ),
        defined_at=dt.datetime.now(dt.UTC),
    )


def make_learners(
    run: str, prefix: str, count: int, offerings: Sequence[OfferingSnapshot], components: int
) -> list[Learner]:
    learners = []
    for index in range(count):
        subject = f"bench-{run}-{prefix}{index}"
        learners.append(
            Learner(
                subject=subject,
                learner_id=learner_id_for(ISSUER, subject),
                token=issue_token(ISSUER, TokenRequest(subject=subject, role="learner")),
                offering_ids=choose(index, offerings, components),
            )
        )
    return learners


async def wait_until_known(
    enrolment_url: str, offerings: Sequence[OfferingSnapshot], limit_s: float = 60
) -> None:
    """Until the enrolment service has every offering (else learners would be refused
    an offering it has not read yet), asking as each offering's teaching partner."""
    deadline = time.monotonic() + limit_s
    async with httpx.AsyncClient(base_url=enrolment_url, timeout=10) as client:
        for offering in offerings:
            partner = offering.partner_id
            request = TokenRequest(
                subject=f"{partner}-sis", role="partner_system", partner_id=partner
            )
            headers = {"authorization": f"Bearer {issue_token(ISSUER, request)}"}
            path = f"/offerings/{offering.offering_id}/enrolments"
            while (await client.get(path, headers=headers)).status_code == 404:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"enrolment does not know {offering.offering_id}")
                await asyncio.sleep(0.2)


def passed(enrolment: dict[str, Any], offering: OfferingSnapshot) -> ResultSubmitted:
    return ResultSubmitted(
        result_id=f"res-{uuid.uuid4().hex[:16]}",
        enrolment_id=enrolment["enrolment_id"],
        offering_id=offering.offering_id,
        partner_id=offering.partner_id,
        learner_id=enrolment["learner_id"],
        outcome=Outcome.PASSED,
        assessment_type=offering.assessment_types[0],
        supervision_and_identity_verification=offering.supervision_and_identity_verification,
        assessed_on=dt.date.today(),
        submitted_at=dt.datetime.now(dt.UTC),
    )


@dataclass
class Tally:
    """What the driver did and saw during one phase (times in seconds since the epoch)."""

    started: float = 0.0
    enrolled: dict[str, tuple[str, str]] = field(default_factory=dict)
    """enrolment id -> (learner id, offering id), for every accepted enrolment"""
    enrolment_latencies: list[tuple[float, float]] = field(default_factory=list)
    """(moment answered, ms) of each accepted enrolment"""
    refused: list[str] = field(default_factory=list)
    abandoned: set[str] = field(default_factory=set)
    """learners whose enrolment was refused or failed: their journey ends there"""
    submitted: dict[tuple[str, str], float] = field(default_factory=dict)
    """(learner id, offering id) -> moment its passing result was submitted"""
    results: dict[str, tuple[str, str]] = field(default_factory=dict)
    """result id -> (learner id, offering id)"""
    learners: set[str] = field(default_factory=set)
    completed: dict[str, float] = field(default_factory=dict)
    """learner id -> moment its stacked credential was issued"""
    load_ended: float = 0.0


class Driver:
    """Partners and learners of one run; `observe` is fed every event the observer keeps."""

    def __init__(
        self, bootstrap_servers: str, gateways: Sequence[str], load: Load, warm_up_learners: int
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.gateways = list(gateways)
        self.load = load
        self.run = uuid.uuid4().hex[:8]
        # Room for every learner of the run and of its warm-up: nobody is waitlisted.
        seats = load.learners + warm_up_learners + 100
        self.offerings = plan_offerings(self.run, load.partners, capacity=seats)
        self.by_id = {o.offering_id: o for o in self.offerings}
        self.pathway = pathway(self.run, self.offerings, load.components)
        self.tally = Tally()
        self._progress = asyncio.Event()
        self._stack = AsyncExitStack()
        self._systems: dict[str, PartnerSystem] = {}
        self._clients: list[httpx.AsyncClient] = []

    async def __aenter__(self) -> Driver:
        for offering in self.offerings:
            system = PartnerSystem(self.bootstrap_servers, demo_signer(offering.partner_id))
            self._systems[offering.partner_id] = await self._stack.enter_async_context(system)
        for url in self.gateways:
            # The learners' requests cost the driver, on the same cores, less CPU this way.
            transport = pooled_transport(max_connections=self.load.concurrency)
            client = httpx.AsyncClient(base_url=url, timeout=60, transport=transport)
            self._clients.append(await self._stack.enter_async_context(client))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    def observe(self, seen: Seen) -> None:
        """Called by the observer for each kept event: notes completed journeys."""
        payload = seen.payload
        if seen.event_type == CREDENTIAL_ISSUED and payload.get("pathway_id") == (
            self.pathway.pathway_id
        ):
            learner = payload["learner_id"]
            if learner in self.tally.learners and learner not in self.tally.completed:
                self.tally.completed[learner] = seen.moment
                self._progress.set()

    async def publish_alliance(self) -> None:
        """The partners' offerings and the pathway, as their own systems publish them."""
        for offering in self.offerings:
            await self._systems[offering.partner_id].publish(offering_published(offering))
        await self._systems[self.pathway.owner_partner_id].publish(self.pathway)

    async def run_learners(self, learners: Sequence[Learner], tally: Tally) -> None:
        """Starts `rate` learners a second, each on its own journey; returns when all have
        enrolled and their results are submitted."""
        self.tally = tally
        tally.learners.update(learner.learner_id for learner in learners)
        tally.started = time.time()
        gate = asyncio.Semaphore(self.load.concurrency)
        clients: Iterator[httpx.AsyncClient] = cycle(self._clients)
        tasks = []
        for index, learner in enumerate(learners):
            delay = tally.started + index / self.load.rate - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self._journey(learner, next(clients), gate, tally)))
        await asyncio.gather(*tasks)
        tally.load_ended = time.time()

    async def _journey(
        self, learner: Learner, client: httpx.AsyncClient, gate: asyncio.Semaphore, tally: Tally
    ) -> None:
        headers = {"authorization": f"Bearer {learner.token}"}
        enrolments = []
        for offering_id in learner.offering_ids:
            async with gate:
                asked = time.time()
                try:
                    answer = await client.post(
                        "/me/enrolments", json={"offering_id": offering_id}, headers=headers
                    )
                except httpx.TransportError as exc:
                    # A connection the gateway closed as it was reused: the journey is
                    # counted as refused, with its cause, rather than ending the run.
                    tally.refused.append(f"{offering_id}: {type(exc).__name__}")
                    tally.abandoned.add(learner.learner_id)
                    self._progress.set()
                    return
            body = answer.json() if answer.status_code == 201 else {}
            if body.get("status") != "accepted":
                tally.refused.append(f"{offering_id}: {answer.status_code} {answer.text[:200]}")
                tally.abandoned.add(learner.learner_id)
                self._progress.set()
                return
            answered = time.time()
            tally.enrolment_latencies.append((answered, (answered - asked) * 1000))
            tally.enrolled[body["enrolment_id"]] = (learner.learner_id, offering_id)
            enrolments.append(body)
        await asyncio.sleep(self.load.course_s)
        for enrolment in enrolments:
            offering = self.by_id[enrolment["offering_id"]]
            result = passed(enrolment, offering)
            tally.submitted[(learner.learner_id, offering.offering_id)] = time.time()
            tally.results[result.result_id] = (learner.learner_id, offering.offering_id)
            await self._systems[offering.partner_id].publish(result)

    async def drain(self, tally: Tally, stall_s: float, limit_s: float) -> bool:
        """Waits until every learner's stacked credential is seen; False when nothing new
        arrived for `stall_s` seconds or `limit_s` passed."""
        deadline = time.monotonic() + limit_s
        while len(tally.completed) < len(tally.learners - tally.abandoned):
            self._progress.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._progress.wait(), timeout=min(stall_s, remaining))
            except TimeoutError:
                return False
        return True
