"""What the partners and learners of one fault row do: a fresh offering, learners enrolled
in it, and a burst of passing results from the teaching partner's own system. Built from the
benchmark's journeys, one course per learner, so each result has exactly one credential."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import cycle
from typing import Any

import httpx

from bench.journeys import Learner, make_learners, passed, plan_offerings, wait_until_known
from faults.system import Databases, wait_for
from infra.demo import offering_published
from shared.events.catalogue import OfferingSnapshot
from shared.partner_system import PartnerSystem, demo_signer

CONCURRENCY = 32
READY_S = 120.0


@dataclass(frozen=True)
class Answer:
    learner_id: str
    status_code: int
    body: dict[str, Any]


@dataclass
class Population:
    offering: OfferingSnapshot
    learners: list[Learner]
    enrolled: list[dict[str, Any]]
    """the accepted enrolments, as the enrolment service answered them"""

    @property
    def learner_ids(self) -> list[str]:
        return [learner.learner_id for learner in self.learners]


async def open_offering(
    bootstrap: str, enrolment_url: str, run: str, capacity: int
) -> OfferingSnapshot:
    """A new offering of one partner, published by its system and known to enrolment."""
    offering = plan_offerings(run, 1, capacity)[0]
    async with PartnerSystem(bootstrap, demo_signer(offering.partner_id)) as system:
        await system.publish(offering_published(offering))
    await wait_until_known(enrolment_url, [offering])
    return offering


async def enrol(
    enrolment_urls: Sequence[str], learners: Sequence[Learner], offering_id: str
) -> list[Answer]:
    """Every learner asks for a place at once (CONCURRENCY in flight), the requests spread
    over the given enrolment processes in turn."""
    gate = asyncio.Semaphore(CONCURRENCY)
    clients = [httpx.AsyncClient(base_url=url, timeout=60) for url in enrolment_urls]
    try:

        async def one(learner: Learner, client: httpx.AsyncClient) -> Answer:
            async with gate:
                response = await client.post(
                    "/enrolments",
                    json={"offering_id": offering_id},
                    headers={"authorization": f"Bearer {learner.token}"},
                )
            body = response.json() if response.status_code == 201 else {}
            return Answer(learner.learner_id, response.status_code, body)

        return await asyncio.gather(*map(one, learners, cycle(clients)))
    finally:
        for client in clients:
            await client.aclose()


async def populate(
    bootstrap: str, enrolment_url: str, databases: Databases, run: str, count: int
) -> Population:
    """`count` learners accepted in a new offering, their enrolments read by assessment and
    the offering by issuance, so that their results are ready to be credentialed."""
    offering = await open_offering(bootstrap, enrolment_url, run, capacity=count)
    learners = make_learners(run, "f", count, [offering], 1)
    answers = await enrol([enrolment_url], learners, offering.offering_id)
    enrolled = [a.body for a in answers if a.body.get("status") == "accepted"]
    if len(enrolled) != count:
        refused = [f"{a.status_code} {a.body}" for a in answers if a.body not in enrolled]
        raise RuntimeError(f"{count - len(enrolled)} enrolments not accepted: {refused[:3]}")

    async def ready() -> bool:
        return await databases.known_enrolments(
            offering.offering_id
        ) == count and await databases.issuance_knows(offering.offering_id)

    if not await wait_for(ready, READY_S):
        raise TimeoutError(f"assessment or issuance did not learn about {offering.offering_id}")
    return Population(offering, learners, enrolled)


async def submit_results(
    bootstrap: str, population: Population, per_second: float | None = None
) -> None:
    """The teaching partner's system sends a passing result for every enrolment: in one
    burst, or `per_second` when the stream must last (a process joining it mid-way)."""
    offering = population.offering
    async with PartnerSystem(bootstrap, demo_signer(offering.partner_id)) as system:
        if per_second is None:
            await asyncio.gather(
                *(system.publish(passed(e, offering)) for e in population.enrolled)
            )
            return
        for enrolment in population.enrolled:
            await system.publish(passed(enrolment, offering))
            await asyncio.sleep(1 / per_second)
